import { z } from 'zod';

/**
 * Every setting the apps read, validated once before bootstrap. A missing or malformed
 * variable fails start-up with its name, never later at first use.
 */

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);

const kafkaSchema = z.object({
  /** Bootstrap brokers, comma separated host:port. */
  KAFKA_BROKERS: csv.pipe(z.array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port')).min(1)),
  /** Client id prefix the brokers see (quotas, broker logs). */
  KAFKA_CLIENT_ID: z.string().min(1).default('settlement'),
  /** The transactions topic ingest reads and replays re-read. */
  KAFKA_TOPIC: z.string().min(1).default('transactions'),
  /** Where dead letters are published with their original bytes. */
  KAFKA_DLQ_TOPIC: z.string().min(1).default('transactions.dlq'),
  /** Where each outcome is published as JSON. */
  KAFKA_OUTCOME_TOPIC: z.string().min(1).default('settlements'),
  /** The ingest consumer group (the admin reads its lag and offsets). */
  KAFKA_GROUP_ID: z.string().min(1).default('settlement-ingest'),
  /** Completed settlement cycles are announced here (docs/settlement-cycles.md). */
  KAFKA_CYCLE_TOPIC: z.string().min(1).default('settlement-cycles'),
  /** TLS to the brokers (true on Amazon MSK). */
  KAFKA_SSL: bool.default(false),
  /** none | plain | scram-sha-256 | scram-sha-512 | aws-msk-iam (SASL OAUTHBEARER with IAM). */
  KAFKA_SASL_MECHANISM: z
    .enum(['none', 'plain', 'scram-sha-256', 'scram-sha-512', 'aws-msk-iam'])
    .default('none'),
  /** SASL user (plain and scram mechanisms). */
  KAFKA_SASL_USERNAME: z.string().optional(),
  /** SASL password (plain and scram mechanisms). */
  KAFKA_SASL_PASSWORD: z.string().optional(),
  /** A compressed record batch expanding beyond this is refused (decompression bombs). */
  KAFKA_MAX_DECOMPRESSED_BATCH_BYTES: positiveInt.default(64 * 1024 * 1024),
  /** PLAIN/SCRAM without TLS sends credentials readable on the wire: only for a local broker. */
  KAFKA_SASL_ALLOW_PLAINTEXT: bool.default(false),
  /** AWS region of the MSK cluster (aws-msk-iam). */
  AWS_REGION: z.string().optional(),
});

const temporalSchema = z.object({
  /** Temporal frontend, host:port. */
  TEMPORAL_ADDRESS: z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port'),
  /** Temporal namespace of every workflow. */
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** Task queue the worker polls and ingest starts workflows on. */
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('settlement'),
  /** TLS to the Temporal frontend (Temporal Cloud: true). */
  TEMPORAL_TLS: bool.default(false),
  /** Temporal Cloud API key. */
  TEMPORAL_API_KEY: z.string().optional(),
  /**
   * mTLS: the client certificate and key, and the CA that signed the server's certificate,
   * as PEM text or as file paths (mounted Secrets); any of them turns TLS on.
   */
  TEMPORAL_TLS_CERT: z.string().optional(),
  TEMPORAL_TLS_KEY: z.string().optional(),
  TEMPORAL_TLS_CA: z.string().optional(),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_TLS_CA_PATH: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
});

const databaseSchema = z.object({
  /**
   * PostgreSQL connection string: each app's own login role (settlement_ingest_app,
   * settlement_worker_app, settlement_admin_app), the owner only for the migrate step.
   */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'expected postgres://user@host:port/db'),
  /** Connections per process in the pool. */
  DATABASE_POOL_MAX: positiveInt.default(10),
});

const appPassword = z
  .string()
  .min(16, 'must be at least 16 characters')
  .regex(/^[!-~]+$/, 'must be printable ASCII without spaces')
  .optional();
/**
 * Read by the migrate step only (`npm run db:migrate`, the migrate image): it runs as the owner
 * and then creates each app's login role, a member of the app's group role (docs/security.md).
 */
const loginsSchema = z.object({
  /**
   * Password the migrate step sets on ingest's login role `settlement_ingest_app`; unset keeps
   * the current one (none locally, where PostgreSQL trusts local connections).
   */
  DATABASE_INGEST_PASSWORD: appPassword,
  /** Password set on the worker's login role `settlement_worker_app`; unset keeps the current one. */
  DATABASE_WORKER_PASSWORD: appPassword,
  /** Password set on the admin's login role `settlement_admin_app`; unset keeps the current one. */
  DATABASE_ADMIN_PASSWORD: appPassword,
});

const commonSchema = z.object({
  /** `json` (one object per line, for machines) or `pretty` (pino-pretty, for local runs). */
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  /** Minimum level of the JSON log lines on stdout. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * OTLP/HTTP endpoint of a trace collector, e.g. `http://otel-collector:4318` (spans go to
   * `<endpoint>/v1/traces`); unset: tracing off (docs/operations.md, Tracing).
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url('must be a URL').optional(),
});

const ingestSchema = z.object({
  /** Port of ingest's health and /metrics. */
  INGEST_HTTP_PORT: port.default(3001),
  // Defaults measured with `npm run bench` (docs/benchmarks.md).
  BATCH_MAX_SIZE: positiveInt.max(20_000).default(5000),
  /** A micro-batch closes this long after its first message at the latest. */
  BATCH_MAX_WAIT_MS: positiveInt.default(200),
  // Batches of one partition apply in order: the next starts when the running one is done. A
  // second in flight only waits in an activity slot, and retries after 1 s (docs/ingest.md).
  MAX_IN_FLIGHT_BATCHES_PER_PARTITION: positiveInt.default(1),
  /** Batches started and not yet settled, per ingest instance, before it pauses. */
  MAX_IN_FLIGHT_BATCHES: positiveInt.default(64),
  /**
   * Where a batch's messages travel: staged in PostgreSQL with a reference in the workflow
   * input (`database`, measured faster: docs/benchmarks.md), or inline in the input.
   */
  BATCH_PAYLOAD: z.enum(['database', 'inline']).default('database'),
  /** Closes a batch early to bound memory and the staged row (inline batches: at most 768 KiB,
   *  well under Temporal's payload limit). */
  INGEST_BATCH_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(4096)
    .default(4 * 1024 * 1024),
  /** How long the group waits for a silent (crashed) member before moving its partitions. */
  INGEST_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(6000),
  /** How often ingest reports its consumer lag gauge. */
  INGEST_LAG_INTERVAL_MS: positiveInt.default(5000),
  /** How often ingest reads the durable pause state. */
  INGEST_CONTROL_POLL_MS: positiveInt.default(2000),
  /** Fetch size per partition (kafkajs maxBytesPerPartition). */
  INGEST_MAX_BYTES_PER_PARTITION: positiveInt.default(2 * 1024 * 1024),
  /** Fetch size per request (kafkajs maxBytes). */
  INGEST_MAX_BYTES: positiveInt.default(10 * 1024 * 1024),
});

const workerSchema = z.object({
  /** Port of the worker's health and /metrics (its own and the Temporal SDK's). */
  WORKER_HTTP_PORT: port.default(3002),
  /** Activity slots per worker (settle transactions in parallel). */
  WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(8),
  /** Workflow task slots per worker. */
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt.default(16),
});

const adminSchema = z.object({
  /** Port of the admin HTTP API. */
  ADMIN_PORT: port.default(3000),
  /** The operator token (docs/contract.md); always accepted when set. */
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Further tokens, comma separated, for rotation. */
  ADMIN_OPERATOR_TOKENS: csv.default([]),
  /** Read-only tokens (GET only), comma separated `name:token`. */
  ADMIN_READONLY_TOKENS: csv.default([]),
  /** One budget for all replays together (messages read per second, summed over replays). */
  REPLAY_MAX_MESSAGES_PER_SECOND: positiveInt.default(5000),
  /** Topics a replay may read; empty means KAFKA_TOPIC only (never outcomes, DLQ or internals). */
  REPLAY_SOURCE_TOPICS: csv.default([]),
  /** Replays RUNNING at once; another start answers 409 until one finishes or is cancelled. */
  REPLAY_MAX_RUNNING: positiveInt.default(2),
  /** Requests per token per minute on the admin API (429 beyond). */
  ADMIN_RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
  /**
   * A file of further tokens, re-read on change and on SIGHUP (rotation without a restart):
   * one `operator name:token` or `readonly name:token` per line.
   */
  ADMIN_TOKENS_FILE: z.string().optional(),
  /** Bulk dead-letter re-drives publish at most this many messages per second. */
  REDRIVE_MAX_PER_SECOND: positiveInt.default(200),
  /** How often the admin app publishes resubmissions a crash left unpublished (ms). */
  RESUBMIT_RELAY_INTERVAL_MS: positiveInt.default(5000),
  /** The console's links into the Temporal Web UI. */
  TEMPORAL_WEB_URL: z.string().url('must be a URL').default('http://127.0.0.1:8233'),
});

const CRON_FIELD = /^[0-9A-Za-z*,/?#LW-]+$/;
/** `off`, `@every <duration>` (e.g. `@every 1m`), `@daily`/`@hourly`... or 5 to 7 cron fields. */
const cycleCron = z
  .string()
  .trim()
  .refine((v) => {
    if (v === 'off' || /^@every \d+[smhd](\/\d+[smhd])?$/.test(v)) return true;
    if (/^@(yearly|monthly|weekly|daily|hourly)$/.test(v)) return true;
    const fields = v.split(/\s+/);
    return fields.length >= 5 && fields.length <= 7 && fields.every((f) => CRON_FIELD.test(f));
  }, "expected 'off', '@every <n>s|m|h|d', '@daily' or a cron expression of 5 to 7 fields");
const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'expected an IANA time zone such as UTC or Europe/Berlin');

const cyclesSchema = z.object({
  /**
   * When settlement cycles cut off. `off` (the default, so that a process started without it,
   * such as a test, leaves no Schedule behind) creates none and removes an existing one; the
   * local scripts and manifests set a short interval, the EKS overlay a daily cut-off.
   */
  SETTLEMENT_CYCLE_CRON: cycleCron.default('off'),
  /** The time zone the cron expression is read in. */
  SETTLEMENT_CYCLE_TIMEZONE: timeZone.default('UTC'),
  /** How long a cycle waits for the batches read before its cut-off to settle. */
  SETTLEMENT_CYCLE_GRACE_SECONDS: positiveInt.default(300),
});

export const defaults: Record<string, string> = {
  /** Bootstrap brokers, comma separated host:port. */
  KAFKA_BROKERS: '127.0.0.1:9092',
  /** Temporal frontend, host:port. */
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  /** PostgreSQL connection string of the ledger. */
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/settlement',
};

export const schemas = {
  common: commonSchema,
  kafka: kafkaSchema,
  temporal: temporalSchema,
  database: databaseSchema,
  logins: loginsSchema,
  ingest: ingestSchema,
  worker: workerSchema,
  admin: adminSchema,
  cycles: cyclesSchema,
} as const;

export type CommonConfig = z.infer<typeof commonSchema>;
export type KafkaConfig = z.infer<typeof kafkaSchema>;
export type TemporalConfig = z.infer<typeof temporalSchema>;
export type DatabaseConfig = z.infer<typeof databaseSchema>;
export type LoginsConfig = z.infer<typeof loginsSchema>;
export type IngestConfig = z.infer<typeof ingestSchema>;
export type WorkerConfig = z.infer<typeof workerSchema>;
export type AdminConfig = z.infer<typeof adminSchema>;
export type CyclesConfig = z.infer<typeof cyclesSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Part = keyof typeof schemas;
type ConfigOf<P extends Part> = z.infer<(typeof schemas)[P]>;
type Merge<P extends Part[]> = P extends [infer H extends Part, ...infer T extends Part[]]
  ? ConfigOf<H> & Merge<T>
  : unknown;

/**
 * Validates the given parts of the environment into one typed, frozen object. Every
 * problem is reported at once, each with the variable's name.
 */
export function loadConfig<P extends Part[]>(
  parts: [...P],
  env: NodeJS.ProcessEnv = process.env,
): Readonly<CommonConfig & Merge<P>> {
  const source: Record<string, string | undefined> = { ...defaults };
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') source[key] = value;
  }
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const part of ['common', ...parts] as Part[]) {
    const result = schemas[part].safeParse(source);
    if (result.success) {
      Object.assign(out, result.data);
    } else {
      for (const issue of result.error.issues) {
        const name = String(issue.path[0]);
        const shown = source[name] === undefined ? 'is missing' : `is invalid: ${issue.message}`;
        problems.push(`${name} ${shown}`);
      }
    }
  }
  if (out.KAFKA_SASL_MECHANISM === 'aws-msk-iam' && !out.AWS_REGION) {
    problems.push('AWS_REGION is missing (required when KAFKA_SASL_MECHANISM=aws-msk-iam)');
  }
  const needsCredentials = ['plain', 'scram-sha-256', 'scram-sha-512'];
  if (needsCredentials.includes(out.KAFKA_SASL_MECHANISM as string)) {
    if (!out.KAFKA_SASL_USERNAME) problems.push('KAFKA_SASL_USERNAME is missing');
    if (!out.KAFKA_SASL_PASSWORD) problems.push('KAFKA_SASL_PASSWORD is missing');
    if (!out.KAFKA_SSL && !out.KAFKA_SASL_ALLOW_PLAINTEXT) {
      problems.push(
        `KAFKA_SSL is false with KAFKA_SASL_MECHANISM=${String(out.KAFKA_SASL_MECHANISM)}: the credentials would cross the network in clear (set KAFKA_SSL=true; KAFKA_SASL_ALLOW_PLAINTEXT=true only for a local broker)`,
      );
    }
  }
  const hasCert = Boolean(out.TEMPORAL_TLS_CERT || out.TEMPORAL_TLS_CERT_PATH);
  const hasKey = Boolean(out.TEMPORAL_TLS_KEY || out.TEMPORAL_TLS_KEY_PATH);
  if (hasCert !== hasKey) {
    problems.push(
      `${hasCert ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT'} is missing (mTLS needs both the client certificate and its key, as TEMPORAL_TLS_CERT/KEY or TEMPORAL_TLS_CERT_PATH/KEY_PATH)`,
    );
  }
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return Object.freeze(out) as Readonly<CommonConfig & Merge<P>>;
}

/** All variable names the apps understand; deployment checks compare manifests against it. */
export function knownVariables(): string[] {
  return Object.values(schemas).flatMap((s) => Object.keys(s.shape));
}

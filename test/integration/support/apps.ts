import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { sql, type SQL } from 'drizzle-orm';
import { Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import { appDatabaseUrl, ensureAppLogins, type Database } from '@settlement/db';
import { APP_NATIVE_ENV, appNodeOptions } from '../../../scripts/apps-runner';
import { createTestDatabase, type TestDatabase } from './database';
import { openAccounts, txValue } from './fixtures';
import { createTopics, testKafka } from './kafka';
import { uniqueTaskQueue } from './temporal';

/**
 * The BUILT apps (npm run build) as child processes, each with the test's own env (topics,
 * database, task queue), so an end-to-end test runs exactly what production runs.
 */
export const ROOT = path.resolve(__dirname, '../../..');
export const LOG_DIR = path.join(os.tmpdir(), 'settlement-test-logs');

export interface RunningApp {
  name: string;
  child: ChildProcess;
  port: number;
  /** The connection string the app was given (its own login role), if any. */
  databaseUrl?: string;
  /** SIGTERM and wait for the exit (SIGKILL after the grace time). */
  stop(graceMs?: number): Promise<number | null>;
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

// Below the kernel's ephemeral range (32768+ here): an outgoing connection of any process may
// hold a port up there, and an app that cannot listen fails its test with EADDRINUSE.
const PORTS = { from: 20000, to: 32000 };
let nextPort = PORTS.from + Math.floor(Math.random() * (PORTS.to - PORTS.from));

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** A port that was free a moment ago (another test file may use the same range). */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = nextPort;
    nextPort = nextPort + 1 >= PORTS.to ? PORTS.from : nextPort + 1;
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${PORTS.from}-${PORTS.to}`);
}

let logins: Promise<void> | undefined;

/**
 * The app's own least-privilege login at the test's database (as production connects,
 * docs/security.md); the tests themselves keep the owner's URL. Login roles are cluster-wide:
 * made once per test process.
 */
export async function appLoginUrl(ownerUrl: string, name: 'ingest' | 'worker' | 'admin') {
  logins ??= ensureAppLogins(ownerUrl);
  await logins;
  return appDatabaseUrl(ownerUrl, name);
}

export async function startApp(
  name: 'ingest' | 'worker' | 'admin',
  env: Record<string, string>,
  options: { label?: string; readyTimeoutMs?: number } = {},
): Promise<RunningApp> {
  const port = await freePort();
  const portVar = { ingest: 'INGEST_HTTP_PORT', worker: 'WORKER_HTTP_PORT', admin: 'ADMIN_PORT' }[
    name
  ];
  mkdirSync(LOG_DIR, { recursive: true });
  const log = createWriteStream(
    path.join(LOG_DIR, `${options.label ?? 'app'}-${name}-${port}.log`),
  );
  const database = env.DATABASE_URL
    ? { DATABASE_URL: await appLoginUrl(env.DATABASE_URL, name) }
    : {};
  // As deployed: the same heap caps, V8 flags and allocator setting as the scripts and pods.
  const appEnv = { ...process.env, LOG_LEVEL: 'info', ...env, ...database, [portVar]: String(port) };
  const main = path.join(ROOT, 'dist/apps', name, 'src/main.js');
  const child = spawn(process.execPath, [...appNodeOptions(name, appEnv), main], {
    cwd: ROOT,
    env: { ...APP_NATIVE_ENV, ...appEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const app: RunningApp = {
    name,
    child,
    port,
    databaseUrl: database.DATABASE_URL,
    exited,
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  await waitReady(app, options.readyTimeoutMs ?? 60_000);
  return app;
}

async function waitReady(app: RunningApp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (app.child.exitCode !== null)
      throw new Error(`${app.name} exited with ${app.child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${app.port}/health/ready`);
      if (res.ok) return;
      last = await res.text();
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await app.kill();
  throw new Error(`${app.name} not ready within ${timeoutMs} ms: ${last}`);
}

/** Env for the apps of one test: its database, topics, group and task queue. */
export function appEnv(opts: {
  databaseUrl: string;
  topics: { transactions: string; outcomes: string; deadLetters: string };
  taskQueue: string;
  groupId: string;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    DATABASE_URL: opts.databaseUrl,
    KAFKA_TOPIC: opts.topics.transactions,
    KAFKA_OUTCOME_TOPIC: opts.topics.outcomes,
    KAFKA_DLQ_TOPIC: opts.topics.deadLetters,
    KAFKA_GROUP_ID: opts.groupId,
    TEMPORAL_TASK_QUEUE: opts.taskQueue,
    ...opts.extra,
  };
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Invariants of DESIGN.md checked on the ledger after a run. */
export async function ledgerViolations(db: Database): Promise<Record<string, unknown[]>> {
  const q = async <T extends Record<string, unknown>>(s: SQL) => [...(await db.execute<T>(s))];
  return {
    nonZeroCurrencies: await q(
      sql`select currency, sum(amount)::text as total from postings group by currency having sum(amount) <> 0`,
    ),
    balanceDrift: await q(sql`
      select a.id from accounts a
      left join (select account_id, sum(amount) as total from postings group by account_id) p on p.account_id = a.id
      where a.balance <> coalesce(p.total, 0)`),
    belowLimit: await q(sql`select id from accounts where balance < -overdraft_limit`),
    postingsPerOutcome: await q(sql`
      select t.id from transactions t left join postings p on p.transaction_id = t.id
      group by t.id, t.status
      having (t.status = 'SETTLED' and count(p.id) <> 2) or (t.status = 'REJECTED' and count(p.id) <> 0)`),
    outOfOrder: await q(sql`
      select a.id as earlier, b.id as later from transactions a
      join transactions b on a.debit_account = b.debit_account and a.topic = b.topic
        and a.partition = b.partition and a."offset" < b."offset" and a.settled_at > b.settled_at
      limit 10`),
  };
}

/**
 * Everything a test of the whole pipeline needs, on its own: a fresh database, topics of its
 * own with `partitions` partitions, a producer, the apps' environment (own task queue and
 * consumer group) and a built worker already running. `close()` undoes it all.
 */
export interface Pipeline {
  db: TestDatabase;
  kafka: Kafka;
  admin: Admin;
  producer: Producer;
  topics: Awaited<ReturnType<typeof createTopics>>;
  env: Record<string, string>;
  apps: RunningApp[];
  /** Starts a built app with the pipeline's environment and stops it on close(). */
  start(name: Parameters<typeof startApp>[0], label?: string): Promise<RunningApp>;
  close(): Promise<void>;
}

export async function openPipeline(
  label: string,
  options: { partitions: number; extra?: Record<string, string> },
): Promise<Pipeline> {
  const db = await createTestDatabase(label);
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  const topics = await createTopics(admin, label.replace(/_/g, '-'), options.partitions);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const env = appEnv({
    databaseUrl: db.url,
    topics,
    taskQueue: uniqueTaskQueue(label),
    groupId: `it-${label}-${Date.now()}`,
    extra: options.extra,
  });
  const apps: RunningApp[] = [];
  const start = async (name: Parameters<typeof startApp>[0], appLabel = label) => {
    const app = await startApp(name, env, { label: appLabel });
    apps.push(app);
    return app;
  };
  await start('worker');
  return {
    db,
    kafka,
    admin,
    producer,
    topics,
    env,
    apps,
    start,
    async close() {
      await Promise.all(apps.map((a) => a.stop()));
      await producer.disconnect();
      await admin.disconnect();
      await db.drop();
    },
  };
}

/** Where the stack listens, as the environment says (defaults otherwise), for in-process apps. */
export function stackAddresses(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['KAFKA_BROKERS', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE']) {
    const value = process.env[name];
    if (value) out[name] = value;
  }
  return out;
}

/**
 * Opens two accounts named after `label` and produces one transfer between them to the
 * pipeline's topic; answers the transaction id (the caller waits for its outcome).
 */
export async function produceTransfer(pipeline: Pipeline, label: string): Promise<string> {
  const run = randomBytes(3).toString('hex');
  const [funder, shop] = [`${label}-${run}-funder`, `${label}-${run}-shop`];
  await openAccounts(pipeline.db.db, [{ id: funder, overdraftLimit: 1_000_000n }, { id: shop }]);
  const id = `${label}-${run}-tx`;
  await pipeline.producer.send({
    topic: pipeline.topics.transactions,
    acks: -1,
    messages: [
      { key: funder, value: txValue({ id, debit: funder, credit: shop, amount: '1250' }) },
    ],
  });
  return id;
}

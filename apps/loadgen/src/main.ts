import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '@settlement/config';
import { createDatabase } from '@settlement/db';
import { createKafka, KeyHashPartitioner } from '@settlement/kafka';
import { createLogger } from '@settlement/observability';
import {
  DEFAULT_MIX,
  LoadGenerator,
  openAccounts,
  publish,
  resilient,
  sendAll,
  waitForIds,
  waitForOutcomes,
  type Mix,
} from '@settlement/loadgen';

const HELP = `loadgen: publishes synthetic transactions to Kafka with predictable outcomes

  node dist/apps/loadgen/src/main.js [options]      (or: npm run loadgen -- [options])

  --accounts N        accounts to open and fund (default 1000)
  --count N           messages to publish (default 10000)
  --duration S        stop after S seconds instead (with --count: whichever first)
  --rate R            messages per second (default 0 = as fast as possible)
  --invalid F         share of invalid messages, split over malformed/schema/too-large
  --malformed F --schema F --too-large F --duplicates F --conflicts F
  --insufficient F --unknown F       shares of each kind (defaults: ${JSON.stringify(DEFAULT_MIX)})
  --run-id ID         prefix of every id and account (default: random)
  --seed N            random seed (default 42)
  --topic T           default KAFKA_TOPIC
  --wait S            after publishing, wait up to S seconds for every outcome and reconcile
  --no-open           do not open or fund accounts (reuse a --run-id)
  --outage-wait S     wait out PostgreSQL or Kafka outages of up to S seconds (default 120)
Environment: KAFKA_BROKERS, KAFKA_TOPIC, DATABASE_URL.
Prints one JSON object: what was sent by kind, and the expected outcome counts.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      accounts: { type: 'string', default: '1000' },
      count: { type: 'string' },
      duration: { type: 'string' },
      rate: { type: 'string', default: '0' },
      invalid: { type: 'string' },
      malformed: { type: 'string' },
      schema: { type: 'string' },
      'too-large': { type: 'string' },
      duplicates: { type: 'string' },
      conflicts: { type: 'string' },
      insufficient: { type: 'string' },
      unknown: { type: 'string' },
      'run-id': { type: 'string' },
      seed: { type: 'string', default: '42' },
      topic: { type: 'string' },
      wait: { type: 'string' },
      'no-open': { type: 'boolean', default: false },
      'outage-wait': { type: 'string', default: '120' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const config = loadConfig(['kafka', 'database']);
  const topic = values.topic ?? config.KAFKA_TOPIC;
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const mix: Mix = {};
  if (values.invalid !== undefined) {
    const f = Number(values.invalid) / 3;
    Object.assign(mix, { malformedJson: f, schemaViolation: f, tooLarge: f });
  }
  const set = (k: keyof Mix, v: string | undefined) => {
    if (v !== undefined) mix[k] = Number(v);
  };
  set('malformedJson', values.malformed);
  set('schemaViolation', values.schema);
  set('tooLarge', values['too-large']);
  set('duplicate', values.duplicates);
  set('conflict', values.conflicts);
  set('insufficientFunds', values.insufficient);
  set('unknownAccount', values.unknown);

  const runId = values['run-id'] ?? `lg${randomBytes(3).toString('hex')}`;
  const gen = new LoadGenerator({
    runId,
    accounts: Number(values.accounts),
    mix,
    seed: Number(values.seed),
  });
  const durationMs = values.duration ? Number(values.duration) * 1000 : undefined;
  const count = num(values.count) ?? (durationMs === undefined ? 10_000 : undefined);

  const logger = createLogger('loadgen', 'warn');
  const database = createDatabase({
    url: config.DATABASE_URL,
    poolMax: 2,
    applicationName: 'loadgen',
  });
  const retry = resilient({
    maxWaitMs: Number(values['outage-wait']) * 1000,
    log: (line) => process.stderr.write(`loadgen: ${line}\n`),
  });
  const kafka = createKafka(config, logger, 'loadgen');
  // Idempotent: a send repeated after an outage is dropped by the broker if it had landed,
  // so waiting out a Kafka restart adds no duplicate to the load.
  const producer = kafka.producer({
    createPartitioner: KeyHashPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await retry('Kafka: connecting', () => producer.connect());
  const since = new Date();
  try {
    if (!values['no-open']) {
      process.stderr.write(`opening ${gen.accounts.length + gen.poor.length + 1} accounts\n`);
      await openAccounts(database.db, gen, retry);
      const funding = gen.fundingMessages();
      await sendAll(producer, topic, funding, retry);
      process.stderr.write(`funding ${funding.length} accounts: waiting for settlement\n`);
      await waitForIds(
        database.db,
        funding.map((m) => m.id!),
        300_000,
        retry,
      );
    }
    const progress = bar('publishing', count);
    const result = await publish(producer, () => gen.next(), {
      topic,
      rate: Number(values.rate),
      count,
      durationMs,
      onProgress: progress.update,
      retry,
    });
    progress.done();
    const expected = gen.expected();
    const out: Record<string, unknown> = {
      runId,
      topic,
      sent: { ...gen.sent, total: expected.total },
      expected,
      publishMs: result.ms,
      publishedPerSecond: Math.round((result.sent / result.ms) * 1000),
    };
    if (values.wait) {
      const waitBar = bar('waiting for outcomes', expected.total);
      const actual = await waitForOutcomes(
        database.db,
        runId,
        topic,
        since,
        expected,
        Number(values.wait) * 1000,
        waitBar.update,
        retry,
      );
      waitBar.done();
      out.actual = actual;
      out.reconciled = JSON.stringify(actual) === JSON.stringify(expected);
      out.elapsedMs = Date.now() - since.getTime();
    }
    console.log(JSON.stringify(out));
    if (out.reconciled === false) process.exitCode = 2;
  } finally {
    await producer.disconnect();
    await database.close();
  }
}

/** A one-line progress bar on stderr (redrawn in place on a terminal). */
function bar(label: string, total: number | undefined) {
  const tty = process.stderr.isTTY;
  let last = 0;
  const draw = (n: number, force = false) => {
    const now = Date.now();
    if (!force && now - last < (tty ? 200 : 5000)) return;
    last = now;
    const pct = total ? Math.min(100, Math.floor((n / total) * 100)) : undefined;
    const filled = pct === undefined ? 0 : Math.floor(pct / 4);
    const line =
      pct === undefined
        ? `${label}: ${n}`
        : `${label} [${'#'.repeat(filled)}${'.'.repeat(25 - filled)}] ${pct}% ${n}/${total}`;
    process.stderr.write(tty ? `\r${line}` : `${line}\n`);
  };
  let current = 0;
  return {
    update: (n: number) => {
      current = n;
      draw(n);
    },
    done: () => {
      draw(current, true);
      if (tty) process.stderr.write('\n');
    },
  };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

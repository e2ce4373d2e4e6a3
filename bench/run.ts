/**
 * npm run bench: the same synthetic load (valid transfers between funded accounts) settled
 * two ways on the local stack, in one call:
 *   micro-batch              - the production path: built ingest + worker, settleBatch per micro-batch
 *   workflow-per-transaction - the common Temporal pattern: one settleTransaction workflow per message
 * Latency: produce time (loadgen) to settled_at in the ledger.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import { createDatabase, type Database } from '@settlement/db';
import { registerCodecs } from '@settlement/kafka';
import {
  LoadGenerator,
  openAccounts,
  publish,
  sendAll,
  VALID_ONLY,
  waitForIds,
} from '../apps/loadgen/src';
import {
  peakRssMb,
  ROOT,
  spawnApp,
  stopAll,
  waitHealthy,
  type Child,
} from '../scripts/apps-runner';

const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/settlement';
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 8);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
/** Funding also goes one workflow per message there (~25/s): fewer accounts. */
const PER_TX_ACCOUNTS = Number(process.env.BENCH_PER_TX_ACCOUNTS ?? 200);
const say = (s: string) => process.stderr.write(`[bench] ${s}\n`);

async function freshDatabase(label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `bench_${label}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(BASE_URL, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = BASE_URL.replace(/\/[^/?]+(\?|$)/, `/${name}$1`);
  const r = spawnSync('npx', ['drizzle-kit', 'migrate'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url },
    stdio: 'ignore',
  });
  if (r.status !== 0) throw new Error('migration failed');
  return {
    url,
    drop: async () => {
      const a = postgres(BASE_URL, { max: 1, onnotice: () => undefined });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
    },
  };
}

async function createTopics(kafka: Kafka, label: string) {
  const s = `${label}-${randomBytes(3).toString('hex')}`;
  const topics = { tx: `bench-tx-${s}`, dlq: `bench-dlq-${s}`, out: `bench-out-${s}` };
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.values(topics).map((topic) => ({ topic, numPartitions: PARTITIONS })),
  });
  await admin.disconnect();
  return topics;
}

function spawnBench(file: string, env: NodeJS.ProcessEnv): Child {
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist/bench', file)], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  return { name: file, proc, exited };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function settledCount(db: Database, runId: string): Promise<number> {
  const r = await db.execute<{ n: string }>(
    sql`select count(*)::text as n from transactions where id like ${`${runId}-t%`}`,
  );
  return Number(r[0].n);
}

/** Mean of a Prometheus histogram scraped from an app's /metrics, in milliseconds. */
async function histogramAvgMs(port: string, name: string): Promise<number | null> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (suffix: string) =>
    Number(new RegExp(`^${name}_${suffix}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
  const sum = value('sum');
  const count = value('count');
  return count > 0 ? Math.round((sum / count) * 10_000) / 10 : null;
}

async function scenario(
  name: 'micro-batch' | 'workflow-per-transaction',
  count: number,
  kafka: Kafka,
): Promise<Record<string, unknown>> {
  const db = await freshDatabase(name === 'micro-batch' ? 'mb' : 'pt');
  const topics = await createTopics(kafka, name === 'micro-batch' ? 'mb' : 'pt');
  const handle = createDatabase({ url: db.url, poolMax: 4, applicationName: 'bench' });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.url,
    KAFKA_TOPIC: topics.tx,
    KAFKA_DLQ_TOPIC: topics.dlq,
    KAFKA_OUTCOME_TOPIC: topics.out,
    KAFKA_GROUP_ID: `bench-${topics.tx}`,
    TEMPORAL_TASK_QUEUE: `bench-${topics.tx}`,
    INGEST_HTTP_PORT: process.env.BENCH_INGEST_PORT ?? '3801',
    WORKER_HTTP_PORT: process.env.BENCH_WORKER_PORT ?? '3802',
  };
  let ingest: Child;
  let worker: Child;
  if (name === 'micro-batch') {
    worker = spawnApp('worker', env, 'ignore');
    ingest = spawnApp('ingest', env, 'ignore');
    await waitHealthy(Number(env.WORKER_HTTP_PORT));
    await waitHealthy(Number(env.INGEST_HTTP_PORT));
  } else {
    worker = spawnBench('per-tx-worker.js', env);
    ingest = spawnBench('per-tx-ingest.js', env);
    await new Promise((r) => setTimeout(r, 5000));
  }
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const runId = `b${randomBytes(3).toString('hex')}`;
  const accounts = name === 'micro-batch' ? ACCOUNTS : PER_TX_ACCOUNTS;
  const gen = new LoadGenerator({
    runId,
    accounts,
    seed: 1,
    mix: VALID_ONLY,
  });
  try {
    await openAccounts(handle.db, gen);
    const funding = gen.fundingMessages();
    await sendAll(producer, topics.tx, funding);
    await waitForIds(
      handle.db,
      funding.map((m) => m.id!),
      600_000,
    );
    say(`${name}: funded ${accounts} accounts; publishing ${count}`);
    const producedAt = new Map<string, number>();
    const t0 = Date.now();
    await publish(producer, () => gen.next(), { topic: topics.tx, count, producedAt });
    const publishMs = Date.now() - t0;
    let last = 0;
    for (;;) {
      const n = await settledCount(handle.db, runId);
      if (n >= count) break;
      if (n !== last) say(`${name}: ${n}/${count} settled`);
      last = n;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const rows = await handle.db.execute<{ id: string; at: string }>(
      sql`select id, (extract(epoch from settled_at) * 1000)::bigint::text as at from transactions
          where id like ${`${runId}-t%`}`,
    );
    const lat: number[] = [];
    let end = 0;
    for (const r of rows) {
      const at = Number(r.at);
      end = Math.max(end, at);
      const p = producedAt.get(r.id);
      if (p !== undefined) lat.push(Math.max(0, at - p));
    }
    lat.sort((a, b) => a - b);
    const seconds = (end - t0) / 1000;
    const stages =
      name === 'micro-batch'
        ? {
            workflowStartAvgMs: await histogramAvgMs(
              env.INGEST_HTTP_PORT!,
              'settlement_workflow_start_seconds',
            ),
            settleActivityAvgMs: await histogramAvgMs(
              env.WORKER_HTTP_PORT!,
              'settlement_batch_settle_duration_seconds',
            ),
          }
        : {};
    const shape = await handle.db.execute<{ batches: string; avg: string | null }>(
      sql`select count(*)::text as batches, round(avg(message_count))::text as avg from batches`,
    );
    return {
      scenario: name,
      transactions: rows.length,
      settledPerSecond: Math.round(rows.length / seconds),
      p50Ms: percentile(lat, 50),
      p99Ms: percentile(lat, 99),
      ingestPeakRssMb: peakRssMb(ingest.proc.pid),
      workerPeakRssMb: peakRssMb(worker.proc.pid),
      publishedPerSecond: Math.round((count / publishMs) * 1000),
      partitions: PARTITIONS,
      accounts,
      batches: Number(shape[0].batches),
      avgBatchSize: Number(shape[0].avg ?? 0),
      ...stages,
    };
  } finally {
    await producer.disconnect();
    await stopAll([ingest, worker], 30_000);
    await handle.close();
    await db.drop();
  }
}

async function main(): Promise<void> {
  registerCodecs();
  const kafka = new Kafka({ clientId: 'bench', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const mbCount = Number(process.env.BENCH_COUNT ?? 200_000);
  const ptCount = Number(process.env.BENCH_PER_TX_COUNT ?? 5_000);
  const mb = await scenario('micro-batch', mbCount, kafka);
  console.log(JSON.stringify(mb));
  if (process.env.BENCH_SKIP_PER_TX === '1') return;
  const pt = await scenario('workflow-per-transaction', ptCount, kafka);
  console.log(
    JSON.stringify({
      ...pt,
      note:
        ptCount < mbCount
          ? `smaller count (${ptCount}) than micro-batch (${mbCount}): at its rate 200k would take too long`
          : undefined,
    }),
  );
  console.log(
    JSON.stringify({
      scenario: 'comparison',
      speedup:
        Math.round(((mb.settledPerSecond as number) / (pt.settledPerSecond as number)) * 10) / 10,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

/**
 * npm run bench: the same synthetic load (valid transfers between funded accounts) settled
 * four ways on the local stack, in one call, one JSON line each (CONTRACT.md):
 *   micro-batch              - the production path: built ingest + worker, a burst of BENCH_COUNT
 *   ledger-ceiling           - the same validation and settlement straight from Kafka, one
 *                              process, no Temporal (bench/ceiling.ts)
 *   paced                    - the production path at half the measured micro-batch capacity
 *   workflow-per-transaction - the common Temporal pattern: one workflow per message
 * then a `comparison` line with the ratios. Latency: produce time (loadgen) to settled_at.
 */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import {
  batchShape,
  checkLedger,
  countSettledOutcomes,
  createDatabase,
  settledTimesOfRun,
} from '@settlement/db';
import { KeyHashPartitioner, registerCodecs } from '@settlement/kafka';
import {
  DEFAULT_FUNDING,
  LoadGenerator,
  openAccounts,
  publish,
  VALID_ONLY,
  waitForIds,
  type Skew,
} from '@settlement/loadgen';
import {
  APP_NATIVE_ENV,
  peakRssMb,
  ROOT,
  spawnApp,
  stopAll,
  waitHealthy,
  type Child,
} from '../scripts/apps-runner';
import { cpuDelta, machineCpuSeconds, sampleCpu, type CpuTargets } from './cpu';
import { freshDatabase } from './fresh-database';
import { fundBySql, openAccountsBySql, prefillPostings } from './prefill';

type Scenario = 'micro-batch' | 'ledger-ceiling' | 'paced' | 'workflow-per-transaction' | 'backlog';

const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/settlement';
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 8);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
/** Funding also goes one workflow per message there (~25/s): fewer accounts. */
const PER_TX_ACCOUNTS = Number(process.env.BENCH_PER_TX_ACCOUNTS ?? 200);
const PACED_SECONDS = Number(process.env.BENCH_PACED_SECONDS ?? 60);
/** The sweep's knobs (docs/benchmarks.md, "How cost grows"): skew, prefilled ledger, funding. */
const SKEW: Skew = {
  hotCredits: process.env.BENCH_HOT_CREDIT_SHARE
    ? {
        accountShare: Number(process.env.BENCH_HOT_ACCOUNT_SHARE ?? 0.01),
        creditShare: Number(process.env.BENCH_HOT_CREDIT_SHARE),
      }
    : undefined,
  hotDebitShare: process.env.BENCH_HOT_DEBIT_SHARE
    ? Number(process.env.BENCH_HOT_DEBIT_SHARE)
    : undefined,
};
const PREFILL_POSTINGS = Number(process.env.BENCH_PREFILL_POSTINGS ?? 0);
/** `sql`: accounts opened and funded set-based (no funding messages), for large account counts. */
const FUNDING_SQL = process.env.BENCH_FUNDING === 'sql';
const LEDGER_CHECK = process.env.BENCH_LEDGER_CHECK === '1';
/** Stop waiting for the backlog to drain after this long and report what settled (0: wait). */
const BACKLOG_DRAIN_SECONDS = Number(process.env.BENCH_BACKLOG_DRAIN_SECONDS ?? 0);
const STACK_PIDS = process.env.STACK_STATE_DIR
  ? path.join(process.env.STACK_STATE_DIR, 'pids')
  : path.join(ROOT, '.stack', 'pids');
/** Extra node flags for the apps and bench processes, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const say = (s: string) => process.stderr.write(`[bench] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  const proc = spawn(process.execPath, [...NODE_ARGS, path.join(ROOT, 'dist/bench', file)], {
    cwd: ROOT,
    // The apps' allocator setting, so the ceiling's memory compares with theirs.
    env: { ...APP_NATIVE_ENV, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  return { name: file, proc, exited };
}

/** Current resident set of a process, MiB (VmRSS), or 0 when it is gone. */
function rssMb(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function metricsText(port: string): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** Mean of a Prometheus histogram scraped from an app's /metrics, in milliseconds. */
function histogramAvgMs(text: string, name: string): number | null {
  const value = (suffix: string) =>
    Number(new RegExp(`^${name}_${suffix}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
  const sum = value('sum');
  const count = value('count');
  return count > 0 ? Math.round((sum / count) * 10_000) / 10 : null;
}

/** The app's V8 heap in use now, MiB (0 when it does not answer). */
async function heapUsedMb(port: string): Promise<number> {
  try {
    const m = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(await metricsText(port));
    return m ? Math.round(Number(m[1]) / 1048576) : 0;
  } catch {
    return 0;
  }
}

/** A cold-start gauge (seconds since process start) in ms, or null when not reached. */
function coldStartMs(text: string, step: string): number | null {
  const m = new RegExp(`^settlement_cold_start_seconds\\{step="${step}"\\} (\\S+)$`, 'm').exec(
    text,
  );
  return m ? Math.round(Number(m[1]) * 1000) : null;
}

/** Produce time to the outcome's timestamp on the outcome topic, per transaction (ms). */
async function outcomeLatencies(
  kafka: Kafka,
  topic: string,
  producedAt: ReadonlyMap<string, number>,
  expected: number,
  timeoutMs: number,
): Promise<number[]> {
  const consumer = kafka.consumer({ groupId: `bench-read-${randomBytes(4).toString('hex')}` });
  const lat: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const id = (JSON.parse(m.value!.toString('utf8')) as { id: string }).id;
        const p = producedAt.get(id);
        if (p !== undefined) lat.push(Math.max(0, Number(m.timestamp) - p));
      }
      if (lat.length >= expected) done();
    },
  });
  await Promise.race([finished, sleep(timeoutMs)]);
  await consumer.disconnect();
  return lat.sort((a, b) => a - b);
}

interface Options {
  count: number;
  /** Messages per second; 0 = a burst, as fast as the load generator goes. */
  rate: number;
  durationMs?: number;
}

async function scenario(
  name: Scenario,
  opts: Options,
  kafka: Kafka,
): Promise<Record<string, unknown>> {
  const label = {
    'micro-batch': 'mb',
    'ledger-ceiling': 'lc',
    paced: 'pa',
    'workflow-per-transaction': 'pt',
    backlog: 'bl',
  }[name];
  const apps = name === 'micro-batch' || name === 'paced' || name === 'backlog';
  const db = await freshDatabase(BASE_URL, label);
  const topics = await createTopics(kafka, label);
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
  const producer = kafka.producer({ createPartitioner: KeyHashPartitioner });
  await producer.connect();
  const runId = `b${randomBytes(3).toString('hex')}`;
  const accounts = name === 'workflow-per-transaction' ? PER_TX_ACCOUNTS : ACCOUNTS;
  const gen = new LoadGenerator({ runId, accounts, seed: 1, mix: VALID_ONLY, skew: SKEW });
  const children: Child[] = [];
  try {
    // Funding waits in the topic before the apps start: a cold start with work to do.
    const setUpAt = Date.now();
    const sqlFunded = FUNDING_SQL && name !== 'workflow-per-transaction';
    if (sqlFunded) await openAccountsBySql(handle.db, gen);
    else await openAccounts(handle.db, gen);
    if (PREFILL_POSTINGS > 0) await prefillPostings(handle.db, gen, PREFILL_POSTINGS);
    if (sqlFunded) await fundBySql(handle.db, gen, DEFAULT_FUNDING);
    if (sqlFunded || PREFILL_POSTINGS > 0)
      say(`${name}: ledger set up by SQL in ${Date.now() - setUpAt} ms`);
    const funding = sqlFunded ? [] : gen.fundingMessages();
    let i = 0;
    if (funding.length > 0)
      await publish(producer, () => funding[i++], { topic: topics.tx, count: funding.length });
    const spawnedAt = Date.now();
    let ingest: Child;
    let worker: Child | undefined;
    if (apps) {
      worker = spawnApp('worker', env, 'ignore', NODE_ARGS);
      ingest = spawnApp('ingest', env, 'ignore', NODE_ARGS);
      children.push(ingest, worker);
      await waitHealthy(Number(env.WORKER_HTTP_PORT));
      await waitHealthy(Number(env.INGEST_HTTP_PORT));
    } else if (name === 'ledger-ceiling') {
      ingest = spawnBench('ceiling.js', env);
      children.push(ingest);
    } else {
      worker = spawnBench('per-tx-worker.js', env);
      ingest = spawnBench('per-tx-ingest.js', env);
      children.push(ingest, worker);
    }
    await waitForIds(
      handle.db,
      funding.map((m) => m.id!),
      600_000,
    );
    say(`${name}: funded ${accounts} accounts in ${Date.now() - spawnedAt} ms after the spawn`);
    const baseline = await countSettledOutcomes(handle.db);
    const producedAt = new Map<string, number>();
    let sent = { sent: 0, ms: 1 };
    if (name === 'backlog') {
      // The whole load waits in the topic while ingest is down, then a fresh ingest drains it:
      // its memory must stay flat whatever the lag.
      await stopAll([ingest], 30_000);
      children.splice(children.indexOf(ingest), 1);
      sent = await publish(producer, () => gen.next(), { topic: topics.tx, count: opts.count });
      say(`${name}: ${sent.sent} messages wait; starting ingest`);
      ingest = spawnApp('ingest', env, 'ignore', NODE_ARGS);
      children.push(ingest);
    }
    const targets: CpuTargets = {
      worker: worker?.proc.pid,
      ingest: ingest.proc.pid,
      stackPids: STACK_PIDS,
      database: db.name,
      includeSelfAs: 'loadgen',
    };
    const loadAvg1 = Math.round(os.loadavg()[0] * 10) / 10;
    const cpuBefore = sampleCpu(targets);
    const machineBefore = machineCpuSeconds();
    const t0 = Date.now();
    if (name !== 'backlog') {
      sent = await publish(producer, () => gen.next(), {
        topic: topics.tx,
        count: opts.count,
        rate: opts.rate,
        durationMs: opts.durationMs,
        // Paced: 100 sends a second, so a message waits at most 10 ms in the load generator.
        chunk: opts.rate > 0 ? Math.max(1, Math.round(opts.rate / 100)) : 1000,
        producedAt,
        // A burst's latency is a queue's: every 10th message's tells it (100,000 of 1,000,000);
        // the paced run, whose latency is a goal, records every message.
        sampleEvery: opts.rate > 0 ? 1 : 10,
      });
    }
    const count = sent.sent;
    let last = 0;
    const heapPeak = { worker: 0, ingest: 0 };
    // Resident set sampled each second once the apps run the load: flat means bounded.
    const rss = { ingest: [] as number[], worker: [] as number[] };
    for (;;) {
      const n = (await countSettledOutcomes(handle.db)) - baseline;
      if (n >= count) break;
      // An app that died (out of memory, a crash) settles nothing more: say so, do not wait.
      const dead = children.find((c) => c.proc.exitCode !== null || c.proc.signalCode !== null);
      if (dead) {
        const how = dead.proc.exitCode ?? dead.proc.signalCode;
        throw new Error(`${name}: ${dead.name} exited (${how}) with ${n}/${count} settled`);
      }
      if (BACKLOG_DRAIN_SECONDS > 0 && Date.now() - t0 > BACKLOG_DRAIN_SECONDS * 1000) {
        say(`${name}: stopped waiting after ${BACKLOG_DRAIN_SECONDS} s, ${n}/${count} settled`);
        break;
      }
      if (name === 'backlog' || Date.now() - t0 > 10_000) {
        rss.ingest.push(rssMb(ingest.proc.pid));
        if (worker) rss.worker.push(rssMb(worker.proc.pid));
      }
      if (n !== last) say(`${name}: ${n}/${count} settled`);
      last = n;
      if (apps) {
        heapPeak.worker = Math.max(heapPeak.worker, await heapUsedMb(env.WORKER_HTTP_PORT!));
        heapPeak.ingest = Math.max(heapPeak.ingest, await heapUsedMb(env.INGEST_HTTP_PORT!));
      }
      await sleep(1000);
    }
    const cpuAfter = sampleCpu(targets);
    const machineAfter = machineCpuSeconds();
    const rows = await settledTimesOfRun(handle.db, runId);
    const lat: number[] = [];
    let end = 0;
    for (const r of rows) {
      const at = r.at;
      end = Math.max(end, at);
      const p = producedAt.get(r.id);
      if (p !== undefined) lat.push(Math.max(0, at - p));
    }
    lat.sort((a, b) => a - b);
    const seconds = (end - t0) / 1000;
    const cpuSeconds = cpuDelta(cpuBefore, cpuAfter);
    const ours = Object.values(cpuSeconds).reduce((a, b) => a + b, 0);
    const busy = machineAfter.busy - machineBefore.busy;
    const wall = (machineAfter.total - machineBefore.total) / os.cpus().length;
    const load = {
      loadAvg1AtStart: loadAvg1,
      cores: os.cpus().length,
      machineBusyPct: Math.round((busy / (wall * os.cpus().length)) * 100),
      // CPU of everything else on the machine (other users of the shared stack, builds...).
      otherCpuSeconds: Math.round((busy - ours) * 10) / 10,
    };
    let extra: Record<string, unknown> = {};
    if (worker && apps) {
      const ingestMetrics = await metricsText(env.INGEST_HTTP_PORT!);
      const workerMetrics = await metricsText(env.WORKER_HTTP_PORT!);
      extra = {
        workflowStartAvgMs: histogramAvgMs(ingestMetrics, 'settlement_workflow_start_seconds'),
        settleActivityAvgMs: histogramAvgMs(
          workerMetrics,
          'settlement_batch_settle_duration_seconds',
        ),
        // Sampled once a second: the V8 heap in use (the part of the RSS that load grows).
        workerPeakHeapUsedMb: heapPeak.worker,
        ingestPeakHeapUsedMb: heapPeak.ingest,
        workerFirstPollMs: coldStartMs(workerMetrics, 'worker_first_poll'),
        ingestFirstStartMs: coldStartMs(ingestMetrics, 'ingest_first_workflow_start'),
      };
    }
    if (name === 'paced') {
      const published = await outcomeLatencies(kafka, topics.out, producedAt, rows.length, 120_000);
      extra = {
        ...extra,
        ratePerSecond: opts.rate,
        p999Ms: percentile(lat, 99.9),
        publishedP50Ms: percentile(published, 50),
        publishedP99Ms: percentile(published, 99),
      };
    }
    const shape = await batchShape(handle.db, 'bench-prefill');
    const range = (xs: number[]) => (xs.length ? [Math.min(...xs), Math.max(...xs)] : null);
    const sweep = {
      batchMaxSize: Number(env.BATCH_MAX_SIZE ?? 5000),
      ...(SKEW.hotCredits || SKEW.hotDebitShare ? { skew: SKEW } : {}),
      ...(PREFILL_POSTINGS > 0 ? { prefilledPostings: PREFILL_POSTINGS } : {}),
      ...(sqlFunded ? { funding: 'sql' } : {}),
      ...(name === 'backlog' ? { backlog: count } : {}),
      ingestRssMbRange: range(rss.ingest),
      workerRssMbRange: range(rss.worker),
    };
    if (LEDGER_CHECK) {
      const results = await checkLedger(handle.db, {
        orphanAfterMs: 300_000,
        outboxStaleAfterMs: 120_000,
        sampleLimit: 3,
      });
      const breached = results.filter((r) => r.status === 'BREACHED');
      for (const r of breached) say(`ledger check ${r.name}: ${r.samples.join('; ')}`);
      extra = {
        ...extra,
        ledgerCheck: breached.length === 0 ? 'clean' : breached.map((r) => r.name).join(','),
      };
    }
    return {
      scenario: name,
      transactions: rows.length,
      settledPerSecond: Math.round(rows.length / seconds),
      p50Ms: percentile(lat, 50),
      p99Ms: percentile(lat, 99),
      ingestPeakRssMb: peakRssMb(ingest.proc.pid),
      workerPeakRssMb: worker ? peakRssMb(worker.proc.pid) : null,
      cpuSeconds,
      cpuMicrosPerTx: Math.round((ours * 1e6) / rows.length),
      load,
      publishedPerSecond: Math.round((count / sent.ms) * 1000),
      partitions: PARTITIONS,
      accounts,
      batches: shape.batches,
      avgBatchSize: shape.avg,
      ...sweep,
      ...extra,
    };
  } finally {
    await producer.disconnect();
    await stopAll(children, 30_000);
    await handle.close();
    await db.drop();
    // Like the database: a 1,000,000 run leaves ~0.5 GB in its topics, and a day of runs
    // left 36 GB in one local broker.
    await deleteTopics(kafka, Object.values(topics));
  }
}

/** Best effort: a scenario's result stands even when its topics cannot be deleted. */
async function deleteTopics(kafka: Kafka, topics: string[]) {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics, timeout: 30_000 });
  } catch (err) {
    say(`could not delete the topics ${topics.join(', ')}: ${String(err)}`);
  } finally {
    await admin.disconnect();
  }
}

const ratio = (a: unknown, b: unknown) => Math.round(((a as number) / (b as number)) * 100) / 100;

async function main(): Promise<void> {
  registerCodecs();
  const kafka = new Kafka({ clientId: 'bench', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const only = process.env.BENCH_ONLY?.split(',');
  const runs = (s: Scenario) => !only || only.includes(s);
  const mbCount = Number(process.env.BENCH_COUNT ?? 1_000_000);
  const ceilingCount = Number(process.env.BENCH_CEILING_COUNT ?? mbCount);
  const ptCount = Number(process.env.BENCH_PER_TX_COUNT ?? 5_000);
  const lines: Partial<Record<Scenario, Record<string, unknown>>> = {};
  const emit = (s: Scenario, line: Record<string, unknown>) => {
    lines[s] = line;
    console.log(JSON.stringify(line));
  };
  if (runs('micro-batch'))
    emit('micro-batch', await scenario('micro-batch', { count: mbCount, rate: 0 }, kafka));
  if (runs('ledger-ceiling')) {
    const lc = await scenario('ledger-ceiling', { count: ceilingCount, rate: 0 }, kafka);
    emit('ledger-ceiling', lc);
  }
  if (runs('paced')) {
    const capacity = (lines['micro-batch']?.settledPerSecond as number | undefined) ?? 10_000;
    const rate = Number(process.env.BENCH_PACED_RATE ?? Math.round(capacity / 2));
    const line = await scenario(
      'paced',
      { count: Number.MAX_SAFE_INTEGER, rate, durationMs: PACED_SECONDS * 1000 },
      kafka,
    );
    emit('paced', line);
  }
  // Not in the default run: the memory case of a large backlog (BENCH_ONLY=backlog).
  if (only?.includes('backlog')) {
    const count = Number(process.env.BENCH_BACKLOG_COUNT ?? 2_000_000);
    emit('backlog', await scenario('backlog', { count, rate: 0 }, kafka));
  }
  if (runs('workflow-per-transaction') && process.env.BENCH_SKIP_PER_TX !== '1') {
    const pt = await scenario('workflow-per-transaction', { count: ptCount, rate: 0 }, kafka);
    emit('workflow-per-transaction', {
      ...pt,
      note:
        ptCount < mbCount
          ? `smaller count (${ptCount}) than micro-batch (${mbCount}): at its rate the same count would take hours`
          : undefined,
    });
  }
  const mb = lines['micro-batch']?.settledPerSecond;
  console.log(
    JSON.stringify({
      scenario: 'comparison',
      microBatchToCeiling:
        mb && lines['ledger-ceiling'] ? ratio(mb, lines['ledger-ceiling'].settledPerSecond) : null,
      speedup:
        mb && lines['workflow-per-transaction']
          ? Math.round(
              ((mb as number) / (lines['workflow-per-transaction'].settledPerSecond as number)) *
                10,
            ) / 10
          : null,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

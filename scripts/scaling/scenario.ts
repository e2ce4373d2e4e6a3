/**
 * npm run scaling:scenario — drives real load through the local stack while the scaling control
 * plane (npm run scaling:up) decides replicas, and records every few seconds the Kafka lag, the
 * inbound rate, the Temporal backlog and the replicas KEDA and the HPA set:
 *
 *   warm-up (fund the accounts) -> idle (0/0) -> burst (0 -> 1 -> N) -> sustained rate -> drain
 *   (back to 0 after the cooldown) -> flapping (lag swinging around the threshold) -> drain
 *
 * Pods do not run without a kubelet, so this script plays the kubelet's part for the two
 * Deployments: it runs as many local ingest and worker processes (the built apps) as
 * spec.replicas says, up to a cap that fits the machine. The run has its own database,
 * topics, consumer group and task queue, and points the ScaledObjects at them (and the apps'
 * DATABASE_URL Secrets, which their PostgreSQL triggers read, at the run's database).
 *
 * Output: docs/autoscaling/scenario.json (or the path given as the first argument); exit status 1
 * when a decision breaks a rule of ./decisions.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import postgres from 'postgres';
import { createDatabase } from '@settlement/db';
import { KeyHashPartitioner, registerCodecs } from '@settlement/kafka';
import { LoadGenerator, openAccounts, publish, VALID_ONLY, waitForIds } from '@settlement/loadgen';
import { APP_NATIVE_ENV, APP_NODE_FLAGS, ROOT } from '../apps-runner';
import { Cluster } from './cluster';
import {
  assessRun,
  type App,
  type AppSettings,
  type Phase,
  type ScalingRun,
  type ScalingSample,
} from './decisions';

const NS = 'settlement';
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const TEMPORAL = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
const BASE_DB = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/settlement';
const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const SAMPLE_SEC = num('SCALING_SAMPLE_SEC', 5);
const IDLE_SEC = num('SCALING_IDLE_SEC', 30);
const BURST = num('SCALING_BURST', 40_000);
const SUSTAINED_RATE = num('SCALING_SUSTAINED_RATE', 800);
const SUSTAINED_SEC = num('SCALING_SUSTAINED_SEC', 60);
const FLAP_CYCLES = num('SCALING_FLAP_CYCLES', 4);
const FLAP_BURST_THRESHOLDS = num('SCALING_FLAP_BURST_THRESHOLDS', 10);
const FLAP_PERIOD_SEC = num('SCALING_FLAP_PERIOD_SEC', 40);
const ACCOUNTS = num('SCALING_ACCOUNTS', 2000);
/** Local processes per Deployment at most: what 2 cores carry beside the stack. */
const LOCAL_MAX: Record<App, number> = {
  ingest: num('SCALING_LOCAL_MAX_INGEST', 2),
  worker: num('SCALING_LOCAL_MAX_WORKER', 2),
};
/**
 * Batch size cap of the local ingest processes. Ingest commits a batch once its workflow has
 * started, so it takes up to MAX_IN_FLIGHT_BATCHES_PER_PARTITION x partitions batches (8 here)
 * off the lag at once: with the default 5,000 that is 40,000 messages, the whole burst, gone
 * from the lag within seconds, before the HPA's next sync (every 15 s) could see it. 1,000
 * leaves most of the burst in the lag until the workers settle batches, as a burst larger than
 * the in-flight window does in production.
 */
const LOCAL_BATCH_MAX_SIZE = num('SCALING_LOCAL_BATCH_MAX_SIZE', 1000);
const EXPECTED = {
  ingest: num('SCALING_EXPECT_INGEST', 4),
  worker: num('SCALING_EXPECT_WORKER', 2),
};
const WAIT_ZERO_SEC = num('SCALING_WAIT_ZERO_SEC', 600);

const say = (s: string) => process.stderr.write(`[scaling] ${new Date().toISOString()} ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * SIGINT or SIGTERM (Ctrl-C, or scaling:run stopped) ends the run at the next step through
 * the same clean-up as a failure: triggers and Secret put back, the run's database and topics
 * dropped, local processes stopped. A second signal kills at once.
 */
let stopRequested: string | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    stopRequested = signal;
    say(`${signal}: stopping after the current step`);
  });

/** A wait of the scenario's own steps, which a stop request cuts short. */
async function step(ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (stopRequested) throw new Error(`stopped by ${stopRequested}`);
    const left = until - Date.now();
    if (left <= 0) return;
    await sleep(Math.min(500, left));
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects are untyped JSON */
type Obj = any;

const deploymentPath = (app: App) => `/apis/apps/v1/namespaces/${NS}/deployments/settlement-${app}`;
const scaledObjectPath = (app: App) =>
  `/apis/keda.sh/v1alpha1/namespaces/${NS}/scaledobjects/settlement-${app}`;
const hpaPath = (app: App) =>
  `/apis/autoscaling/v2/namespaces/${NS}/horizontalpodautoscalers/keda-hpa-settlement-${app}`;

function settingsOf(so: Obj, targetKey: string): AppSettings {
  const behavior = so.spec.advanced?.horizontalPodAutoscalerConfig?.behavior ?? {};
  const inFlight = so.spec.triggers.find((t: Obj) => t.name === 'in-flight-batches');
  return {
    minReplicas: so.spec.minReplicaCount ?? 0,
    maxReplicas: so.spec.maxReplicaCount,
    pollingIntervalSec: so.spec.pollingInterval ?? 30,
    cooldownSec: so.spec.cooldownPeriod ?? 300,
    scaleDownWindowSec: behavior.scaleDown?.stabilizationWindowSeconds ?? 300,
    target: Number(so.spec.triggers[0].metadata[targetKey]),
    ...(inFlight ? { inFlightTarget: Number(inFlight.metadata.targetQueryValue) } : {}),
  };
}

/**
 * The Secret a Deployment takes DATABASE_URL from: KEDA's PostgreSQL triggers read it (the
 * worker's in-flight batches; ingest's recent batches in the local overlays).
 */
function databaseSecretOf(deployment: Obj): string {
  const env = deployment.spec.template.spec.containers[0].env ?? [];
  const ref = env.find((e: Obj) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
  if (!ref || ref.key !== 'DATABASE_URL')
    throw new Error(
      `${deployment.metadata.name} takes DATABASE_URL from no Secret key DATABASE_URL`,
    );
  return `/api/v1/namespaces/${NS}/secrets/${ref.name}`;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The run's own database (migrated) and topics, so nobody else's data is touched. */
async function provision(kafka: Kafka, suffix: string, partitions: number) {
  const name = `scaling_${suffix}`;
  const admin = postgres(BASE_DB, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = BASE_DB.replace(/\/[^/?]+(\?|$)/, `/${name}$1`);
  const r = spawnSync('npx', ['drizzle-kit', 'migrate'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url },
    stdio: 'ignore',
  });
  if (r.status !== 0) throw new Error(`migrating ${name} failed`);
  const topics = {
    tx: `scaling-tx-${suffix}`,
    dlq: `scaling-dlq-${suffix}`,
    out: `scaling-out-${suffix}`,
  };
  const kadmin = kafka.admin();
  await kadmin.connect();
  await kadmin.createTopics({
    waitForLeaders: true,
    topics: Object.values(topics).map((topic) => ({ topic, numPartitions: partitions })),
  });
  await kadmin.disconnect();
  return {
    url,
    topics,
    group: `scaling-ingest-${suffix}`,
    taskQueue: `scaling-${suffix}`,
    async drop(): Promise<void> {
      const a = postgres(BASE_DB, { max: 1, onnotice: () => undefined });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
      const k = kafka.admin();
      await k.connect();
      await k.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
      await k.deleteGroups([`scaling-ingest-${suffix}`]).catch(() => undefined);
      await k.disconnect();
    },
  };
}

/**
 * The kubelet's part: keeps min(spec.replicas, cap) local processes of each app running.
 * Scale-in stops the newest process first with SIGTERM (ingest commits and leaves the group).
 */
class LocalReplicas {
  private readonly running: Record<App, ChildProcess[]> = { ingest: [], worker: [] };
  private nextPort = 3900 + Math.floor(Math.random() * 50) * 10;
  private readonly logDir = path.join(os.tmpdir(), 'settlement-scaling-logs');

  constructor(private readonly env: NodeJS.ProcessEnv) {
    mkdirSync(this.logDir, { recursive: true });
  }

  count(app: App): number {
    return this.running[app].length;
  }

  reconcile(app: App, replicas: number): void {
    const want = Math.min(replicas, LOCAL_MAX[app]);
    while (this.running[app].length < want) this.running[app].push(this.start(app));
    while (this.running[app].length > want) this.running[app].pop()!.kill('SIGTERM');
  }

  private start(app: App): ChildProcess {
    const port = this.nextPort++;
    const portVar = app === 'ingest' ? 'INGEST_HTTP_PORT' : 'WORKER_HTTP_PORT';
    const log = createWriteStream(path.join(this.logDir, `${app}-${port}.log`));
    const main = path.join(ROOT, 'dist/apps', app, 'src/main.js');
    // The pods' command line (k8s/base) and image environment: the same V8 flags and allocator.
    const child = spawn(process.execPath, [...(APP_NODE_FLAGS[app] ?? []), main], {
      cwd: ROOT,
      env: { ...APP_NATIVE_ENV, ...this.env, [portVar]: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    child.on('exit', (code, signal) => {
      const list = this.running[app];
      const i = list.indexOf(child);
      if (i >= 0) {
        list.splice(i, 1); // died on its own: the next reconcile starts another
        say(`${app} on port ${port} exited (${code ?? signal}); log ${log.path}`);
      }
    });
    return child;
  }

  async stopAll(): Promise<void> {
    const all = [...this.running.ingest, ...this.running.worker];
    this.running.ingest = [];
    this.running.worker = [];
    await Promise.all(
      all.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
  }
}

/** Kafka lag and end offsets of the run's topic for its consumer group. */
async function kafkaPosition(admin: Admin, topic: string, group: string) {
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  let lag = 0;
  let end = 0;
  for (const p of ends) {
    const high = Number(p.high);
    end += high;
    const c = committed.partitions.find((x) => x.partition === p.partition);
    const done = c && Number(c.offset) >= 0 ? Number(c.offset) : Number(p.low);
    lag += Math.max(0, high - done);
  }
  return { lag, end };
}

async function taskQueueBacklog(conn: Connection, taskQueue: string): Promise<number> {
  let total = 0;
  for (const taskQueueType of [
    temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  ]) {
    const res = await conn.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: taskQueue },
      taskQueueType,
      reportStats: true,
    });
    total += Number(res.stats?.approximateBacklogCount ?? 0);
  }
  return total;
}

async function main(): Promise<void> {
  const out = process.argv[2] ?? path.join(ROOT, 'docs/autoscaling/scenario.json');
  const cluster = Cluster.fromKubeconfig(
    process.env.SCALING_KUBECONFIG ?? Cluster.defaultKubeconfig(ROOT),
  );
  registerCodecs();
  const kafka = new Kafka({
    clientId: 'scaling-scenario',
    brokers: BROKERS,
    logLevel: logLevel.NOTHING,
  });
  const kadmin = kafka.admin();
  await kadmin.connect();
  const conn = await Connection.connect({ address: TEMPORAL });

  const topicsCm = await cluster.get<{ data: Record<string, string> }>(
    `/api/v1/namespaces/${NS}/configmaps/settlement-kafka-topics`,
  );
  const partitions = Number(topicsCm.data['transactions.partitions']);
  const suffix = randomBytes(3).toString('hex');
  const run = await provision(kafka, suffix, partitions);
  say(`run ${suffix}: topic ${run.topics.tx} (${partitions} partitions), queue ${run.taskQueue}`);

  // Point the triggers at this run; put back what the overlay says at the end. The Secret
  // first: KEDA reads it when it rebuilds the scalers of a changed ScaledObject.
  const secretPaths = [
    ...new Set(
      await Promise.all(
        (['ingest', 'worker'] as const).map(async (app) =>
          databaseSecretOf(await cluster.get<Obj>(deploymentPath(app))),
        ),
      ),
    ),
  ];
  const originalUrls = new Map<string, string>();
  for (const secretPath of secretPaths)
    originalUrls.set(secretPath, (await cluster.get<Obj>(secretPath)).data.DATABASE_URL);
  const pointDatabase = async (base64Url: (secretPath: string) => string) => {
    for (const secretPath of secretPaths)
      await cluster.jsonPatch(secretPath, [
        { op: 'replace', path: '/data/DATABASE_URL', value: base64Url(secretPath) },
      ]);
  };
  // KEDA runs on this machine: the run's database as the host reaches it.
  await pointDatabase(() => Buffer.from(run.url).toString('base64'));
  const soIngest = await cluster.get<Obj>(scaledObjectPath('ingest'));
  const soWorker = await cluster.get<Obj>(scaledObjectPath('worker'));
  const original = {
    topic: soIngest.spec.triggers[0].metadata.topic,
    group: soIngest.spec.triggers[0].metadata.consumerGroup,
    taskQueue: soWorker.spec.triggers[0].metadata.taskQueue,
  };
  const pointTriggers = async (topic: string, group: string, taskQueue: string) => {
    await cluster.jsonPatch(scaledObjectPath('ingest'), [
      { op: 'test', path: '/spec/triggers/0/type', value: 'kafka' },
      { op: 'replace', path: '/spec/triggers/0/metadata/topic', value: topic },
      { op: 'replace', path: '/spec/triggers/0/metadata/consumerGroup', value: group },
    ]);
    await cluster.jsonPatch(scaledObjectPath('worker'), [
      { op: 'test', path: '/spec/triggers/0/type', value: 'temporal' },
      { op: 'replace', path: '/spec/triggers/0/metadata/taskQueue', value: taskQueue },
    ]);
  };
  await pointTriggers(run.topics.tx, run.group, run.taskQueue);

  const settings = {
    ingest: settingsOf(soIngest, 'lagThreshold'),
    worker: settingsOf(soWorker, 'targetQueueSize'),
  };
  const local = new LocalReplicas({
    ...process.env,
    LOG_LEVEL: 'warn',
    DATABASE_URL: run.url,
    DATABASE_POOL_MAX: '4',
    KAFKA_BROKERS: BROKERS.join(','),
    TEMPORAL_ADDRESS: TEMPORAL,
    KAFKA_TOPIC: run.topics.tx,
    KAFKA_DLQ_TOPIC: run.topics.dlq,
    KAFKA_OUTCOME_TOPIC: run.topics.out,
    KAFKA_GROUP_ID: run.group,
    TEMPORAL_TASK_QUEUE: run.taskQueue,
    BATCH_MAX_SIZE: String(LOCAL_BATCH_MAX_SIZE),
  });

  const started = Date.now();
  const now = () => Math.round((Date.now() - started) / 100) / 10;
  let phase: Phase = 'warm-up';
  const phases: ScalingRun['phases'] = [];
  let phaseStart = 0;
  let phaseNote = 'each account funded through the pipeline, which KEDA wakes up for';
  const enter = (next: Phase, note: string) => {
    phases.push({ phase, from: phaseStart, to: now(), note: phaseNote });
    say(`phase ${next}: ${note}`);
    phase = next;
    phaseStart = now();
    phaseNote = note;
  };

  // Follow the Deployments (every 2 s) and sample (every SAMPLE_SEC).
  const replicas: Record<App, number> = { ingest: 0, worker: 0 };
  let stopping = false;
  const follow = (async () => {
    while (!stopping) {
      for (const app of ['ingest', 'worker'] as const) {
        try {
          const d = await cluster.get<Obj>(deploymentPath(app));
          replicas[app] = d.spec.replicas ?? 0;
          local.reconcile(app, replicas[app]);
        } catch (err) {
          say(`reading ${app}: ${(err as Error).message}`);
        }
      }
      await sleep(2000);
    }
  })();
  const ledger = postgres(run.url, { max: 1, onnotice: () => undefined });
  const inFlightBatches = async () =>
    Number((await ledger`select count(*)::int as n from batches where status = 'PENDING'`)[0].n);
  const samples: ScalingSample[] = [];
  let lastEnd: { end: number; at: number } | undefined;
  const sampleOnce = async () => {
    const at = Date.now();
    const pos = await kafkaPosition(kadmin, run.topics.tx, run.group);
    const backlog = await taskQueueBacklog(conn, run.taskQueue);
    const inFlight = await inFlightBatches();
    const app = async (a: App) => {
      const d = await cluster.get<Obj>(deploymentPath(a));
      const hpa = await cluster.get<Obj>(hpaPath(a)).catch(() => undefined);
      return {
        replicas: d.spec.replicas ?? 0,
        hpaDesired: hpa?.status?.desiredReplicas ?? null,
        processes: local.count(a),
      };
    };
    const inbound = lastEnd ? (pos.end - lastEnd.end) / ((at - lastEnd.at) / 1000) : 0;
    lastEnd = { end: pos.end, at };
    const s: ScalingSample = {
      t: now(),
      phase,
      lag: pos.lag,
      inboundPerSec: Math.round(inbound),
      backlog,
      inFlight,
      ingest: await app('ingest'),
      worker: await app('worker'),
    };
    samples.push(s);
    say(
      `t=${s.t}s ${phase} lag=${s.lag} in=${s.inboundPerSec}/s backlog=${s.backlog} inflight=${s.inFlight} ` +
        `ingest=${s.ingest.replicas}(hpa ${s.ingest.hpaDesired}, local ${s.ingest.processes}) ` +
        `worker=${s.worker.replicas}(hpa ${s.worker.hpaDesired}, local ${s.worker.processes})`,
    );
  };
  const sampler = (async () => {
    while (!stopping) {
      const next = Date.now() + SAMPLE_SEC * 1000;
      await sampleOnce().catch((err) => say(`sample failed: ${(err as Error).message}`));
      await sleep(Math.max(0, next - Date.now()));
    }
  })();
  const latest = () => samples.at(-1);
  const waitUntil = async (what: string, ok: () => boolean, limitSec: number) => {
    const deadline = Date.now() + limitSec * 1000;
    while (!ok()) {
      if (Date.now() > deadline)
        throw new Error(`timed out after ${limitSec}s waiting for ${what}`);
      await step(1000);
    }
  };
  const bothZero = () => replicas.ingest === 0 && replicas.worker === 0;

  const producer: Producer = kafka.producer({
    createPartitioner: KeyHashPartitioner,
  });
  await producer.connect();
  const db = createDatabase({ url: run.url, poolMax: 2, applicationName: 'scaling-scenario' });
  const gen = new LoadGenerator({
    runId: `s${suffix}`,
    accounts: ACCOUNTS,
    seed: 7,
    mix: VALID_ONLY,
  });
  let failed: unknown;
  try {
    // warm-up: the accounts' funding goes through the pipeline, which KEDA wakes up for.
    await openAccounts(db.db, gen);
    const funding = gen.fundingMessages();
    let i = 0;
    await publish(producer, () => funding[i++], { topic: run.topics.tx, count: funding.length });
    await waitForIds(
      db.db,
      funding.map((m) => m.id!),
      600_000,
    );
    say('funding settled; waiting for KEDA to scale both Deployments to 0');
    await waitUntil('both Deployments at 0 after the warm-up', bothZero, WAIT_ZERO_SEC);

    enter('idle', 'no traffic: both Deployments at 0');
    await step(IDLE_SEC * 1000);

    enter('burst', `${BURST} messages published as fast as possible`);
    const burstStart = Date.now();
    const burst = await publish(producer, () => gen.next(), { topic: run.topics.tx, count: BURST });
    say(`burst published in ${burst.ms} ms`);
    // Until the lag is under one replica's threshold.
    const drainStart = Date.now();
    await waitUntil(
      'the burst to drain',
      () =>
        (latest()?.lag ?? Infinity) < settings.ingest.target && Date.now() - drainStart > 10_000,
      600,
    );
    say(`the burst drained in ${Math.round((Date.now() - burstStart) / 1000)} s`);

    enter('sustained', `${SUSTAINED_RATE} msg/s for ${SUSTAINED_SEC}s`);
    await publish(producer, () => gen.next(), {
      topic: run.topics.tx,
      rate: SUSTAINED_RATE,
      durationMs: SUSTAINED_SEC * 1000,
    });

    enter('drain', 'traffic stops: scale-in, then 0 after the cooldown');
    await waitUntil('both Deployments back to 0', bothZero, WAIT_ZERO_SEC);
    await step(2 * SAMPLE_SEC * 1000);

    // Each cycle puts FLAP_BURST_THRESHOLDS times the lag threshold on the topic at once and
    // lets it drain: the lag swings across the threshold whatever ingest's capacity (a rate
    // sized on a measured capacity stayed under it once ingest got faster).
    const flapBurst = FLAP_BURST_THRESHOLDS * settings.ingest.target;
    enter(
      'flapping',
      `${FLAP_CYCLES} cycles of ${flapBurst} messages at once, then silent to ${FLAP_PERIOD_SEC}s`,
    );
    for (let c = 0; c < FLAP_CYCLES; c++) {
      const cycleEnd = Date.now() + FLAP_PERIOD_SEC * 1000;
      await publish(producer, () => gen.next(), { topic: run.topics.tx, count: flapBurst });
      await step(Math.max(0, cycleEnd - Date.now()));
    }

    enter('final-drain', 'traffic stops again');
    await waitUntil('both Deployments back to 0', bothZero, WAIT_ZERO_SEC);
    await step(2 * SAMPLE_SEC * 1000);
  } catch (err) {
    failed = err;
  } finally {
    stopping = true;
    await Promise.all([follow, sampler]);
    phases.push({ phase, from: phaseStart, to: now(), note: phaseNote });
    await local.stopAll();
    await producer.disconnect();
    await db.close();
    await ledger.end();
    await pointDatabase((secretPath) => originalUrls.get(secretPath)!).catch((err) =>
      say(`restoring the apps' DATABASE_URL: ${(err as Error).message}`),
    );
    await pointTriggers(original.topic, original.group, original.taskQueue).catch((err) =>
      say(`restoring the triggers: ${(err as Error).message}`),
    );
    await kadmin.disconnect();
    await conn.close();
    await run.drop().catch((err) => say(`cleanup: ${(err as Error).message}`));
  }

  const result: ScalingRun = {
    recordedAt: new Date(started).toISOString(),
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
    sampleEverySec: SAMPLE_SEC,
    hpaSyncPeriodSec: 15,
    partitions,
    settings,
    expected: EXPECTED,
    phases: phases.filter((p) => p.to > p.from),
    samples,
  };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
  say(`wrote ${samples.length} samples to ${out}`);
  if (failed) throw failed;
  const { summary, problems } = assessRun(result);
  say(`summary ${JSON.stringify(summary)}`);
  if (problems.length > 0) {
    for (const p of problems) say(`PROBLEM ${p}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  say(`failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});

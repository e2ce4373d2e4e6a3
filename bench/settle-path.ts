/**
 * Bench only: the CPU cost of the settlement path per transaction, phase by phase, without
 * Temporal or the apps around it (`node dist/bench/settle-path.js`, after `npm run build`, on
 * the running stack). Batches of loadgen transfers go through the production code in order:
 * ingest's formBatch (validation), recordPendingBatch (staging), settleBatch and
 * publishOutcomes (to a fresh outcome topic). For each phase it reports the CPU of this
 * process and of its one PostgreSQL backend, per transaction: CPU time, unlike wall time,
 * stays comparable on a machine that other work keeps busy. The first batch is left out
 * (warm-up). Env: SETTLE_PATH_BATCHES (12), SETTLE_PATH_BATCH_SIZE (5000),
 * SETTLE_PATH_KAFKA=0 to publish to nowhere (the outbox is still read and marked),
 * SETTLE_PATH_PUBLISH=outbox to publish as the publishOutcomes activity does (reading the
 * outbox back) instead of as the settle activity does (from the records in memory).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage, type Producer } from 'kafkajs';
import { sql } from 'drizzle-orm';
import { settleBatchWorkflowId } from '@settlement/contracts';
import { createDatabase, ensureCursor, recordPendingBatch } from '@settlement/db';
import { publishOutcomes, publishSettled, settleBatchWithOutbox } from '@settlement/activities';
import { LoadGenerator, openAccounts, VALID_ONLY, type LoadMessage } from '@settlement/loadgen';
import { formBatch } from '../apps/ingest/src/micro-batch';
import { processCpuSeconds } from './cpu';
import { freshDatabase } from './fresh-database';
import { KeyHashPartitioner } from '@settlement/kafka';

const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/settlement';
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const BATCHES = Number(process.env.SETTLE_PATH_BATCHES ?? 12);
const SIZE = Number(process.env.SETTLE_PATH_BATCH_SIZE ?? 5000);
const PUBLISH_FROM = process.env.SETTLE_PATH_PUBLISH === 'outbox' ? 'outbox' : 'memory';
const PHASES = ['form', 'stage', 'settle', 'publish'] as const;
type Phase = (typeof PHASES)[number];
type Costs = Record<Phase, { node: number; postgres: number }>;

const nodeSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function main(): Promise<void> {
  const db = await freshDatabase(BASE_URL, 'sp');
  const handle = createDatabase({ url: db.url, poolMax: 1, applicationName: 'bench' });
  const topic = `bench-sp-out-${randomBytes(3).toString('hex')}`;
  const kafka =
    process.env.SETTLE_PATH_KAFKA === '0'
      ? undefined
      : new Kafka({ clientId: 'bench-sp', brokers: BROKERS, logLevel: logLevel.NOTHING });
  let producer: Pick<Producer, 'send'> = { send: () => Promise.resolve([]) };
  let connected: Producer | undefined;
  if (kafka) {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 8 }] });
    await admin.disconnect();
    connected = kafka.producer({ createPartitioner: KeyHashPartitioner });
    await connected.connect();
    producer = connected;
  }
  try {
    const gen = new LoadGenerator({ runId: 'sp', accounts: 10_000, seed: 1, mix: VALID_ONLY });
    await openAccounts(handle.db, gen);
    // One connection: every statement runs on this backend, whose CPU /proc reports.
    const backend = Number(
      (await handle.db.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`))[0].pid,
    );
    const topics = { outcomes: topic, deadLetters: `${topic}-dlq` };
    const source = 'transactions';
    await ensureCursor(handle.db, source, 0, '0');
    let offset = 0n;
    const asKafka = (m: LoadMessage): KafkaMessage =>
      ({
        offset: String(offset++),
        key: Buffer.from(m.key),
        value: Buffer.from(m.value),
        timestamp: String(Date.now()),
        headers: {},
      }) as KafkaMessage;

    const settleOne = async (messages: LoadMessage[], costs?: Costs) => {
      const records = messages.map(asKafka);
      let node = nodeSeconds();
      let pg = processCpuSeconds(backend);
      const done = (phase: Phase) => {
        const n = nodeSeconds();
        const p = processCpuSeconds(backend);
        if (costs) {
          costs[phase].node += n - node;
          costs[phase].postgres += p - pg;
        }
        node = n;
        pg = p;
      };
      const from = BigInt(records[0].offset);
      const { input, deadLetters } = formBatch(source, 0, from, records, Date.now());
      done('form');
      const workflowId = settleBatchWorkflowId(input.batchId);
      await recordPendingBatch(handle.db, input, workflowId, {
        messageCount: records.length,
        staged: true,
        deadLetters: { topic: topics.deadLetters, items: deadLetters },
      });
      done('stage');
      const settled = await settleBatchWithOutbox(
        { db: handle.db, topics },
        { ...input, messages: undefined },
        workflowId,
      );
      done('settle');
      const deps = { db: handle.db, producer };
      if (PUBLISH_FROM === 'outbox') await publishOutcomes(deps, input.batchId);
      else if (
        !(await publishSettled(deps, input.batchId, settled.outbox, { budgetMs: 60_000 })).published
      )
        throw new Error(`publishing ${input.batchId} failed`);
      done('publish');
    };

    await settleOne(gen.fundingMessages());
    const costs = Object.fromEntries(PHASES.map((p) => [p, { node: 0, postgres: 0 }])) as Costs;
    for (let b = 0; b < BATCHES; b++) {
      const batch = Array.from({ length: SIZE }, () => gen.next());
      await settleOne(batch, b === 0 ? undefined : costs);
    }
    const transactions = (BATCHES - 1) * SIZE;
    const perTx = (seconds: number) => Math.round((seconds * 1e7) / transactions) / 10;
    const pick = (k: 'node' | 'postgres') =>
      Object.fromEntries(PHASES.map((p) => [p, perTx(costs[p][k])]));
    console.log(
      JSON.stringify({
        scenario: 'settle-path',
        transactions,
        batchSize: SIZE,
        publishFrom: PUBLISH_FROM,
        nodeMicrosPerTx: pick('node'),
        postgresMicrosPerTx: pick('postgres'),
        totalMicrosPerTx: perTx(PHASES.reduce((a, p) => a + costs[p].node + costs[p].postgres, 0)),
      }),
    );
  } finally {
    await connected?.disconnect();
    if (kafka) {
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
    await handle.close();
    await db.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

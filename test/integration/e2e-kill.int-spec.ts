import type { Admin, Kafka, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import {
  LoadGenerator,
  openAccounts,
  publish,
  sendAll,
  waitForIds,
  waitForOutcomes,
} from '../../apps/loadgen/src';
import { createTestDatabase, type TestDatabase } from './support/database';
import { createTopics, testKafka } from './support/kafka';
import { uniqueTaskQueue } from './support/temporal';
import { appEnv, ledgerViolations, startApp, type RunningApp } from './support/apps';

/**
 * SIGKILL of the ingest process in the middle of a stream (batches read, some started, some
 * not committed), then a restart: every message still gets exactly one outcome.
 */
describe('ingest killed mid-stream and restarted', () => {
  let db: TestDatabase;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let topics: Awaited<ReturnType<typeof createTopics>>;
  let env: Record<string, string>;
  const apps: RunningApp[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('e2e_kill');
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
    topics = await createTopics(admin, 'kill', 4);
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    env = appEnv({
      databaseUrl: db.url,
      topics,
      taskQueue: uniqueTaskQueue('kill'),
      groupId: `it-kill-${Date.now()}`,
      // Short session: the restarted instance gets the partitions back quickly.
      extra: { BATCH_MAX_SIZE: '500', INGEST_SESSION_TIMEOUT_MS: '8000' },
    });
    apps.push(await startApp('worker', env, { label: 'kill' }));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await producer?.disconnect();
    await admin?.disconnect();
    await db?.drop();
  });

  it('loses nothing and settles nothing twice', async () => {
    const since = new Date();
    const runId = `kill${Date.now().toString(36)}`;
    const gen = new LoadGenerator({ runId, accounts: 200, seed: 11 });
    await openAccounts(db.db, gen);
    const first = await startApp('ingest', env, { label: 'kill-1' });
    const funding = gen.fundingMessages();
    await sendAll(producer, topics.transactions, funding);
    await waitForIds(
      db.db,
      funding.map((m) => m.id!),
    );

    const publishing = publish(producer, () => gen.next(), {
      topic: topics.transactions,
      count: 20_000,
      rate: 5_000,
    });
    await new Promise((r) => setTimeout(r, 1500));
    await first.kill();
    await new Promise((r) => setTimeout(r, 1000));
    const second = await startApp('ingest', env, { label: 'kill-2' });
    apps.push(second);
    await publishing;

    const expected = gen.expected();
    const actual = await waitForOutcomes(
      db.db,
      runId,
      topics.transactions,
      since,
      expected,
      240_000,
    );
    expect(actual).toEqual(expected);
    expect(await ledgerViolations(db.db)).toEqual({
      nonZeroCurrencies: [],
      balanceDrift: [],
      belowLimit: [],
      postingsPerOutcome: [],
      outOfOrder: [],
    });
  }, 400_000);
});

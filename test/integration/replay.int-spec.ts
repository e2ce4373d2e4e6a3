import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities, settleBatch } from '@settlement/activities';
import { createLogger } from '@settlement/observability';
import { startAdmin } from './support/admin';
import { appEnv, startApp } from './support/apps';
import { createTestDatabase, type TestDatabase } from './support/database';
import {
  assertConservation,
  count,
  openAccounts,
  startPartition,
  txValue,
  type TxSpec,
} from './support/fixtures';

const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const TEMPORAL = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
const TOKEN = `op-${randomBytes(16).toString('hex')}`;
const auth = { Authorization: `Bearer ${TOKEN}` };
const hex = () => randomBytes(4).toString('hex');
const topicsOut = { outcomes: `it-replay-out-${hex()}`, deadLetters: `it-replay-dlq-${hex()}` };

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 90_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('compliance replay on the real stack', () => {
  let db: TestDatabase;
  let kafka: Kafka;
  let producer: Producer;
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  let worker: { stop: () => Promise<void> } | undefined;
  const taskQueue = `it-replay-${hex()}`;
  const topic = `it-replay-${hex()}`;
  const bigTopic = `it-replay-big-${hex()}`;
  const trimmed = `it-replay-trim-${hex()}`;

  const send = (t: string, values: { key: string | null; value: string }[]) =>
    producer.send({
      topic: t,
      messages: values.map((v) => ({ partition: 0, key: v.key, value: v.value })),
    });
  const tx = (t: TxSpec) => ({ key: t.debit, value: txValue(t) });

  async function runReplay(body: object): Promise<Record<string, unknown>> {
    const started = await http.post('/admin/replays').set(auth).send(body);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({
      replayId: expect.any(String),
      workflowId: expect.any(String),
    });
    return waitFor('replay to complete', async () => {
      const res = await http.get(`/admin/replays/${started.body.replayId}`).set(auth);
      return res.body.status === 'COMPLETED' ? (res.body as Record<string, unknown>) : undefined;
    });
  }

  beforeAll(async () => {
    db = await createTestDatabase('replay');
    kafka = new Kafka({
      clientId: 'it-replay',
      brokers: BROKERS.split(','),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [topic, bigTopic, trimmed, ...Object.values(topicsOut)].map((t) => ({
        topic: t,
        numPartitions: 1,
        replicationFactor: 1,
      })),
    });
    producer = kafka.producer();
    await producer.connect();
    await openAccounts(db.db, [
      { id: 'bank', overdraftLimit: 10n ** 20n },
      { id: 'alice' },
      { id: 'bob' },
    ]);
    // offsets 0..7: settled, rejected, malformed, schema violation, duplicate, new, unknown account, conflict
    await send(topic, [
      tx({ id: 'a1', debit: 'bank', credit: 'alice', amount: '100' }),
      tx({ id: 'a2', debit: 'alice', credit: 'bob', amount: '1000' }),
      { key: 'bank', value: '{"id": "broken' },
      {
        key: 'bank',
        value: JSON.stringify({
          id: 'a3',
          debitAccount: 'bank',
          creditAccount: 'bob',
          amount: '01',
          currency: 'EUR',
          occurredAt: '2026-11-25T10:00:00Z',
        }),
      },
      tx({ id: 'a1', debit: 'bank', credit: 'alice', amount: '100' }),
      tx({ id: 'a4', debit: 'bank', credit: 'bob', amount: '5' }),
      tx({ id: 'a5', debit: 'bank', credit: 'nobody', amount: '5' }),
      tx({ id: 'a1', debit: 'bank', credit: 'alice', amount: '7' }),
    ]);
    // Live settlement already applied [0, 3): a1 SETTLED, a2 REJECTED, offset 2 dead-lettered.
    await startPartition(db.db, topic, 0);
    const live = [0, 1, 2].map((o) => ({
      offset: String(o),
      key: o === 2 ? 'bank' : o === 0 ? 'bank' : 'alice',
      value: '',
      timestamp: '0',
    }));
    live[0].value = txValue({ id: 'a1', debit: 'bank', credit: 'alice', amount: '100' });
    live[1].value = txValue({ id: 'a2', debit: 'alice', credit: 'bob', amount: '1000' });
    live[2].value = '{"id": "broken';
    await settleBatch(
      { db: db.db, topics: topicsOut },
      {
        batchId: `${topic}-0-0-3`,
        topic,
        partition: 0,
        fromOffset: '0',
        nextOffset: '3',
        messages: live,
        deadLettered: 0,
        closedAt: Date.now(),
      },
      'live',
    );
    await send(
      bigTopic,
      Array.from({ length: 300 }, (_, i) =>
        tx({ id: `big-${i}`, debit: 'bank', credit: 'bob', amount: '1' }),
      ),
    );
    await send(
      trimmed,
      Array.from({ length: 5 }, (_, i) =>
        tx({ id: `trim-${i}`, debit: 'bank', credit: 'bob', amount: '1' }),
      ),
    );
    // kafkajs needs fresh metadata to find the partition leader for DeleteRecords.
    await admin.fetchTopicMetadata({ topics: [trimmed] });
    await admin.deleteTopicRecords({ topic: trimmed, partitions: [{ partition: 0, offset: '2' }] });
    await admin.disconnect();

    ({ app, http } = await startAdmin(db.url, {
      KAFKA_TOPIC: topic,
      KAFKA_OUTCOME_TOPIC: topicsOut.outcomes,
      KAFKA_DLQ_TOPIC: topicsOut.deadLetters,
      TEMPORAL_TASK_QUEUE: taskQueue,
      ADMIN_TOKEN: TOKEN,
      ADMIN_READONLY_TOKENS: `ro-${TOKEN}`,
      REPLAY_MAX_MESSAGES_PER_SECOND: '100',
      REPLAY_SOURCE_TOPICS: [topic, bigTopic, trimmed].join(','),
    }));
  });

  afterAll(async () => {
    await worker?.stop();
    await app?.close();
    await producer?.disconnect();
    await db?.drop();
  });

  async function startInProcessWorker() {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
    } catch {
      // already installed in this process
    }
    const connection = await NativeConnection.connect({ address: TEMPORAL });
    const w = await Worker.create({
      connection,
      taskQueue,
      workflowsPath: require.resolve('../../libs/workflows/src'),
      activities: createActivities({
        db: db.db,
        producer,
        topics: topicsOut,
        logger: createLogger('it-replay', 'warn'),
        kafka,
      }),
    });
    const running = w.run();
    worker = {
      stop: async () => {
        w.shutdown();
        await running;
        await connection.close();
      },
    };
  }

  it('refuses with 422 a range beyond the log end, before retention, or on an unknown topic or partition; nothing is recorded', async () => {
    const cases: [object, RegExp][] = [
      [{ from: { offset: '0' }, to: { offset: '9' } }, /beyond the log end/],
      [{ topic: trimmed, from: { offset: '0' }, to: { offset: '5' } }, /before retention/],
      [{ topic: trimmed, from: { timestamp: 0 }, to: { offset: '5' } }, /before retention/],
      [{ from: { offset: '0' }, to: { timestamp: Date.now() + 3_600_000 } }, /beyond the log end/],
      [{ partitions: [3], from: { offset: '0' }, to: { offset: '1' } }, /no partition 3/],
    ];
    for (const [body, reason] of cases) {
      const res = await http.post('/admin/replays').set(auth).send(body);
      expect(res.status).toBe(422);
      expect(res.body.error).toBe('UNPROCESSABLE_ENTITY');
      expect(res.body.message).toMatch(reason);
    }
    expect(await count(db.db, 'replays')).toBe(0);
  });

  it('400 naming the field for malformed replay bodies, 404 for unknown replays, 401/403 by token', async () => {
    const cases: [unknown, string][] = [
      [{ to: { offset: '1' } }, 'from'],
      [{ from: {}, to: { offset: '1' } }, 'from'],
      [{ from: { offset: '0', timestamp: 1 }, to: { offset: '1' } }, 'from'],
      [{ from: { offset: '-1' }, to: { offset: '1' } }, 'from.offset'],
      [{ from: { offset: '5' }, to: { offset: '1' } }, 'to'],
      [{ from: { timestamp: 'yesterday' }, to: { offset: '1' } }, 'from.timestamp'],
      [{ from: { offset: '0' }, to: { offset: '1' }, partitions: [0, 0] }, 'partitions'],
      [{ from: { offset: '0' }, to: { offset: '1' }, mode: 'dry' }, 'mode'],
    ];
    for (const [body, field] of cases) {
      const res = await http
        .post('/admin/replays')
        .set(auth)
        .send(body as object);
      expect(res.status).toBe(400);
      expect(res.body.message).toContain(`'${field}'`);
    }
    expect((await http.get('/admin/replays/rpl-nope').set(auth)).status).toBe(404);
    expect((await http.post('/admin/replays/rpl-nope/cancel').set(auth)).status).toBe(404);
    expect((await http.get('/admin/replays/rpl-nope')).status).toBe(401);
    const ro = await http
      .post('/admin/replays')
      .set({ Authorization: `Bearer ro-${TOKEN}` })
      .send({ from: { offset: '0' }, to: { offset: '1' } });
    expect(ro.status).toBe(403);
    expect(await count(db.db, 'replays')).toBe(0);
  });

  it('replays settled, rejected and invalid messages with exactly reconciling counts, never settling twice', async () => {
    await startInProcessWorker();
    const postingsBefore = await count(db.db, 'postings');
    const first = await runReplay({ from: { offset: '0' }, to: { offset: '8' } });
    expect(first.counts).toEqual({
      read: 8,
      alreadySettled: 3,
      settled: 1,
      rejected: 1,
      deadLettered: 3,
    });
    expect(await count(db.db, 'postings')).toBe(postingsBefore + 2);
    expect(await count(db.db, 'dead_letters')).toBe(3);
    const reasons = await db.db.execute<{ offset: string; reason: string }>(
      sql`select "offset"::text, reason from dead_letters order by "offset"`,
    );
    expect(reasons.map((r) => [r.offset, r.reason])).toEqual([
      ['2', 'MALFORMED_JSON'],
      ['3', 'SCHEMA_VIOLATION'],
      ['7', 'DUPLICATE_CONFLICT'],
    ]);
    const a4 = await http.get('/admin/transactions/a4').set(auth);
    expect(a4.body).toMatchObject({ status: 'SETTLED', offset: '5' });
    expect((await http.get('/admin/transactions/a5').set(auth)).body).toMatchObject({
      status: 'REJECTED',
      reason: 'UNKNOWN_ACCOUNT',
    });

    // The same range again: everything is already in the ledger.
    const second = await runReplay({ from: { offset: '0' }, to: { offset: '8' } });
    expect(second.counts).toEqual({
      read: 8,
      alreadySettled: 5,
      settled: 0,
      rejected: 0,
      deadLettered: 3,
    });
    expect(await count(db.db, 'postings')).toBe(postingsBefore + 2);
    expect(await count(db.db, 'dead_letters')).toBe(3);
    await assertConservation(db.db);

    // Live consumption is undisturbed: the partition cursor and the group's offsets did not move.
    const cursor = await db.db.execute<{ n: string }>(
      sql`select next_offset::text as n from partition_cursors where topic = ${topic}`,
    );
    expect(cursor[0].n).toBe('3');
    const admin = kafka.admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId: 'settlement-ingest', topics: [topic] });
    await admin.disconnect();
    expect(committed[0].partitions.every((p) => p.offset === '-1')).toBe(true);
  });

  it('verify mode (by timestamps) re-derives outcomes without writing and reports differences', async () => {
    const postings = await count(db.db, 'postings');
    const batches = await count(db.db, 'batches');
    const verified = await runReplay({
      from: { timestamp: 0 },
      to: { timestamp: new Date().toISOString() },
      mode: 'verify',
    });
    expect(verified.counts).toEqual({
      read: 8,
      alreadySettled: 1,
      settled: 2,
      rejected: 2,
      deadLettered: 3,
    });
    expect(verified.differences).toBe(0);
    expect(await count(db.db, 'postings')).toBe(postings);
    expect(await count(db.db, 'batches')).toBe(batches);
    // Remove a dead letter behind the ledger's back (test only): verify reports it.
    await db.db.execute(sql`delete from dead_letters where "offset" = 3`);
    const diff = await runReplay({ from: { offset: '0' }, to: { offset: '8' }, mode: 'verify' });
    expect(diff.differences).toBe(1);
    expect(diff.differenceSamples).toEqual([
      {
        partition: 0,
        offset: '3',
        transactionId: null,
        expected: 'DEAD_LETTER SCHEMA_VIOLATION',
        actual: 'no dead letter',
      },
    ]);
  });

  it('can be cancelled, and is rate-limited', async () => {
    const started = await http
      .post('/admin/replays')
      .set(auth)
      .send({ topic: bigTopic, from: { offset: '0' }, to: { offset: '300' }, mode: 'verify' });
    expect(started.status).toBe(202);
    const id = started.body.replayId as string;
    await waitFor('first chunk', async () => {
      const r = await http.get(`/admin/replays/${id}`).set(auth);
      return r.body.counts.read > 0 ? true : undefined;
    });
    const cancel = await http.post(`/admin/replays/${id}/cancel`).set(auth);
    expect(cancel.status).toBe(202);
    const done = await waitFor('cancelled', async () => {
      const r = await http.get(`/admin/replays/${id}`).set(auth);
      return r.body.status === 'CANCELLED' ? r.body : undefined;
    });
    // 100 messages per second: far from all 300 were read when the cancel arrived.
    expect(done.counts.read).toBeLessThan(300);
    expect((await http.post(`/admin/replays/${id}/cancel`).set(auth)).status).toBe(409);
    const audit = await db.db.execute<{ action: string }>(
      sql`select action from audit_log where target = ${id} order by id`,
    );
    expect(audit.map((a) => a.action)).toEqual([
      'POST /admin/replays',
      'POST /admin/replays/:id/cancel',
    ]);
  });

  it('shares one rate budget between concurrent replays', async () => {
    const startedAt = Date.now();
    const ids = await Promise.all(
      [0, 1].map(async () => {
        const res = await http
          .post('/admin/replays')
          .set(auth)
          .send({ topic: bigTopic, from: { offset: '0' }, to: { offset: '300' }, mode: 'verify' });
        expect(res.status).toBe(202);
        return res.body.replayId as string;
      }),
    );
    const done = await Promise.all(
      ids.map((id) =>
        waitFor('replay to complete', async () => {
          const r = await http.get(`/admin/replays/${id}`).set(auth);
          return r.body.status === 'COMPLETED'
            ? (r.body as { counts: { read: number } })
            : undefined;
        }),
      ),
    );
    const seconds = (Date.now() - startedAt) / 1000;
    const read = done.reduce((n, r) => n + r.counts.read, 0);
    process.stdout.write(
      `2 replays read ${read} messages in ${seconds.toFixed(1)} s under one budget of 100/s (${(read / seconds).toFixed(0)}/s)\n`,
    );
    expect(read).toBe(600);
    // Six chunks of 100 take turns at 100 messages per second in total (the first one is free):
    // at least 5 s. Each replay pacing itself alone at 100/s would finish both in about 3 s.
    expect(seconds).toBeGreaterThanOrEqual(5);
  });

  it('survives the worker being killed half way: resumes, counts stay exact', async () => {
    await worker?.stop();
    worker = undefined;
    // The built worker app (npm run build), as production runs it, in a process of its own.
    const workerEnv = appEnv({
      databaseUrl: db.url,
      topics: { transactions: topic, ...topicsOut },
      taskQueue,
      groupId: `it-replay-worker-${hex()}`,
    });
    const spawnWorker = () => startApp('worker', workerEnv, { label: 'replay-kill' });
    const first = await spawnWorker();
    const postings = await count(db.db, 'postings');
    const started = await http
      .post('/admin/replays')
      .set(auth)
      .send({ topic: bigTopic, from: { offset: '0' }, to: { offset: '300' } });
    expect(started.status).toBe(202);
    const id = started.body.replayId as string;
    await waitFor('some progress', async () => {
      const r = await http.get(`/admin/replays/${id}`).set(auth);
      return r.body.counts.read > 0 ? true : undefined;
    });
    await first.kill();
    const mid = (await http.get(`/admin/replays/${id}`).set(auth)).body;
    expect(mid.status).toBe('RUNNING');
    expect(mid.counts.read).toBeLessThan(300);
    const second = await spawnWorker();
    try {
      const done = await waitFor('replay to complete after the restart', async () => {
        const r = await http.get(`/admin/replays/${id}`).set(auth);
        return r.body.status === 'COMPLETED' ? r.body : undefined;
      });
      expect(done.counts).toEqual({
        read: 300,
        alreadySettled: 0,
        settled: 300,
        rejected: 0,
        deadLettered: 0,
      });
      expect(await count(db.db, 'postings')).toBe(postings + 600);
      expect(await count(db.db, 'transactions', sql`id like 'big-%'`)).toBe(300);
      await assertConservation(db.db);
    } finally {
      await second.stop();
    }
  });
});

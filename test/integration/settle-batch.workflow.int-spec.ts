import fs from 'node:fs';
import { sql } from 'drizzle-orm';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Admin, Producer } from 'kafkajs';
import {
  settleBatchWorkflowId,
  WORKFLOW_TYPES,
  type SettleBatchInput,
  type SettleBatchResult,
} from '@settlement/contracts';
import { startSettleBatch, tracingWorkerOptions } from '@settlement/temporal';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../../apps/worker/src/workflow-bundle';
import { createTestDatabase, type TestDatabase } from './support/database';
import {
  assertConservation,
  balanceOf,
  batch,
  count,
  openAccounts,
  outboxMessages,
  startPartition,
} from './support/fixtures';
import { waitFor } from './support/apps';
import { createTopics, readTopic, testKafka } from './support/kafka';
import { startWorker, temporalClient, uniqueTaskQueue, WORKFLOWS_PATH } from './support/temporal';

const HISTORIES = path.resolve(__dirname, '../fixtures/histories');
/** Recorded before the settle activity published (settle, then publishOutcomes). */
const HISTORY_FIXTURE = path.join(HISTORIES, 'settle-batch.json');
/** Recorded with the settle activity publishing (no publishOutcomes activity). */
const PUBLISHED_HISTORY_FIXTURE = path.join(HISTORIES, 'settle-batch-published.json');

/** The activities a workflow history scheduled, in order. */
const scheduledActivities = (history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>) =>
  (history.events ?? []).flatMap((e) =>
    e.activityTaskScheduledEventAttributes?.activityType?.name
      ? [e.activityTaskScheduledEventAttributes.activityType.name]
      : [],
  );

describe('settleBatch workflow on the real Temporal dev server', () => {
  const kafka = testKafka('workflow-test');
  let db: TestDatabase;
  let admin: Admin;
  let producer: Producer;
  let client: Client;
  let topics: Awaited<ReturnType<typeof createTopics>>;
  let stopWorker: () => Promise<void>;
  const taskQueue = uniqueTaskQueue('settle');

  beforeAll(async () => {
    db = await createTestDatabase('workflow');
    admin = kafka.admin();
    await admin.connect();
    topics = await createTopics(admin, 'workflow', 3);
    producer = kafka.producer();
    await producer.connect();
    client = await temporalClient();
    ({ stop: stopWorker } = await startWorker({ taskQueue, db: db.db, producer, topics }));
    await openAccounts(db.db, [
      { id: 'bank', overdraftLimit: 1_000_000n },
      { id: 'alice' },
      { id: 'bob' },
    ]);
    // One partition per test, so each test's batches chain on their own.
    for (const p of [0, 1, 2, 3, 7]) await startPartition(db.db, topics.transactions, p);
  });

  afterAll(async () => {
    await stopWorker();
    await producer.disconnect();
    await admin.disconnect();
    await client.connection.close();
    await db.drop();
  });

  const run = async (input: SettleBatchInput): Promise<SettleBatchResult> => {
    const started = await startSettleBatch(client, taskQueue, input);
    if (started.alreadyStarted) throw new Error(`${started.workflowId} already started`);
    return started.result();
  };

  it('settles a batch, publishes every outcome in the settle activity and survives a replay of its own history', async () => {
    const input = batch(topics.transactions, 0, 0, [
      { id: 'w1', debit: 'bank', credit: 'alice', amount: '100' },
      { id: 'w2', debit: 'alice', credit: 'bob', amount: '30' },
      { id: 'w3', debit: 'bob', credit: 'alice', amount: '31' },
    ]);
    const result = await run(input);
    expect(result).toMatchObject({
      settled: 2,
      rejected: 1,
      alreadyApplied: false,
      published: true,
    });
    expect(await balanceOf(db.db, 'alice')).toBe(70n);
    await assertConservation(db.db);

    const published = await readTopic(kafka, topics.outcomes, 3);
    const events = published
      .map((m) => JSON.parse(m.value))
      .sort((a, b) => a.id.localeCompare(b.id));
    expect(events.map((e) => [e.id, e.status, e.reason])).toEqual([
      ['w1', 'SETTLED', undefined],
      ['w2', 'SETTLED', undefined],
      ['w3', 'REJECTED', 'INSUFFICIENT_FUNDS'],
    ]);
    expect(await outboxMessages(db.db, sql`batch_id = ${input.batchId}`)).toBe(3);
    expect(
      await count(db.db, 'outbox', sql`batch_id = ${input.batchId} and published_at is null`),
    ).toBe(0);

    // Replaying the recorded history with today's workflow code proves it is deterministic.
    const history = await client.workflow
      .getHandle(settleBatchWorkflowId(input.batchId))
      .fetchHistory();
    expect(scheduledActivities(history)).toEqual(['settleBatch']);
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'live-history');
  });

  it('shows the batch in the Web UI: search attributes, a one-sentence summary and details', async () => {
    // Partition 7: a cursor of its own (settlement needs no Kafka partition behind it).
    const input = batch(topics.transactions, 7, 0, [
      { id: 'ui1', debit: 'bank', credit: 'alice', amount: '7' },
      { id: 'ui2', debit: 'bob', credit: 'alice', amount: '1000000' },
    ]);
    await run(input);
    const handle = client.workflow.getHandle(settleBatchWorkflowId(input.batchId));
    const described = await handle.describe();
    const attrs = Object.fromEntries(
      described.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value]),
    );
    expect(attrs).toMatchObject({
      SettlementTopic: topics.transactions,
      SettlementPartition: '7',
      SettlementFirstOffset: 0,
      SettlementLastOffset: 1,
      SettlementStatus: 'SETTLED',
      SettlementSettled: 1,
      SettlementRejected: 1,
      SettlementDeadLettered: 0,
    });
    expect(await described.staticSummary()).toBe(
      `${topics.transactions}[7] offsets 0-1: 2 messages`,
    );
    expect(await described.staticDetails()).toContain(`batch ${input.batchId}`);
    expect(await described.staticDetails()).toMatch(/closed by ingest at \d{4}-\d\d-\d\dT/);

    // What an operator types into the Web UI's search box finds it (visibility is eventually consistent).
    const query = `SettlementTopic = '${topics.transactions}' AND SettlementPartition = '7' AND SettlementFirstOffset <= 1 AND SettlementLastOffset >= 1 AND SettlementRejected > 0`;
    let found: string[] = [];
    for (let i = 0; i < 50 && found.length === 0; i++) {
      found = [];
      for await (const w of client.workflow.list({ query })) found.push(w.workflowId);
      if (found.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(found).toEqual([settleBatchWorkflowId(input.batchId)]);
  });

  it.each([
    ['before the settle activity published', HISTORY_FIXTURE, ['settleBatch', 'publishOutcomes']],
    ['with the settle activity publishing', PUBLISHED_HISTORY_FIXTURE, ['settleBatch']],
  ])(
    'replays the committed history fixture recorded %s, so a non-deterministic change fails here',
    async (_, file, activities) => {
      // Exported with `temporal workflow show --output json` from a run of the first test.
      const history = historyFromJSON(JSON.parse(fs.readFileSync(file, 'utf8')));
      expect(scheduledActivities(history)).toEqual(activities);
      await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'fixture');
      // As the production bundle holds them: with the OpenTelemetry workflow interceptors.
      await Worker.runReplayHistory(
        {
          workflowsPath: WORKFLOWS_PATH,
          interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES },
          sinks: tracingWorkerOptions().sinks,
        },
        history,
        'fixture-with-tracing',
      );
    },
  );

  it('publishes through publishOutcomes when the settle activity cannot (outcome topic missing), each outcome once', async () => {
    // A worker of its own whose outcome topic does not exist yet: Kafka refuses the settle
    // activity's send at once (no client retries), the workflow falls back to publishOutcomes,
    // which succeeds once the topic is there.
    const lateTopic = `${topics.outcomes}-late`;
    const refusing = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await refusing.connect();
    const fallbackQueue = uniqueTaskQueue('settle-fallback');
    const fallbackWorker = await startWorker({
      taskQueue: fallbackQueue,
      db: db.db,
      producer: refusing,
      topics: { outcomes: lateTopic, deadLetters: topics.deadLetters },
    });
    try {
      const input = batch(topics.transactions, 3, 0, [
        { id: 'f1', debit: 'bank', credit: 'alice', amount: '3' },
        { id: 'f2', debit: 'bank', credit: 'bob', amount: '4' },
      ]);
      const started = await startSettleBatch(client, fallbackQueue, input);
      const handle = client.workflow.getHandle(started.workflowId);
      await waitFor('the fallback to publishOutcomes', async () =>
        scheduledActivities(await handle.fetchHistory()).includes('publishOutcomes'),
      );
      expect(
        await count(db.db, 'outbox', sql`batch_id = ${input.batchId} and published_at is null`),
      ).toBe(1);
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: lateTopic }] });

      const result = await started.result();
      expect(result).toMatchObject({ settled: 2, published: false });
      expect(scheduledActivities(await handle.fetchHistory())).toEqual([
        'settleBatch',
        'publishOutcomes',
      ]);
      // Read for longer than the two take to arrive: a copy would show up here.
      const events = await readTopic(kafka, lateTopic, 3, 5_000);
      expect(events.map((e) => e.headers['dedupe-key']).sort()).toEqual(['f1', 'f2']);
      expect(
        await count(db.db, 'outbox', sql`batch_id = ${input.batchId} and published_at is null`),
      ).toBe(0);
    } finally {
      await fallbackWorker.stop();
      await refusing.disconnect();
    }
  });

  it('refuses a second start of the same batch and leaves the ledger untouched', async () => {
    const input = batch(topics.transactions, 1, 0, [
      { id: 'w4', debit: 'bank', credit: 'bob', amount: '5' },
    ]);
    await run(input);
    await expect(run(input)).rejects.toThrow(/already started/i);
    // Same batch id through a new workflow run (e.g. after the first run's retention): no effect.
    const again = await client.workflow.execute(WORKFLOW_TYPES.settleBatch, {
      taskQueue,
      workflowId: `${settleBatchWorkflowId(input.batchId)}-again`,
      args: [input],
    });
    expect(again).toMatchObject({ alreadyApplied: true, settled: 1 });
    expect(await count(db.db, 'postings', sql`batch_id = ${input.batchId}`)).toBe(2);
  });

  it('waits for the earlier batch of the partition when a later one starts first', async () => {
    const first = batch(topics.transactions, 2, 0, [
      { id: 'w5', debit: 'bank', credit: 'bob', amount: '7' },
    ]);
    const second = batch(topics.transactions, 2, 1, [
      { id: 'w6', debit: 'bob', credit: 'alice', amount: '7' },
    ]);
    const later = run(second);
    await new Promise((r) => setTimeout(r, 500));
    expect(await count(db.db, 'transactions', sql`partition = 2`)).toBe(0);
    await run(first);
    await expect(later).resolves.toMatchObject({ settled: 1 });
  });
});

import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Client } from '@temporalio/client';
import type { Producer } from 'kafkajs';
import { settleBatchWorkflowId } from '@settlement/contracts';
import { recordPendingBatch } from '@settlement/db';
import { createLogger } from '@settlement/observability';
import { startSettleBatch } from '@settlement/temporal';
import { OrphanSweeper } from '../../apps/ingest/src/orphan-sweeper';
import { createTestDatabase, type TestDatabase } from './support/database';
import { batch, count, openAccounts, startPartition } from './support/fixtures';
import { createTopics, testKafka } from './support/kafka';
import { startWorker, temporalClient, uniqueTaskQueue } from './support/temporal';

/**
 * Orphaned PENDING batches (recorded by an ingest that died before starting the workflow)
 * are started or abandoned by the sweep that every ingest instance runs.
 */
describe('orphaned PENDING batches (real PostgreSQL and Temporal)', () => {
  const T = `it-orphans-${randomBytes(4).toString('hex')}`;
  const taskQueue = uniqueTaskQueue('orphans');
  let db: TestDatabase;
  let client: Client;
  let producer: Producer;
  let stopWorker: () => Promise<void>;
  let sweeper: OrphanSweeper;

  beforeAll(async () => {
    db = await createTestDatabase('orphans');
    await openAccounts(db.db, [{ id: 'bank', overdraftLimit: 10n ** 20n }, { id: 'bob' }]);
    const kafka = testKafka('orphans');
    const admin = kafka.admin();
    await admin.connect();
    const topics = await createTopics(admin, 'orphans');
    await admin.disconnect();
    producer = kafka.producer();
    await producer.connect();
    client = await temporalClient();
    ({ stop: stopWorker } = await startWorker({ taskQueue, db: db.db, producer, topics }));
    sweeper = new OrphanSweeper(db.db, client, createLogger('it-orphans', 'warn'), {
      topic: T,
      taskQueue,
      orphanAfterMs: 0,
    });
  }, 120_000);

  afterAll(async () => {
    await stopWorker?.();
    await producer?.disconnect();
    await client?.connection.close();
    await db?.drop();
  });

  const statusOf = async (id: string) =>
    (
      await db.db.execute<{ status: string; staged: boolean; error: string | null }>(
        sql`select status, staged_messages is not null as staged, error from batches where id = ${id}`,
      )
    )[0];

  it('starts a recorded batch whose workflow never started, and it settles', async () => {
    await startPartition(db.db, T, 0);
    const orphan = batch(T, 0, 0, [{ id: 'o1', debit: 'bank', credit: 'bob', amount: '5' }]);
    await recordPendingBatch(db.db, orphan, settleBatchWorkflowId(orphan.batchId), {
      messageCount: 1,
      staged: true,
    });
    const started = Date.now();
    expect(await sweeper.sweep()).toEqual({ started: 1, abandoned: 0 });
    for (let i = 0; i < 300 && (await statusOf(orphan.batchId)).status !== 'SETTLED'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await statusOf(orphan.batchId)).toMatchObject({ status: 'SETTLED', staged: false });
    expect(await count(db.db, 'transactions', sql`id = 'o1'`)).toBe(1);
    process.stdout.write(`orphan started and settled in ${Date.now() - started} ms\n`);
    // A second sweep finds nothing to do.
    expect(await sweeper.sweep()).toEqual({ started: 0, abandoned: 0 });
  });

  it('marks a batch whose workflow ended without settling it abandoned and frees its payload', async () => {
    await startPartition(db.db, T, 1);
    // Its predecessor never comes: the workflow waits, then an operator terminates it.
    const stuck = batch(T, 1, 10, [{ id: 's1', debit: 'bank', credit: 'bob', amount: '5' }]);
    await recordPendingBatch(db.db, stuck, settleBatchWorkflowId(stuck.batchId), {
      messageCount: 1,
      staged: true,
    });
    const start = await startSettleBatch(client, taskQueue, { ...stuck, messages: undefined });
    await client.workflow.getHandle(start.workflowId).terminate('test: never settles');
    expect(await sweeper.sweep()).toEqual({ started: 0, abandoned: 1 });
    const row = await statusOf(stuck.batchId);
    expect(row).toMatchObject({ status: 'FAILED', staged: false });
    expect(row.error).toMatch(/^abandoned: .*TERMINATED/);
  });
});

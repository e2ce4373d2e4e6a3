import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { InvalidBatchError, PredecessorPendingError } from '@settlement/activities';
import {
  SEARCH_ATTRIBUTES,
  type SettleBatchInput,
  type SettleBatchResult,
} from '@settlement/contracts';
import { startSettleBatch } from '@settlement/temporal';
import { connectTestEnvironment, uniqueTaskQueue, withWorker } from './support';

const input = (batchId: string): SettleBatchInput => ({
  batchId,
  topic: 'transactions',
  partition: 3,
  fromOffset: '100',
  nextOffset: '104',
  messages: [],
  deadLettered: 1,
  deadLetterReasons: { MALFORMED_JSON: 1 },
  closedAt: '2026-11-29T10:00:00.000Z',
});

const settled = (batchId: string): SettleBatchResult => ({
  batchId,
  settled: 2,
  rejected: 1,
  duplicates: 0,
  deadLettered: 1,
  rejectedReasons: { INSUFFICIENT_FUNDS: 1 },
  deadLetterReasons: {},
  alreadyApplied: false,
});

describe('settleBatch workflow (stubbed activities)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await connectTestEnvironment();
  });
  afterAll(() => env?.teardown());

  it('settles, then publishes the outcomes when the result does not say published (older activities), and shows the counts as search attributes', async () => {
    const taskQueue = uniqueTaskQueue('settle');
    const calls: string[] = [];
    const batch = input('b-ok');
    const result = await withWorker(
      env,
      taskQueue,
      {
        settleBatch: async (i) => {
          calls.push(`settle ${i.batchId}`);
          return settled(i.batchId);
        },
        publishOutcomes: async ({ batchId }) => {
          calls.push(`publish ${batchId}`);
          return { published: 3 };
        },
      },
      async () => {
        const started = await startSettleBatch(env.client, taskQueue, batch);
        const result = await started.result();
        const described = await env.client.workflow.getHandle(started.workflowId).describe();
        expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.status)).toBe('SETTLED');
        expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.settled)).toBe(2);
        // Ingest's dead letter and settlement's count add up.
        expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.deadLetterReasons)).toEqual([
          'MALFORMED_JSON',
        ]);
        return result;
      },
    );
    expect(result).toEqual(settled('b-ok'));
    expect(calls).toEqual(['settle b-ok', 'publish b-ok']);
  });

  it('skips publishOutcomes when the settle activity published the outcomes itself', async () => {
    const taskQueue = uniqueTaskQueue('settle-published');
    const calls: string[] = [];
    const result = await withWorker(
      env,
      taskQueue,
      {
        settleBatch: async (i) => {
          calls.push(`settle ${i.batchId}`);
          return { ...settled(i.batchId), published: true };
        },
        publishOutcomes: async ({ batchId }) => {
          calls.push(`publish ${batchId}`);
          return { published: 3 };
        },
      },
      async () => (await startSettleBatch(env.client, taskQueue, input('b-fast'))).result(),
    );
    expect(result).toEqual({ ...settled('b-fast'), published: true });
    expect(calls).toEqual(['settle b-fast']);
  });

  it('runs publishOutcomes when publishing in the settle activity failed, passing on what it sent', async () => {
    const taskQueue = uniqueTaskQueue('settle-fallback');
    const calls: string[] = [];
    const published: { batchId: string; sent?: string[] }[] = [];
    const result = await withWorker(
      env,
      taskQueue,
      {
        settleBatch: async (i) => {
          calls.push(`settle ${i.batchId}`);
          return { ...settled(i.batchId), published: false, sentOutboxRows: ['41'] };
        },
        publishOutcomes: async (step) => {
          calls.push(`publish ${step.batchId}`);
          published.push(step);
          return { published: 0 };
        },
      },
      async () => (await startSettleBatch(env.client, taskQueue, input('b-fallback'))).result(),
    );
    expect(result.published).toBe(false);
    expect(calls).toEqual(['settle b-fallback', 'publish b-fallback']);
    expect(published).toEqual([{ batchId: 'b-fallback', sent: ['41'] }]);
  });

  it('retries a batch whose predecessor is pending until it applies, then publishes once', async () => {
    const taskQueue = uniqueTaskQueue('settle-retry');
    let attempts = 0;
    let published = 0;
    const result = await withWorker(
      env,
      taskQueue,
      {
        settleBatch: async (i) => {
          if (++attempts < 3) throw new PredecessorPendingError('the previous batch is in flight');
          return settled(i.batchId);
        },
        publishOutcomes: async () => {
          published++;
          return { published: 3 };
        },
      },
      async () => (await startSettleBatch(env.client, taskQueue, input('b-retry'))).result(),
    );
    expect(result.settled).toBe(2);
    expect(attempts).toBe(3);
    expect(published).toBe(1);
  });

  it('fails at once on a malformed batch (non-retryable), publishes nothing and shows FAILED', async () => {
    const taskQueue = uniqueTaskQueue('settle-invalid');
    let attempts = 0;
    let published = 0;
    await withWorker(
      env,
      taskQueue,
      {
        settleBatch: async () => {
          attempts++;
          throw new InvalidBatchError('batch b-bad is malformed: offset range');
        },
        publishOutcomes: async () => {
          published++;
          return { published: 0 };
        },
      },
      async () => {
        const started = await startSettleBatch(env.client, taskQueue, input('b-bad'));
        const failure = await started.result().catch((err: unknown) => err);
        expect(failure).toBeInstanceOf(WorkflowFailedError);
        const cause = (failure as WorkflowFailedError).cause?.cause;
        expect(cause).toBeInstanceOf(ApplicationFailure);
        expect((cause as ApplicationFailure).type).toBe('InvalidBatchError');
        const described = await env.client.workflow.getHandle(started.workflowId).describe();
        expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.status)).toBe('FAILED');
      },
    );
    expect(attempts).toBe(1);
    expect(published).toBe(0);
  });

  it('a cancel during the settle activity cancels the activity and ends the workflow cancelled, not FAILED', async () => {
    const taskQueue = uniqueTaskQueue('settle-cancel');
    let settling!: () => void;
    const inActivity = new Promise<void>((resolve) => (settling = resolve));
    let stopped!: (reason: string) => void;
    const activityStopped = new Promise<string>((resolve) => (stopped = resolve));
    let published = 0;
    await withWorker(
      env,
      taskQueue,
      {
        // Waits, heartbeating, as a settle attempt blocked on a lock would.
        settleBatch: async (i) => {
          settling();
          const ctx = Context.current();
          try {
            for (;;) {
              ctx.heartbeat();
              await ctx.sleep(100);
            }
          } catch (err) {
            stopped(err instanceof CancelledFailure ? err.message : String(err));
            throw err;
          }
          return settled(i.batchId);
        },
        publishOutcomes: async () => {
          published++;
          return { published: 0 };
        },
      },
      async () => {
        const started = await startSettleBatch(env.client, taskQueue, input('b-cancel'));
        await inActivity;
        const handle = env.client.workflow.getHandle(started.workflowId);
        await handle.cancel();
        const failure = await started.result().catch((err: unknown) => err);
        expect(failure).toBeInstanceOf(WorkflowFailedError);
        expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
        const described = await handle.describe();
        expect(described.status.name).toBe('CANCELLED');
        expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.status)).toBe('RUNNING');
        // The workflow closes at once (the default TRY_CANCEL); the activity learns it at its
        // next heartbeat, as CANCELLED or, its workflow closed, NOT_FOUND - before the worker
        // shuts down (which would say WORKER_SHUTDOWN).
        expect(['CANCELLED', 'NOT_FOUND']).toContain(await activityStopped);
      },
    );
    expect(published).toBe(0);
  });

  it('answers a second start of the same batch with the first run (a redelivery)', async () => {
    const taskQueue = uniqueTaskQueue('settle-twice');
    let settles = 0;
    await withWorker(
      env,
      taskQueue,
      {
        settleBatch: async (i) => {
          settles++;
          return settled(i.batchId);
        },
        publishOutcomes: async () => ({ published: 3 }),
      },
      async () => {
        const first = await startSettleBatch(env.client, taskQueue, input('b-twice'));
        await first.result();
        const second = await startSettleBatch(env.client, taskQueue, input('b-twice'));
        expect(second.alreadyStarted).toBe(true);
        expect((await second.result()).batchId).toBe('b-twice');
      },
    );
    expect(settles).toBe(1);
  });
});

import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type {
  ReplayChunkInput,
  ReplayChunkResult,
  ReplayInput,
  ReplayStatus,
} from '@settlement/activities';
import { startReplay } from '@settlement/temporal';
import { replayProgressQuery } from '@settlement/workflows';
import { connectTestEnvironment, uniqueTaskQueue, withWorker } from './support';

const replay = (replayId: string, over: Partial<ReplayInput> = {}): ReplayInput => ({
  replayId,
  topic: 'transactions',
  mode: 'settle',
  ranges: [{ partition: 0, fromOffset: '0', toOffset: '10' }],
  chunkSize: 5,
  maxMessagesPerSecond: 1_000_000,
  ...over,
});

/** A replayChunk stub that settles every message it is given and keeps running totals. */
function chunkCounter() {
  const calls: ReplayChunkInput[] = [];
  let read = 0;
  return {
    calls,
    replayChunk: async (input: ReplayChunkInput): Promise<ReplayChunkResult> => {
      calls.push(input);
      const n = Number(BigInt(input.toOffset) - BigInt(input.fromOffset));
      read += n;
      return {
        counts: { read, alreadySettled: 0, settled: read, rejected: 0, deadLettered: 0 },
        differences: 0,
        readNow: n,
        outboxBatchId: `replay-batch-${input.partition}-${input.fromOffset}`,
      };
    },
  };
}

describe('replayRange workflow (stubbed activities)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await connectTestEnvironment();
  });
  afterAll(() => env?.teardown());

  it('reads every partition in chunks, publishes each chunk and records COMPLETED', async () => {
    const taskQueue = uniqueTaskQueue('replay');
    const chunks = chunkCounter();
    const published: string[] = [];
    const statuses: ReplayStatus[] = [];
    const input = replay('rpl-ok', {
      ranges: [
        { partition: 0, fromOffset: '0', toOffset: '12' },
        { partition: 2, fromOffset: '40', toOffset: '43' },
      ],
    });
    const result = await withWorker(
      env,
      taskQueue,
      {
        replayChunk: chunks.replayChunk,
        reserveReplayBudget: async () => ({ waitMs: 0 }),
        publishOutcomes: async ({ batchId }) => {
          published.push(batchId);
          return { published: 1 };
        },
        recordReplayStatus: async ({ status }) => {
          statuses.push(status);
        },
      },
      async () => (await startReplay(env.client, taskQueue, input, 'test')).result(),
    );
    expect(chunks.calls.map((c) => `${c.partition}:${c.fromOffset}-${c.toOffset}`)).toEqual([
      '0:0-5',
      '0:5-10',
      '0:10-12',
      '2:40-43',
    ]);
    expect(published).toHaveLength(4);
    expect(statuses).toEqual(['COMPLETED']);
    expect(result).toMatchObject({
      status: 'COMPLETED',
      next: { '0': '12', '2': '43' },
      counts: { read: 15, settled: 15 },
    });
  });

  it('continues as new after 100 chunks and finishes the range with the totals carried over', async () => {
    const taskQueue = uniqueTaskQueue('replay-can');
    const chunks = chunkCounter();
    const input = replay('rpl-can', {
      ranges: [{ partition: 1, fromOffset: '0', toOffset: '103' }],
      chunkSize: 1,
      mode: 'verify',
    });
    const { result, runs } = await withWorker(
      env,
      taskQueue,
      {
        replayChunk: async (i) => ({ ...(await chunks.replayChunk(i)), outboxBatchId: null }),
        reserveReplayBudget: async () => ({ waitMs: 0 }),
        recordReplayStatus: async () => undefined,
      },
      async () => {
        const handle = await startReplay(env.client, taskQueue, input, 'test');
        const result = await handle.result();
        const runs: string[] = [];
        for await (const w of env.client.workflow.list({
          query: `WorkflowId = '${handle.workflowId}'`,
        }))
          runs.push(w.status.name);
        return { result, runs };
      },
    );
    expect(chunks.calls).toHaveLength(103);
    // The first run ends CONTINUED_AS_NEW; the second completes.
    expect(runs.sort()).toEqual(['COMPLETED', 'CONTINUED_AS_NEW']);
    expect(result).toMatchObject({
      status: 'COMPLETED',
      next: { '1': '103' },
      counts: { read: 103 },
    });
  });

  it('waits in a durable timer for its turn in the shared rate budget; a cancel there records CANCELLED', async () => {
    const taskQueue = uniqueTaskQueue('replay-cancel');
    const chunks = chunkCounter();
    const statuses: ReplayStatus[] = [];
    const reserved: number[] = [];
    const input = replay('rpl-cancel', { maxMessagesPerSecond: 5 });
    await withWorker(
      env,
      taskQueue,
      {
        replayChunk: async (i) => ({ ...(await chunks.replayChunk(i)), outboxBatchId: null }),
        // The shared budget is free for the first chunk, then another replay holds it for a minute.
        reserveReplayBudget: async ({ messages }) => {
          reserved.push(messages);
          return { waitMs: reserved.length === 1 ? 0 : 60_000 };
        },
        recordReplayStatus: async ({ status }) => {
          statuses.push(status);
        },
      },
      async () => {
        const handle = await startReplay(env.client, taskQueue, input, 'test');
        await waitFor(async () => (await handle.query(replayProgressQuery)).next['0'] === '5');
        // Reserved its turn, now in the timer until it comes.
        await waitFor(async () => (await pendingTimers(env, handle.workflowId)) === 1);
        await handle.cancel();
        const failure = await handle.result().catch((err: unknown) => err);
        expect(failure).toBeInstanceOf(WorkflowFailedError);
        expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      },
    );
    // The second chunk was reserved but never read: the cancel came during its wait.
    expect(chunks.calls).toHaveLength(1);
    expect(reserved).toEqual([5, 5]);
    expect(statuses).toEqual(['CANCELLED']);
  });

  it('records FAILED with the workflow id and the cause when a chunk cannot be replayed', async () => {
    const taskQueue = uniqueTaskQueue('replay-fail');
    const recorded: { status: ReplayStatus; error?: string }[] = [];
    await withWorker(
      env,
      taskQueue,
      {
        replayChunk: async () => {
          throw ApplicationFailure.nonRetryable('replay rpl-gone has no row', 'ReplayNotFound');
        },
        reserveReplayBudget: async () => ({ waitMs: 0 }),
        recordReplayStatus: async ({ status, error }) => {
          recorded.push({ status, error });
        },
      },
      async () => {
        const handle = await startReplay(env.client, taskQueue, replay('rpl-gone'), 'test');
        await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
      },
    );
    expect(recorded).toEqual([
      { status: 'FAILED', error: expect.stringContaining('replay-rpl-gone: Activity task failed') },
    ]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Timers started and not fired in the workflow's history so far. */
async function pendingTimers(env: TestWorkflowEnvironment, workflowId: string): Promise<number> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  let open = 0;
  for (const e of history.events ?? []) {
    if (e.timerStartedEventAttributes) open++;
    if (e.timerFiredEventAttributes || e.timerCanceledEventAttributes) open--;
  }
  return open;
}

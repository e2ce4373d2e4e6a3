import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { WORKFLOW_TYPES, type CycleSummary, type CycleWindow } from '@settlement/contracts';
import { startSettlementCycle } from '@settlement/temporal';
import type { settlementCycle } from '@settlement/workflows';
import { connectTestEnvironment, uniqueTaskQueue, withWorker, type ActivityStubs } from './support';

const window = (cycleId: string): CycleWindow => ({
  cycleId,
  windowStart: '2026-11-29T09:00:00.000Z',
  cutoff: '2026-11-29T10:00:00.000Z',
  status: 'CLOSED',
});
const summary = (cycleId: string, status: CycleSummary['status']): CycleSummary => ({
  ...window(cycleId),
  status,
  transactions: 12,
  positions: 4,
  totals: { EUR: { debits: '1200', credits: '1200' } },
});

/** Every cycle step stubbed, each call logged by name; `over` replaces some. */
function cycleSteps(calls: string[], over: ActivityStubs = {}): ActivityStubs {
  const log =
    <T>(name: string, value: T) =>
    async () => {
      calls.push(name);
      return value;
    };
  return {
    closeCycleWindow: async ({ cutoff }) => {
      calls.push(`closeCycleWindow ${cutoff}`);
      return window('20261129T100000Z');
    },
    awaitWindowSettled: log('awaitWindowSettled', { waitedMs: 0 }),
    computeNetPositions: log('computeNetPositions', summary('20261129T100000Z', 'COMPUTED')),
    verifyNetPositions: log('verifyNetPositions', summary('20261129T100000Z', 'VERIFIED')),
    publishCycle: log('publishCycle', summary('20261129T100000Z', 'COMPLETED')),
    recordCycleFailure: async ({ error }) => {
      calls.push(`recordCycleFailure ${error}`);
    },
    ...over,
  };
}

describe('settlementCycle workflow (stubbed activities)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await connectTestEnvironment();
  });
  afterAll(() => env?.teardown());

  const run = async (taskQueue: string, topic: string, cutoff: Date) => {
    const { workflowId } = await startSettlementCycle(
      env.client,
      { topic, taskQueue },
      cutoff,
      'test',
    );
    return env.client.workflow.getHandle<typeof settlementCycle>(workflowId).result();
  };

  it('closes the window, waits for its batches, computes, verifies and publishes, in that order', async () => {
    const taskQueue = uniqueTaskQueue('cycle');
    const calls: string[] = [];
    const result = await withWorker(env, taskQueue, cycleSteps(calls), () =>
      run(taskQueue, `topic-${taskQueue}`, new Date('2026-11-29T10:00:00Z')),
    );
    expect(calls).toEqual([
      'closeCycleWindow 2026-11-29T10:00:00.000Z',
      'awaitWindowSettled',
      'computeNetPositions',
      'verifyNetPositions',
      'publishCycle',
    ]);
    expect(result).toEqual(summary('20261129T100000Z', 'COMPLETED'));
  });

  it('records the root cause as the cycle failure when verification fails, and fails', async () => {
    const taskQueue = uniqueTaskQueue('cycle-fail');
    const calls: string[] = [];
    const steps = cycleSteps(calls, {
      verifyNetPositions: async () => {
        calls.push('verifyNetPositions');
        throw ApplicationFailure.nonRetryable(
          'EUR debits 1200 != credits 1100',
          'CycleVerificationFailed',
        );
      },
    });
    await withWorker(env, taskQueue, steps, async () => {
      const failure = await run(
        taskQueue,
        `topic-${taskQueue}`,
        new Date('2026-11-29T10:00:00Z'),
      ).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
    });
    expect(calls).toEqual([
      'closeCycleWindow 2026-11-29T10:00:00.000Z',
      'awaitWindowSettled',
      'computeNetPositions',
      'verifyNetPositions',
      'recordCycleFailure EUR debits 1200 != credits 1100',
    ]);
  });

  it('fails without touching anything when neither the input nor the workflow id names a cut-off', async () => {
    const taskQueue = uniqueTaskQueue('cycle-nocutoff');
    const calls: string[] = [];
    await withWorker(env, taskQueue, cycleSteps(calls), async () => {
      const handle = await env.client.workflow.start<typeof settlementCycle>(
        WORKFLOW_TYPES.settlementCycle,
        {
          taskQueue,
          workflowId: `cycle-without-cutoff-${taskQueue}`,
          args: [{ requestedBy: 'test' }],
        },
      );
      const failure = await handle.result().catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect(((failure as WorkflowFailedError).cause as ApplicationFailure).type).toBe(
        'CycleOutOfOrder',
      );
    });
    expect(calls).toEqual([]);
  });
});

import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  ApplicationFailure,
  CancellationScope,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
// Relative, type-only imports: the workflow bundle must not pull Node code.
import type { SettlementActivities } from '../../activities/src/activities';
import {
  CYCLE_SEARCH_ATTRIBUTES as SA,
  cutoffOfWorkflowId,
  type CycleSummary,
  type CycleWindow,
  type SettlementCycleInput,
} from '../../contracts/src/cycle';
import { CYCLE_NON_RETRYABLE_ERROR_TYPES, ERROR_TYPES } from '../../contracts/src/names';

const NON_RETRYABLE = CYCLE_NON_RETRYABLE_ERROR_TYPES;

const { closeCycleWindow, computeNetPositions, verifyNetPositions, recordCycleFailure } =
  proxyActivities<SettlementActivities>({
    startToCloseTimeout: '2m',
    retry: {
      // closeCycleWindow retries here while the previous cycle is still running.
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '10s',
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });

const { awaitWindowSettled } = proxyActivities<SettlementActivities>({
  // Each attempt polls ~20 s; the cycle's grace deadline (in its row) bounds the whole wait.
  startToCloseTimeout: '1m',
  heartbeatTimeout: '10s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 1.5,
    maximumInterval: '5s',
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

const { publishCycle } = proxyActivities<SettlementActivities>({
  startToCloseTimeout: '30s',
  // Kafka may be down for a while; the cycle is verified and stored, the event waits.
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

const keys = {
  cutoff: defineSearchAttributeKey(SA.cutoff, SearchAttributeType.DATETIME),
  windowStart: defineSearchAttributeKey(SA.windowStart, SearchAttributeType.DATETIME),
  status: defineSearchAttributeKey(SA.status, SearchAttributeType.KEYWORD),
  transactions: defineSearchAttributeKey(SA.transactions, SearchAttributeType.INT),
  totals: defineSearchAttributeKey(SA.totals, SearchAttributeType.KEYWORD_LIST),
};

/**
 * A settlement cycle: close the window (previous cut-off, cut-off], wait for the batches
 * read before the cut-off, compute and store net positions, verify them, publish. Each step
 * is an activity keyed by the cycle's row, so a retry or a worker crash at any point
 * resumes without counting anything twice. The Schedule starts it without a cut-off: its
 * scheduled time, which Temporal appends to the workflow id, is the cut-off.
 */
export async function settlementCycle(input: SettlementCycleInput = {}): Promise<CycleSummary> {
  const info = workflowInfo();
  const cutoff = input.cutoff ?? cutoffOfWorkflowId(info.workflowId)?.toISOString();
  if (!cutoff) {
    throw ApplicationFailure.nonRetryable(
      `no cut-off: neither in the input nor at the end of the workflow id ${info.workflowId}`,
      ERROR_TYPES.cycleOutOfOrder,
    );
  }
  let window: CycleWindow | undefined;
  try {
    window = await closeCycleWindow({
      cutoff,
      workflowId: info.workflowId,
      requestedBy: input.requestedBy ?? 'schedule',
    });
    show(window);
    await awaitWindowSettled({ cycleId: window.cycleId });
    const computed = await computeNetPositions({ cycleId: window.cycleId });
    show(computed);
    await verifyNetPositions({ cycleId: window.cycleId });
    const summary = await publishCycle.executeWithOptions(
      { startToCloseTimeout: '30s', summary: describe(computed) },
      [{ cycleId: window.cycleId }],
    );
    show(summary);
    return summary;
  } catch (err) {
    if (window) {
      const cycleId = window.cycleId;
      // An activity failure's own message is generic; its cause says what went wrong.
      const root = err instanceof Error && err.cause instanceof Error ? err.cause : err;
      const error = root instanceof Error ? root.message : String(root);
      await CancellationScope.nonCancellable(() => recordCycleFailure({ cycleId, error }));
      show({ ...window, status: 'FAILED' });
    }
    throw err;
  }
}

/** The window and totals in the Web UI: search attributes, and the run's current details. */
function show(c: CycleWindow | CycleSummary): void {
  const totals = 'totals' in c ? c.totals : undefined;
  upsertSearchAttributes([
    { key: keys.cutoff, value: new Date(c.cutoff) },
    { key: keys.windowStart, value: new Date(c.windowStart) },
    { key: keys.status, value: c.status },
    ...('transactions' in c ? [{ key: keys.transactions, value: c.transactions }] : []),
    ...(totals
      ? [
          {
            key: keys.totals,
            value: Object.entries(totals).map(
              ([cur, t]) => `${cur} debits=${t.debits} credits=${t.credits}`,
            ),
          },
        ]
      : []),
  ]);
  setCurrentDetails(describe(c));
}

function describe(c: CycleWindow | CycleSummary): string {
  const lines = [
    `Settlement cycle ${c.cycleId} ${c.status}: window (${c.windowStart}, ${c.cutoff}]`,
  ];
  if ('totals' in c) {
    lines.push(`${c.transactions} transactions, ${c.positions} positions`);
    for (const [cur, t] of Object.entries(c.totals))
      lines.push(`${cur}: debits ${t.debits}, credits ${t.credits}`);
  }
  return lines.join('\n');
}

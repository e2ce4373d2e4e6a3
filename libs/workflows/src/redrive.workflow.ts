import {
  CancellationScope,
  ContinueAsNew,
  continueAsNew,
  defineQuery,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
// Relative, type-only imports: the workflow bundle must not pull Node code.
import type { SettlementActivities } from '../../activities/src/activities';
import type {
  RedriveCounts,
  RedriveInput,
  RedriveProgress,
  RedriveStatus,
} from '../../activities/src/redrive.types';
import { groupDigits, SEARCH_ATTRIBUTES } from '../../contracts/src/search-attributes';

const { redriveChunk, recordRedriveStatus } = proxyActivities<SettlementActivities>({
  startToCloseTimeout: '1m',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    nonRetryableErrorTypes: ['RedriveNotFound'],
  },
});

const { publishRedriven } = proxyActivities<SettlementActivities>({
  // Publishing may look for an earlier attempt's message on the topic first (after a crash).
  startToCloseTimeout: '5m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

export const redriveProgressQuery = defineQuery<RedriveProgress>('progress');

/** Chunks per workflow run before continueAsNew, which bounds the event history. */
const CHUNKS_PER_RUN = 100;

/** The Web UI's view of a re-drive: a sentence as current details, the status as an attribute. */
function showProgress(input: RedriveInput, status: RedriveStatus, c: RedriveCounts): void {
  const sentence = `re-drive ${input.redriveId}: ${groupDigits(c.resubmitted)} of ${groupDigits(c.matched)} dead letters resubmitted, ${groupDigits(c.skipped)} skipped (their id has an outcome)`;
  setCurrentDetails(status === 'RUNNING' ? sentence : `${sentence} (${status})`);
  if (status !== 'RUNNING')
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.status, value: status }]);
}

/**
 * Bulk re-drive of OPEN dead letters: chunk by chunk (oldest first, up to the newest dead
 * letter at the start), each chunk turns its dead letters RESUBMITTED in one database
 * transaction with the re-drive's progress, then publishes them to the source topic, where
 * they take the normal path. Idempotent per dead letter (a dead letter is resubmitted once,
 * whatever is retried); rate-limited by a deterministic sleep; cancelling records CANCELLED
 * after the chunk in hand is published.
 */
export async function redriveDeadLetters(input: RedriveInput): Promise<RedriveProgress> {
  let cursor = input.cursor ?? '0';
  let counts: RedriveCounts = { matched: 0, resubmitted: 0, skipped: 0 };
  let status: RedriveStatus = 'RUNNING';
  setHandler(redriveProgressQuery, () => ({ status, cursor, ...counts }));
  const chunkSize = Math.max(1, Math.min(100, input.maxPerSecond));
  let chunks = 0;
  try {
    for (;;) {
      if (chunks >= CHUNKS_PER_RUN) {
        await continueAsNew<typeof redriveDeadLetters>({ ...input, cursor });
      }
      const startedAt = Date.now();
      const result = await redriveChunk({ redriveId: input.redriveId, cursor, chunkSize });
      counts = {
        matched: result.matched,
        resubmitted: result.resubmitted,
        skipped: result.skipped,
      };
      cursor = result.cursor;
      chunks++;
      showProgress(input, status, counts);
      // Non-cancellable: what the chunk marked RESUBMITTED is published, cancelled or not.
      await CancellationScope.nonCancellable(() => publishRedriven({ redriveId: input.redriveId }));
      if (result.done) break;
      const budgetMs = Math.ceil((result.resubmittedNow * 1000) / input.maxPerSecond);
      const spentMs = Date.now() - startedAt;
      if (budgetMs > spentMs) await sleep(budgetMs - spentMs);
    }
    status = 'COMPLETED';
    await recordRedriveStatus({ redriveId: input.redriveId, status });
    showProgress(input, status, counts);
    return { status, cursor, ...counts };
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    status = isCancellation(err) ? 'CANCELLED' : 'FAILED';
    const error = isCancellation(err)
      ? undefined
      : `${workflowInfo().workflowId}: ${err instanceof Error ? err.message : String(err)}`;
    await CancellationScope.nonCancellable(() =>
      recordRedriveStatus({ redriveId: input.redriveId, status, error }),
    );
    showProgress(input, status, counts);
    throw err;
  }
}

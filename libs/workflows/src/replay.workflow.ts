import {
  CancellationScope,
  ContinueAsNew,
  continueAsNew,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
// Relative, type-only imports: the workflow bundle must not pull Node code.
import type { SettlementActivities } from '../../activities/src/activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../../contracts/src/names';
import type {
  ReplayInput,
  ReplayProgress,
  ReplayStatus,
  ReplayTotals,
} from '../../activities/src/replay.types';
import {
  countAttributes,
  describeCounts,
  groupDigits,
  type SettlementStatusKeyword,
} from '../../contracts/src/search-attributes';

const { replayChunk } = proxyActivities<SettlementActivities>({
  // A chunk reads Kafka then writes one database transaction; a killed worker is noticed by
  // its missing heartbeats within seconds and the chunk is retried on another worker.
  startToCloseTimeout: '2m',
  heartbeatTimeout: '5s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
});

const { publishOutcomes, recordReplayStatus, reserveReplayBudget } =
  proxyActivities<SettlementActivities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
  });

export const replayProgressQuery = defineQuery<ReplayProgress>('progress');

/** Chunks per workflow run before continueAsNew, which bounds the event history. */
const CHUNKS_PER_RUN = 100;

/** The Web UI's view of a replay: status and counts as search attributes, a sentence as details. */
function showProgress(
  input: ReplayInput,
  status: SettlementStatusKeyword,
  totals: ReplayTotals,
): void {
  const c = totals.counts;
  const sentence = `replay ${input.replayId} of ${input.topic}: ${groupDigits(c.read)} read, ${groupDigits(c.alreadySettled)} already settled, ${describeCounts(c)}`;
  setCurrentDetails(status === 'RUNNING' ? sentence : `${sentence} (${status})`);
  if (status !== 'RUNNING' && patched('settlement-search-attributes')) {
    upsertSearchAttributes(countAttributes(status, c));
  }
}

/**
 * Compliance replay: re-reads each partition's range [fromOffset, toOffset) in chunks and
 * drives every chunk through the settlement path (or, in verify mode, compares it with the
 * ledger). Progress lives in workflow state and in the replays row, updated atomically with
 * each chunk's effect, so a worker killed half way resumes at the next chunk with exact
 * counts. Cancelling records CANCELLED. The rate limit is one budget shared by all replays
 * (REPLAY_MAX_MESSAGES_PER_SECOND in total): each chunk reserves its messages from it in the
 * database, then the workflow sleeps (a durable timer) until its reserved turn.
 */
export async function replayRange(input: ReplayInput): Promise<ReplayProgress> {
  const next: Record<string, string> = { ...(input.next ?? {}) };
  for (const r of input.ranges) next[String(r.partition)] ??= r.fromOffset;
  let totals: ReplayTotals = input.totals ?? {
    counts: { read: 0, alreadySettled: 0, settled: 0, rejected: 0, deadLettered: 0 },
    differences: 0,
  };
  let status: ReplayStatus = 'RUNNING';
  setHandler(replayProgressQuery, () => ({ status, next: { ...next }, ...totals }));

  const chunkSize = BigInt(Math.max(1, Math.min(input.chunkSize, input.maxMessagesPerSecond)));
  // Replays started before the shared budget keep pacing themselves alone (their histories).
  const sharedBudget = patched('replay-shared-rate-budget');
  let chunks = 0;
  try {
    for (const range of input.ranges) {
      const key = String(range.partition);
      const end = BigInt(range.toOffset);
      while (BigInt(next[key]) < end) {
        if (chunks >= CHUNKS_PER_RUN) {
          await continueAsNew<typeof replayRange>({ ...input, next, totals });
        }
        const from = BigInt(next[key]);
        const to = from + chunkSize < end ? from + chunkSize : end;
        if (sharedBudget) {
          const { waitMs } = await reserveReplayBudget({
            messages: Number(to - from),
            maxMessagesPerSecond: input.maxMessagesPerSecond,
          });
          if (waitMs > 0) await sleep(waitMs);
        }
        const startedAt = Date.now();
        const result = await replayChunk({
          replayId: input.replayId,
          topic: input.topic,
          partition: range.partition,
          fromOffset: from.toString(),
          toOffset: to.toString(),
          mode: input.mode,
        });
        totals = { counts: result.counts, differences: result.differences };
        showProgress(input, 'RUNNING', totals);
        next[key] = to.toString();
        chunks++;
        if (result.outboxBatchId) await publishOutcomes({ batchId: result.outboxBatchId });
        if (!sharedBudget) {
          // Before the shared budget: at most maxMessagesPerSecond per replay on average.
          const budgetMs = Math.ceil((result.readNow * 1000) / input.maxMessagesPerSecond);
          const spentMs = Date.now() - startedAt;
          if (budgetMs > spentMs) await sleep(budgetMs - spentMs);
        }
      }
    }
    status = 'COMPLETED';
    await recordReplayStatus({ replayId: input.replayId, status });
    showProgress(input, 'COMPLETED', totals);
    return { status, next, ...totals };
  } catch (err) {
    if (isCancellation(err)) {
      status = 'CANCELLED';
      await CancellationScope.nonCancellable(() =>
        recordReplayStatus({ replayId: input.replayId, status: 'CANCELLED' }),
      );
      showProgress(input, 'CANCELLED', totals);
      throw err;
    }
    if (isContinueAsNew(err)) throw err;
    status = 'FAILED';
    await CancellationScope.nonCancellable(() =>
      recordReplayStatus({
        replayId: input.replayId,
        status: 'FAILED',
        error: `${workflowInfo().workflowId}: ${err instanceof Error ? err.message : String(err)}`,
      }),
    );
    showProgress(input, 'FAILED', totals);
    throw err;
  }
}

function isContinueAsNew(err: unknown): boolean {
  return err instanceof ContinueAsNew;
}

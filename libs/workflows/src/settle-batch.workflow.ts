import {
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
} from '@temporalio/workflow';
// Relative imports only: path aliases do not resolve inside the workflow bundle.
import type { SettlementActivities } from '../../activities/src/activities';
import {
  publishStepFor,
  type SettleBatchInput,
  type SettleBatchResult,
} from '../../contracts/src/batch';
import { NON_RETRYABLE_ERROR_TYPES } from '../../contracts/src/names';
import {
  addReasons,
  countAttributes,
  describeCounts,
  describeRange,
  SEARCH_ATTRIBUTES,
} from '../../contracts/src/search-attributes';

const { settleBatch: settle } = proxyActivities<SettlementActivities>({
  // One PostgreSQL transaction for a whole batch, then its publishing (which gives up in
  // time, see publishBudgetMs); generous, it is bounded by lock waits.
  startToCloseTimeout: '60s',
  // The activity heartbeats every second: a killed worker's attempt is retried elsewhere
  // after 3 s, not 60 (its transaction rolled back with its connection).
  heartbeatTimeout: '3s',
  retry: {
    // PredecessorPendingError retries here until the previous batch of the partition lands.
    initialInterval: '100ms',
    backoffCoefficient: 1.5,
    maximumInterval: '1s',
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
});

const { publishOutcomes } = proxyActivities<SettlementActivities>({
  startToCloseTimeout: '30s',
  // Heartbeats as above: the batch's workflow (and ingest's in-flight slot) does not wait
  // 30 s for a killed worker; the heartbeat also reports what was sent (no second copy).
  heartbeatTimeout: '3s',
  // Kafka may be down for a while; outcomes are in the outbox and wait for it.
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** Histories recorded before the Web UI attributes existed replay without the upserts. */
const SEARCH_ATTRIBUTES_PATCH = 'settlement-search-attributes';

/**
 * Settles one micro-batch: the ledger write and its outcomes in one database transaction,
 * then the outcomes to Kafka, both in the settle activity; when its publishing fails, the
 * publishOutcomes activity sends the outcomes from the outbox. Both steps are idempotent by
 * database keys, so Temporal may retry either after a crash at any point. The Web UI shows the
 * counts as search attributes and as the workflow's current details.
 */
export async function settleBatch(input: SettleBatchInput): Promise<SettleBatchResult> {
  setCurrentDetails(`${describeRange(input)}: settling`);
  let result: SettleBatchResult;
  try {
    result = await settle(input);
    // Only when the settle activity did not publish (Kafka down, older activity versions).
    const publishStep = publishStepFor(input.batchId, result);
    if (publishStep) await publishOutcomes(publishStep);
  } catch (err) {
    if (!isCancellation(err) && patched(SEARCH_ATTRIBUTES_PATCH)) {
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.status, value: 'FAILED' }]);
      setCurrentDetails(
        `${describeRange(input)}: failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    throw err;
  }
  const counts = {
    settled: result.settled,
    rejected: result.rejected,
    deadLettered: result.deadLettered,
    deadLetterReasons: addReasons(input.deadLetterReasons, result.deadLetterReasons),
  };
  if (patched(SEARCH_ATTRIBUTES_PATCH)) upsertSearchAttributes(countAttributes('SETTLED', counts));
  setCurrentDetails(`${describeRange(input)}: ${describeCounts(counts)}`);
  if (result.alreadyApplied)
    log.info('batch was already in the ledger', { batchId: input.batchId });
  return result;
}

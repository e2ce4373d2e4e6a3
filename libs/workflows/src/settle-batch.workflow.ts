import { proxyActivities, log } from '@temporalio/workflow';
// Relative imports only: path aliases do not resolve inside the workflow bundle.
import type { SettlementActivities } from '../../activities/src/activities';
import type { SettleBatchInput, SettleBatchResult } from '../../contracts/src/batch';
import { NON_RETRYABLE_ERROR_TYPES } from '../../contracts/src/names';

const { settleBatch: settle } = proxyActivities<SettlementActivities>({
  // One PostgreSQL transaction for a whole batch; generous, it is bounded by lock waits.
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

/**
 * Settles one micro-batch: the ledger write and its outcomes in one database transaction
 * (settle), then the outcomes to Kafka (publish). Both steps are idempotent by database
 * keys, so Temporal may retry either after a crash at any point.
 */
export async function settleBatch(input: SettleBatchInput): Promise<SettleBatchResult> {
  const result = await settle(input);
  await publishOutcomes({ batchId: input.batchId });
  if (result.alreadyApplied)
    log.info('batch was already in the ledger', { batchId: input.batchId });
  return result;
}

import { ERROR_TYPES } from '@settlement/contracts';

/**
 * Error types the workflows' retry policies name. Business outcomes (REJECTED, dead
 * letters) are data, not errors; these are the cases where an activity cannot finish.
 */

/** The batch before this one in its partition is not settled yet; retrying waits for it. */
export class PredecessorPendingError extends Error {
  override readonly name = ERROR_TYPES.predecessorPending;
}

/** Another batch inserted one of this batch's transaction ids concurrently; retry recomputes. */
export class ConcurrentSettlementError extends Error {
  override readonly name = ERROR_TYPES.concurrentSettlement;
}

/** The batch itself is malformed (offsets, partition); retrying cannot help. */
export class InvalidBatchError extends Error {
  override readonly name = ERROR_TYPES.invalidBatch;
}

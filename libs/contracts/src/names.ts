/**
 * Names shared by ingest, worker and admin. Workflows import this file with a relative
 * path, so it must stay free of Node and framework imports.
 */
export const WORKFLOW_TYPES = {
  settleBatch: 'settleBatch',
  replayRange: 'replayRange',
  settlementCycle: 'settlementCycle',
  redriveDeadLetters: 'redriveDeadLetters',
} as const;

/** Default task queue; the deployed value comes from TEMPORAL_TASK_QUEUE. */
export const DEFAULT_TASK_QUEUE = 'settlement';

/**
 * Error type names, defined once: the error classes (libs/activities) take their `name`
 * from here and the workflows' retry policies name them from here.
 */
export const ERROR_TYPES = {
  /** The batch before this one in its partition is not settled yet (retryable). */
  predecessorPending: 'PredecessorPendingError',
  /** A concurrent batch took one of this batch's ids or debited an account (retryable). */
  concurrentSettlement: 'ConcurrentSettlementError',
  /** The batch is malformed; retrying cannot help. */
  invalidBatch: 'InvalidBatchError',
  /** A replay's row is missing; retrying cannot help. */
  replayNotFound: 'ReplayNotFound',
  /** A cut-off inside a window that already ran, or no cut-off at all. */
  cycleOutOfOrder: 'CycleOutOfOrder',
  /** The previous cycle failed: it must be re-run first. */
  previousCycleFailed: 'PreviousCycleFailed',
  /** The previous cycle is still running (retryable: this one waits). */
  previousCyclePending: 'PreviousCyclePending',
  /** Batches read before the cut-off are unsettled after the grace period. */
  cycleWindowNotSettled: 'CycleWindowNotSettled',
  /** Transactions open since the seal have not ended yet (retryable). */
  cycleSealDraining: 'CycleSealDraining',
  /** The positions do not net to zero or do not match the balances. */
  cycleVerificationFailed: 'CycleVerificationFailed',
  /** The cycle has no row. */
  cycleNotFound: 'CycleNotFound',
} as const;

/** The error types no activity retry can fix. */
export const NON_RETRYABLE_ERROR_TYPES: string[] = [
  ERROR_TYPES.invalidBatch,
  ERROR_TYPES.replayNotFound,
];

/** A settlement cycle's failures no retry can fix: an operator must look. */
export const CYCLE_NON_RETRYABLE_ERROR_TYPES: string[] = [
  ERROR_TYPES.cycleOutOfOrder,
  ERROR_TYPES.previousCycleFailed,
  ERROR_TYPES.cycleWindowNotSettled,
  ERROR_TYPES.cycleVerificationFailed,
  ERROR_TYPES.cycleNotFound,
];

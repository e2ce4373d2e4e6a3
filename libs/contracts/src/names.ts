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
} as const;

/** The error types no activity retry can fix. */
export const NON_RETRYABLE_ERROR_TYPES: string[] = [
  ERROR_TYPES.invalidBatch,
  ERROR_TYPES.replayNotFound,
];

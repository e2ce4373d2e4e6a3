/**
 * Names shared by ingest, worker and admin. Workflows import this file with a relative
 * path, so it must stay free of Node and framework imports.
 */
export const WORKFLOW_TYPES = {
  settleBatch: 'settleBatch',
  replayRange: 'replayRange',
  settlementCycle: 'settlementCycle',
  redriveDeadLetters: 'redriveDeadLetters',
  smokeWorkflow: 'smokeWorkflow',
} as const;

/** Default task queue; the deployed value comes from TEMPORAL_TASK_QUEUE. */
export const DEFAULT_TASK_QUEUE = 'settlement';

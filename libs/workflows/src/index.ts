// The worker's workflow bundle entry: every workflow the task queue serves.
export { settleBatch } from './settle-batch.workflow';
export { replayRange, replayProgressQuery } from './replay.workflow';

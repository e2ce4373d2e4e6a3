// The worker's workflow bundle entry: every workflow the task queue serves.
export { settleBatch } from './settle-batch.workflow';
export { replayRange, replayProgressQuery } from './replay.workflow';
export { redriveDeadLetters, redriveProgressQuery } from './redrive.workflow';
export { settlementCycle } from './settlement-cycle.workflow';

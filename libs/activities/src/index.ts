export * from './activities';
export { HEARTBEAT_EVERY_MS, heartbeating } from './heartbeat';
export * from './errors';
export { settleBatch, settleBatchWithOutbox } from './settle-batch.activity';
export { publishOutcomes } from './publish-outcomes.activity';
export { publishSettled } from './publish-settled';
export * from './replay';
// Dead-letter repair: resubmission (message, outcome check, exactly-once publish) and re-drive.
export * from './resubmission';
export * from './redrive';
export * from './redrive.types';
export * from './cycle.activity';

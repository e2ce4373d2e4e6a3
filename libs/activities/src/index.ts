export * from './activities';
export * from './errors';
export { settleBatch } from './settle-batch.activity';
export { publishOutcomes } from './publish-outcomes.activity';
export * from './replay';

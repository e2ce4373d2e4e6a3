export * from './connection';
export * from './settle-batch';

export * from './connection';
export * from './settle-batch';
export * from './settlement-cycle';
export * from './replay';
export * from './tracing';
export * from './redrive';

// Replay: the chunk and status activities and their types (the range reader is in libs/records).
export * from './replay.activity';
export * from './replay.types';
export type { RawMessage } from '@settlement/records';

// Replay: the chunk and status activities, their types, and the range reader (admin uses it).
export * from './replay.activity';
export * from './replay.types';
export { readPartitionRange, type RawMessage } from './replay-reader';

export * from './client';
export * from './codecs';
export * from './offsets';
export * from './refused-batch';
export * from './partitioner';

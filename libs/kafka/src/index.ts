export * from './client';
export * from './codecs';
export * from './refused-batch';

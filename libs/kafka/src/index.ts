export * from './client';
export * from './codecs';
export * from './offsets';

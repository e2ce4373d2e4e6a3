export * from './client';
export * from './codecs';

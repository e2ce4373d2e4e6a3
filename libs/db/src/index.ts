export * from './schema';
export * from './client';
export * from './migrate';

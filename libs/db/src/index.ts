export * from './schema';
export * from './client';
export * from './migrate';
export * from './ledger-store';
export * from './consumer-controls';
export * from './outbox-store';
export * from './ledger-check';
export * from './batch-store';

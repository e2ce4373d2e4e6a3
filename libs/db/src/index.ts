export * from './schema';
export * from './client';
export * from './migrate';
export * from './ledger-store';
export * from './consumer-controls';

export * from './generator';
export * from './load';
export * from './outage';

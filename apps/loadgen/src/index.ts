export * from './generator';
export * from './load';

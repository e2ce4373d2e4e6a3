export * from './names';
export * from './batch';

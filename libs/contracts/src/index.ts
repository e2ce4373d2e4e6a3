export * from './names';
export * from './batch';
export * from './dead-letter';

export * from './names';
export * from './batch';
export * from './dead-letter';
export * from './cycle';
export * from './search-attributes';

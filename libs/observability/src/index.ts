export * from './logger';
export * from './metrics';
export * from './health';
export * from './public-route';
export * from './redaction';
export * from './tracing';

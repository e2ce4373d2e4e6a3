export * from './bootstrap';
export * from './tokens';
export * from './infrastructure.module';

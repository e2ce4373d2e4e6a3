/**
 * Everything of @settlement/ledger except the content hash: no Node module is reachable from
 * this file, so Temporal workflow bundles may import it at runtime.
 */
export * from './money';
export * from './currencies';
export * from './timestamp';
export * from './transaction';
export * from './validation';
export * from './canonical';
export * from './outcomes';
export * from './posting';
export * from './netting';

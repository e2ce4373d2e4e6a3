/**
 * @settlement/ledger: the pure domain core (money, validation, content hash, outcomes,
 * posting). Only content-hash.ts imports a Node module (node:crypto). Temporal workflow code
 * must use `import type` from here, or import the crypto-free entry `./workflow-safe`.
 */
export * from './workflow-safe';
export * from './content-hash';

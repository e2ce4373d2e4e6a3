/**
 * The content hash: the only file of the library that imports a Node module. Workflow code
 * must not import it (nor index.ts at runtime; `import type` is fine).
 */
import * as crypto from 'node:crypto';
import { canonicalTransaction } from './canonical';
import type { Transaction } from './transaction';

/**
 * sha256, lower-case hex (64 chars), of {@link canonicalTransaction}. Equal for the same
 * transaction whatever its JSON whitespace, key order or extra fields; different as soon as
 * any semantic field differs (an `id` seen again with another hash is a DUPLICATE_CONFLICT).
 */
export function contentHash(tx: Transaction): string {
  return sha256Hex(canonicalTransaction(tx));
}

type OneShotHash = (algorithm: string, data: string, encoding: 'hex') => string;
/** Node >= 20.12 hashes a small input in one call, without a Hash object per transaction. */
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;

function sha256Hex(data: string): string {
  return oneShot
    ? oneShot('sha256', data, 'hex')
    : crypto.createHash('sha256').update(data).digest('hex'); // a string is hashed as UTF-8
}

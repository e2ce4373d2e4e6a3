/**
 * Canonical serialization of a transaction's semantic content: the input of the content
 * hash. Pure (no imports of Node): the hashing itself lives in content-hash.ts.
 *
 * Format (version 1): "settlement.tx.v1" then, for each field in the order id, debitAccount,
 * creditAccount, amount (decimal), currency, occurredAt (as written), reference (absent ->
 * ""), a line "<length>:<value>" where length counts UTF-16 code units of the value. The
 * length prefix makes the encoding injective: no value can imitate a field boundary.
 */
import type { Transaction } from './transaction';

export const CANONICAL_VERSION = 'settlement.tx.v1';

export function canonicalTransaction(tx: Transaction): string {
  const fields = [
    tx.id,
    tx.debitAccount,
    tx.creditAccount,
    tx.amount.toString(),
    tx.currency,
    tx.occurredAt,
    tx.reference ?? '',
  ];
  let out = CANONICAL_VERSION;
  for (const f of fields) out += `\n${f.length}:${f}`;
  return out;
}

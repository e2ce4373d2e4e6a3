/**
 * Validation of messages of the topic `transactions` against CONTRACT.md. Pure and
 * deterministic: no Node or framework imports (TextDecoder is a global of Node and of the
 * Temporal workflow sandbox, and is only created when bytes are decoded).
 *
 * Order of checks (the first failure wins, so the reported field is deterministic):
 *   0. null value (a Kafka tombstone)                         -> MALFORMED_JSON, field '$'
 *   1. size: more than maxBytes bytes of UTF-8                 -> TOO_LARGE, field '$'
 *   2. bytes not valid UTF-8 (or a string with lone surrogates) -> MALFORMED_JSON, field '$'
 *   3. not JSON (a UTF-8 byte order mark counts as not JSON)   -> MALFORMED_JSON, field '$'
 *   4. JSON but not an object (array, null, number, string...)  -> SCHEMA_VIOLATION, field '$'
 *   5. fields in the order id, debitAccount, creditAccount, amount, currency, occurredAt,
 *      reference                                               -> SCHEMA_VIOLATION, that field
 * Unknown extra fields are ignored. Duplicate keys: JSON.parse keeps the last occurrence, so
 * `{"amount":"1","amount":"2"}` is an amount of 2 (and the content hash sees 2).
 */
import { isCurrencyCode } from './currencies';
import { tryParseAmount } from './money';
import { isRfc3339Timestamp } from './timestamp';
import {
  IDENTIFIER_PATTERN,
  MAX_MESSAGE_BYTES,
  MAX_REFERENCE_CODE_POINTS,
  type FailureField,
  type KeyCheckResult,
  type ParseFailure,
  type ParseOptions,
  type ParseResult,
  type Transaction,
  type ValidationFailureReason,
} from './transaction';

let decoder: { decode(bytes: Uint8Array): string } | undefined;

/** Anything but printable ASCII, tab, CR and LF: such strings take the full UTF-8 checks. */
const NON_ASCII = /[^ -~\t\n\r]/;

/** Strict UTF-8 decoding; undefined when the bytes are not valid UTF-8. A BOM is kept. */
export function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  decoder ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    return decoder.decode(bytes);
  } catch {
    // `fatal: true`: the first sequence that is not UTF-8 throws.
  }
  return undefined;
}

/** Number of bytes of the UTF-8 encoding of `s` (a lone surrogate counts 3, as U+FFFD). */
export function utf8ByteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      // Past the end charCodeAt is NaN, which is no low surrogate: a lone high one.
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** True when `s` has no unpaired UTF-16 surrogate, i.e. it is encodable as UTF-8 exactly. */
export function isWellFormedUnicode(s: string): boolean {
  // Stryker disable next-line EqualityOperator: `<=` is equivalent, charCodeAt(length) is NaN
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

/** Number of Unicode code points of a well-formed string. */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1); // NaN past the end: no pair
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function fail(reason: ValidationFailureReason, field: FailureField, message: string): ParseFailure {
  return { ok: false, reason, field, message };
}

const violation = (field: FailureField, message: string) =>
  fail('SCHEMA_VIOLATION', field, message);

const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

function checkIdentifier(obj: Record<string, unknown>, field: FailureField): ParseFailure | null {
  if (!hasOwn(obj, field)) return violation(field, `${field} is required`);
  const v = obj[field];
  if (typeof v !== 'string')
    return violation(field, `${field} must be a string, got ${describe(v)}`);
  if (!IDENTIFIER_PATTERN.test(v)) {
    return violation(field, `${field} must be 1 to 64 characters of [A-Za-z0-9._:-]`);
  }
  return null;
}

/**
 * Validates a message value (bytes as read from Kafka, or a string) and returns the
 * {@link Transaction} or the first rule it breaks. Never throws.
 */
export function parseTransactionMessage(
  value: Uint8Array | string | null | undefined,
  opts: ParseOptions = {},
): ParseResult {
  const maxBytes = opts.maxBytes ?? MAX_MESSAGE_BYTES;
  if (value === null || value === undefined) {
    // A Kafka tombstone (null value) has no JSON to parse.
    return fail('MALFORMED_JSON', '$', 'value is null');
  }
  let text: string;
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent, a string that
  // skips this fast path gets the same answer from the general path below, only slower
  if (typeof value === 'string' && !NON_ASCII.test(value)) {
    // Printable ASCII only (the usual message): one byte per character, nothing ill-formed.
    if (value.length > maxBytes) {
      return fail('TOO_LARGE', '$', `value is ${value.length} bytes, more than ${maxBytes}`);
    }
    text = value;
  } else if (typeof value === 'string') {
    const size = utf8ByteLength(value);
    if (size > maxBytes) {
      return fail('TOO_LARGE', '$', `value is ${size} bytes, more than ${maxBytes}`);
    }
    if (!isWellFormedUnicode(value)) {
      return fail('MALFORMED_JSON', '$', 'value is not valid UTF-8 (unpaired surrogate)');
    }
    text = value;
  } else {
    if (value.byteLength > maxBytes) {
      return fail('TOO_LARGE', '$', `value is ${value.byteLength} bytes, more than ${maxBytes}`);
    }
    const decoded = decodeUtf8Strict(value);
    if (decoded === undefined) return fail('MALFORMED_JSON', '$', 'value is not valid UTF-8');
    text = decoded;
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('MALFORMED_JSON', '$', 'value is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return violation('$', `value must be a JSON object, got ${describe(parsed)}`);
  }
  const obj = parsed as Record<string, unknown>;

  const idErr =
    checkIdentifier(obj, 'id') ??
    checkIdentifier(obj, 'debitAccount') ??
    checkIdentifier(obj, 'creditAccount');
  if (idErr) return idErr;
  const id = obj.id as string;
  const debitAccount = obj.debitAccount as string;
  const creditAccount = obj.creditAccount as string;
  if (creditAccount === debitAccount) {
    return violation('creditAccount', 'creditAccount must differ from debitAccount');
  }

  if (!hasOwn(obj, 'amount')) return violation('amount', 'amount is required');
  const rawAmount = obj.amount;
  if (typeof rawAmount !== 'string') {
    return violation(
      'amount',
      `amount must be a string of decimal digits (minor units), got ${describe(rawAmount)}`,
    );
  }
  const amount = tryParseAmount(rawAmount);
  if (!amount.ok) return violation('amount', amount.message);

  if (!hasOwn(obj, 'currency')) return violation('currency', 'currency is required');
  const currency = obj.currency;
  if (typeof currency !== 'string') {
    return violation('currency', `currency must be a string, got ${describe(currency)}`);
  }
  if (!isCurrencyCode(currency)) {
    return violation('currency', 'currency must be an active ISO 4217 alpha-3 code in upper case');
  }

  if (!hasOwn(obj, 'occurredAt')) return violation('occurredAt', 'occurredAt is required');
  const occurredAt = obj.occurredAt;
  if (typeof occurredAt !== 'string') {
    return violation('occurredAt', `occurredAt must be a string, got ${describe(occurredAt)}`);
  }
  if (!isRfc3339Timestamp(occurredAt)) {
    return violation(
      'occurredAt',
      'occurredAt must be an RFC 3339 timestamp such as 2026-11-25T17:10:10Z',
    );
  }

  const tx: Transaction = {
    id,
    debitAccount,
    creditAccount,
    amount: amount.value,
    currency,
    occurredAt,
  };

  // Decision: a null reference means "no reference" (many serializers write null for an
  // absent optional field).
  const reference = hasOwn(obj, 'reference') ? obj.reference : undefined;
  if (reference !== undefined && reference !== null) {
    if (typeof reference !== 'string') {
      return violation('reference', `reference must be a string, got ${describe(reference)}`);
    }
    if (!isWellFormedUnicode(reference)) {
      return violation('reference', 'reference must not contain unpaired surrogates');
    }
    if (reference.includes('\u0000')) {
      // PostgreSQL text cannot hold U+0000: accepting it would fail the batch's insert.
      return violation('reference', 'reference must not contain U+0000');
    }
    if (codePointLength(reference) > MAX_REFERENCE_CODE_POINTS) {
      return violation('reference', 'reference must be at most 140 characters');
    }
    tx.reference = reference;
  }
  return { ok: true, tx };
}

/**
 * Checks the Kafka key against a valid transaction: it must be present and equal, as
 * UTF-8, to `tx.debitAccount` (partitioning by debit account is what orders each account's
 * transactions). A missing or different key is a SCHEMA_VIOLATION on field 'key'.
 */
export function validateKey(
  key: Uint8Array | string | null | undefined,
  tx: Pick<Transaction, 'debitAccount'>,
): KeyCheckResult {
  if (key === null || key === undefined) {
    return violation('key', 'key is required and must equal debitAccount');
  }
  const text = typeof key === 'string' ? key : decodeUtf8Strict(key);
  if (text === undefined) return violation('key', 'key is not valid UTF-8');
  if (text !== tx.debitAccount) return violation('key', 'key must equal debitAccount');
  return { ok: true };
}

/** {@link parseTransactionMessage} then {@link validateKey}: the full check of one record. */
export function parseTransactionRecord(
  key: Uint8Array | string | null | undefined,
  value: Uint8Array | string | null | undefined,
  opts: ParseOptions = {},
): ParseResult {
  const r = parseTransactionMessage(value, opts);
  if (!r.ok) return r;
  const k = validateKey(key, r.tx);
  return k.ok ? r : k;
}

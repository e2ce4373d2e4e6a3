/**
 * Money as bigint minor units. Nothing in this file ever turns an amount into a JS number:
 * strings are checked with a regular expression first, then converted with BigInt().
 *
 * Pure: no Node or framework imports (workflow code may import it).
 */

/** Largest transaction amount the contract accepts: 2^63 - 1 (fits PostgreSQL int8). */
export const MAX_AMOUNT = 9223372036854775807n;

/** Smallest transaction amount the contract accepts. */
export const MIN_AMOUNT = 1n;

/**
 * Largest magnitude of a ledger integer (balance, overdraft limit, net movement) as stored in
 * PostgreSQL numeric(38,0): 10^38 - 1.
 */
export const MAX_LEDGER_MAGNITUDE = 10n ** 38n - 1n;

export type AmountErrorCode =
  'NOT_A_STRING' | 'EMPTY' | 'NOT_DIGITS' | 'LEADING_ZERO' | 'ZERO' | 'OUT_OF_RANGE';

/** Thrown by the throwing parsers of this file; `code` says which rule failed. */
export class AmountError extends Error {
  override readonly name = 'AmountError';
  constructor(
    readonly code: AmountErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type AmountParseResult =
  { ok: true; value: bigint } | { ok: false; code: AmountErrorCode; message: string };

const DIGITS = /^[0-9]+$/;
const SIGNED_INTEGER = /^-?[0-9]+$/;
/** Decimal digits of MAX_AMOUNT: a longer canonical string is necessarily out of range. */
const MAX_AMOUNT_DIGITS = 19;
const MAX_LEDGER_DIGITS = 38;

/**
 * Non-throwing form of {@link parseAmount}: decimal digits only (ASCII 0-9, no sign, no
 * point, no spaces, no exponent), no leading zero, value 1..9223372036854775807.
 */
export function tryParseAmount(s: unknown): AmountParseResult {
  if (typeof s !== 'string') {
    return { ok: false, code: 'NOT_A_STRING', message: 'amount must be a string' };
  }
  if (s.length === 0) {
    return { ok: false, code: 'EMPTY', message: 'amount must not be empty' };
  }
  if (!DIGITS.test(s)) {
    return {
      ok: false,
      code: 'NOT_DIGITS',
      message: 'amount must contain decimal digits only (minor units, no sign, point or spaces)',
    };
  }
  if (s === '0') {
    return { ok: false, code: 'ZERO', message: 'amount must be at least 1' };
  }
  if (s[0] === '0') {
    return { ok: false, code: 'LEADING_ZERO', message: 'amount must not have a leading zero' };
  }
  // Only spares BigInt() a long string: the range check below gives the same answer.
  // Stryker disable next-line ConditionalExpression,BlockStatement: equivalent, see above
  if (s.length > MAX_AMOUNT_DIGITS) {
    return {
      ok: false,
      code: 'OUT_OF_RANGE',
      message: 'amount must be at most 9223372036854775807',
    };
  }
  const value = BigInt(s);
  if (value > MAX_AMOUNT) {
    return {
      ok: false,
      code: 'OUT_OF_RANGE',
      message: 'amount must be at most 9223372036854775807',
    };
  }
  return { ok: true, value };
}

/** Parses a contract amount string; throws {@link AmountError} when it breaks a rule. */
export function parseAmount(s: string): bigint {
  const r = tryParseAmount(s);
  if (!r.ok) throw new AmountError(r.code, r.message);
  return r.value;
}

/** True when `s` is a valid contract amount string. */
export function isAmountString(s: unknown): s is string {
  return tryParseAmount(s).ok;
}

/** True when `b` is a bigint within 1..MAX_AMOUNT. */
export function isValidAmount(b: unknown): b is bigint {
  return typeof b === 'bigint' && b >= MIN_AMOUNT && b <= MAX_AMOUNT;
}

/**
 * Decimal string of a bigint (any sign, so also for balances): "-120", "0", "42".
 * Throws a TypeError for anything but a bigint, so a JS number can never sneak through.
 */
export function formatAmount(b: bigint): string {
  if (typeof b !== 'bigint') throw new TypeError('formatAmount expects a bigint');
  return b.toString();
}

/**
 * Parses a signed ledger integer as PostgreSQL prints numeric(38,0) and as the admin API
 * writes balances: optional '-', decimal digits, no leading zero (except "0"), no "-0",
 * magnitude at most 10^38 - 1. Throws {@link AmountError}.
 */
export function parseLedgerInteger(s: string): bigint {
  if (typeof s !== 'string') throw new AmountError('NOT_A_STRING', 'value must be a string');
  if (s.length === 0) throw new AmountError('EMPTY', 'value must not be empty');
  if (!SIGNED_INTEGER.test(s)) {
    throw new AmountError('NOT_DIGITS', 'value must be an integer of decimal digits');
  }
  const digits = s[0] === '-' ? s.slice(1) : s;
  if (digits.length > 1 && digits[0] === '0') {
    throw new AmountError('LEADING_ZERO', 'value must not have a leading zero');
  }
  if (s === '-0') throw new AmountError('LEADING_ZERO', 'value must not be "-0"');
  if (digits.length > MAX_LEDGER_DIGITS) {
    throw new AmountError('OUT_OF_RANGE', 'value must have at most 38 digits');
  }
  return BigInt(s);
}

/**
 * Parses an overdraft limit: a non-negative ledger integer ("0" allowed), at most 10^38 - 1.
 * Throws {@link AmountError}.
 */
export function parseOverdraftLimit(s: string): bigint {
  const v = parseLedgerInteger(s);
  if (v < 0n) throw new AmountError('OUT_OF_RANGE', 'overdraftLimit must not be negative');
  return v;
}

/** Sum of bigints (0n for none). */
export function sumAmounts(values: Iterable<bigint>): bigint {
  let total = 0n;
  for (const v of values) total += v;
  return total;
}

/** Absolute value of a bigint. */
export function absAmount(b: bigint): bigint {
  // Stryker disable next-line EqualityOperator: `<= 0n` is equivalent (-0n is 0n)
  return b < 0n ? -b : b;
}

/** Comparator for sorting bigints ascending (Array.prototype.sort needs a number result). */
export function compareAmounts(a: bigint, b: bigint): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

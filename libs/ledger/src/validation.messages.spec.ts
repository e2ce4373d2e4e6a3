import { isRfc3339Timestamp } from './timestamp';
import {
  decodeUtf8Strict,
  parseTransactionMessage,
  parseTransactionRecord,
  validateKey,
} from './validation';

/**
 * The message each dead letter carries (operators read it in the admin API and in the DLQ
 * headers): one exact text per rule, so a rule that silently falls through to a later check
 * shows up here even when the reason and field stay the same.
 */
const base = {
  id: 'tx-1',
  debitAccount: 'acc.A',
  creditAccount: 'acc:B',
  amount: '1050',
  currency: 'EUR',
  occurredAt: '2026-11-25T17:10:10Z',
};
const without = (k: keyof typeof base) => {
  const o: Record<string, unknown> = { ...base };
  delete o[k];
  return JSON.stringify(o);
};
const withField = (k: string, v: unknown) => JSON.stringify({ ...base, [k]: v });
const failure = (r: ReturnType<typeof parseTransactionMessage>) =>
  r.ok ? 'ok' : `${r.reason} ${r.field}: ${r.message}`;

// First in the file: the strict decoder is created on first use, and this test must see it.
describe('decodeUtf8Strict', () => {
  it('refuses invalid bytes instead of replacing them, and keeps a byte order mark', () => {
    expect(decodeUtf8Strict(Uint8Array.from([0xc3, 0x28]))).toBeUndefined();
    expect(decodeUtf8Strict(Uint8Array.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).toBe('\ufeff{}');
    expect(decodeUtf8Strict(Uint8Array.from([0xe2, 0x82, 0xac]))).toBe('€');
  });
});

describe('dead-letter messages', () => {
  it.each([
    ['a tombstone', null, 'MALFORMED_JSON $: value is null'],
    ['a large string', 'x'.repeat(5000), 'TOO_LARGE $: value is 5000 bytes, more than 4096'],
    ['large bytes', new Uint8Array(4097), 'TOO_LARGE $: value is 4097 bytes, more than 4096'],
    [
      'a large non-ASCII string (its UTF-8 size)',
      'é'.repeat(2049),
      'TOO_LARGE $: value is 4098 bytes, more than 4096',
    ],
    [
      'a lone surrogate',
      '{"x":"\ud800"}',
      'MALFORMED_JSON $: value is not valid UTF-8 (unpaired surrogate)',
    ],
    [
      'invalid bytes',
      Uint8Array.from([0x7b, 0xff, 0x7d]),
      'MALFORMED_JSON $: value is not valid UTF-8',
    ],
    ['not JSON', '{"id":', 'MALFORMED_JSON $: value is not valid JSON'],
    ['null JSON', 'null', 'SCHEMA_VIOLATION $: value must be a JSON object, got null'],
    ['an array', '[]', 'SCHEMA_VIOLATION $: value must be a JSON object, got an array'],
    ['a number', '7', 'SCHEMA_VIOLATION $: value must be a JSON object, got a number'],
    ['no id', without('id'), 'SCHEMA_VIOLATION id: id is required'],
    ['a numeric id', withField('id', 5), 'SCHEMA_VIOLATION id: id must be a string, got a number'],
    [
      'a null account',
      withField('debitAccount', null),
      'SCHEMA_VIOLATION debitAccount: debitAccount must be a string, got null',
    ],
    [
      'a bad id',
      withField('id', 'a b'),
      'SCHEMA_VIOLATION id: id must be 1 to 64 characters of [A-Za-z0-9._:-]',
    ],
    [
      'one account',
      withField('creditAccount', 'acc.A'),
      'SCHEMA_VIOLATION creditAccount: creditAccount must differ from debitAccount',
    ],
    ['no amount', without('amount'), 'SCHEMA_VIOLATION amount: amount is required'],
    [
      'a numeric amount',
      withField('amount', 5),
      'SCHEMA_VIOLATION amount: amount must be a string of decimal digits (minor units), got a number',
    ],
    ['no currency', without('currency'), 'SCHEMA_VIOLATION currency: currency is required'],
    [
      'an array currency',
      withField('currency', ['EUR']),
      'SCHEMA_VIOLATION currency: currency must be a string, got an array',
    ],
    [
      'a lower-case currency',
      withField('currency', 'eur'),
      'SCHEMA_VIOLATION currency: currency must be an active ISO 4217 alpha-3 code in upper case',
    ],
    ['no occurredAt', without('occurredAt'), 'SCHEMA_VIOLATION occurredAt: occurredAt is required'],
    [
      'an epoch occurredAt',
      withField('occurredAt', 1764090610),
      'SCHEMA_VIOLATION occurredAt: occurredAt must be a string, got a number',
    ],
    [
      'a date without time',
      withField('occurredAt', '2026-11-25'),
      'SCHEMA_VIOLATION occurredAt: occurredAt must be an RFC 3339 timestamp such as 2026-11-25T17:10:10Z',
    ],
    [
      'a boolean reference',
      withField('reference', true),
      'SCHEMA_VIOLATION reference: reference must be a string, got a boolean',
    ],
    [
      'a reference with U+0000',
      withField('reference', 'a\u0000b'),
      'SCHEMA_VIOLATION reference: reference must not contain U+0000',
    ],
    [
      'a long reference',
      withField('reference', 'r'.repeat(141)),
      'SCHEMA_VIOLATION reference: reference must be at most 140 characters',
    ],
  ])('%s', (_what, value, expected) => {
    expect(failure(parseTransactionMessage(value))).toBe(expected);
  });

  it('names the key rule that failed', () => {
    const tx = { debitAccount: 'acc.A' };
    expect(validateKey(null, tx)).toEqual({
      ok: false,
      reason: 'SCHEMA_VIOLATION',
      field: 'key',
      message: 'key is required and must equal debitAccount',
    });
    expect(validateKey(undefined, tx)).toMatchObject({
      message: 'key is required and must equal debitAccount',
    });
    expect(validateKey(Uint8Array.from([0xff]), tx)).toMatchObject({
      message: 'key is not valid UTF-8',
    });
    expect(validateKey('acc.B', tx)).toMatchObject({ message: 'key must equal debitAccount' });
    expect(validateKey(new TextEncoder().encode('acc.A'), tx)).toEqual({ ok: true });
    expect(failure(parseTransactionRecord(null, JSON.stringify(base)))).toBe(
      'SCHEMA_VIOLATION key: key is required and must equal debitAccount',
    );
  });
});

describe('isRfc3339Timestamp on values that only look like strings', () => {
  it('refuses an object whose text would be a valid timestamp', () => {
    expect(isRfc3339Timestamp({ toString: () => '2026-11-25T17:10:10Z' })).toBe(false);
    expect(isRfc3339Timestamp(['2026-11-25T17:10:10Z'])).toBe(false);
  });
});

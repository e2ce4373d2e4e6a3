import type { ParseResult } from './transaction';
import {
  codePointLength,
  decodeUtf8Strict,
  isWellFormedUnicode,
  parseTransactionMessage,
  parseTransactionRecord,
  utf8ByteLength,
  validateKey,
} from './validation';

const base = {
  id: 'tx-1',
  debitAccount: 'acc.A',
  creditAccount: 'acc:B',
  amount: '1050',
  currency: 'EUR',
  occurredAt: '2026-11-25T17:10:10Z',
};

const enc = (s: string) => new TextEncoder().encode(s);
const parseObj = (o: unknown) => parseTransactionMessage(JSON.stringify(o));
const withField = (k: string, v: unknown) => parseObj({ ...base, [k]: v });
const without = (k: string) => {
  const o: Record<string, unknown> = { ...base };
  delete o[k];
  return parseObj(o);
};

function expectViolation(r: ParseResult, field: string) {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.reason).toBe('SCHEMA_VIOLATION');
  expect(r.field).toBe(field);
  expect(r.message).toContain(field === '$' ? 'value' : field);
}

function expectOk(r: ParseResult) {
  if (!r.ok) throw new Error(`expected ok, got ${r.reason} ${r.field}: ${r.message}`);
  return r.tx;
}

describe('parseTransactionMessage: the happy path', () => {
  it('parses a valid message from a string, a Buffer and a Uint8Array', () => {
    const json = JSON.stringify({ ...base, reference: 'invoice 42' });
    for (const input of [json, Buffer.from(json, 'utf8'), enc(json)]) {
      const tx = expectOk(parseTransactionMessage(input));
      expect(tx).toEqual({
        id: 'tx-1',
        debitAccount: 'acc.A',
        creditAccount: 'acc:B',
        amount: 1050n,
        currency: 'EUR',
        occurredAt: '2026-11-25T17:10:10Z',
        reference: 'invoice 42',
      });
      expect(typeof tx.amount).toBe('bigint');
    }
  });

  it('omits reference when absent or null, ignores unknown fields', () => {
    const a = expectOk(parseObj(base));
    expect('reference' in a).toBe(false);
    const b = expectOk(parseObj({ ...base, reference: null, extra: { deep: [1, 2] }, n: 5 }));
    expect('reference' in b).toBe(false);
    expect(b).toEqual(a);
  });

  it('takes the last of duplicate keys (JSON.parse semantics)', () => {
    const json =
      '{"id":"t","debitAccount":"a","creditAccount":"b","amount":"1","amount":"2",' +
      '"currency":"USD","occurredAt":"2026-11-25T17:10:10Z"}';
    expect(expectOk(parseTransactionMessage(json)).amount).toBe(2n);
    const bad = json.replace('"amount":"2"', '"amount":2');
    expectViolation(parseTransactionMessage(bad), 'amount');
  });

  it('accepts surrounding JSON whitespace', () => {
    expectOk(parseTransactionMessage(`  \n\t${JSON.stringify(base, null, 2)}\r\n `));
  });
});

describe('size limit (TOO_LARGE)', () => {
  const padTo = (bytes: number, padChar = 'x') => {
    const skeleton = JSON.stringify({ ...base, pad: '' });
    const unit = utf8ByteLength(padChar);
    const n = (bytes - utf8ByteLength(skeleton)) / unit;
    expect(Number.isInteger(n)).toBe(true);
    return JSON.stringify({ ...base, pad: padChar.repeat(n) });
  };

  it('accepts exactly 4096 bytes and rejects 4097, before parsing', () => {
    const ok = padTo(4096);
    expect(utf8ByteLength(ok)).toBe(4096);
    expectOk(parseTransactionMessage(ok));
    expectOk(parseTransactionMessage(Buffer.from(ok)));
    const big = padTo(4097);
    for (const input of [big, Buffer.from(big)]) {
      const r = parseTransactionMessage(input);
      expect(r).toMatchObject({ ok: false, reason: 'TOO_LARGE', field: '$' });
    }
    // size is checked before JSON: oversized garbage is TOO_LARGE, not MALFORMED_JSON
    expect(parseTransactionMessage('{'.repeat(4097))).toMatchObject({ reason: 'TOO_LARGE' });
  });

  it('counts multi-byte UTF-8 characters in bytes, not characters', () => {
    // 'é' is 2 bytes, '€' 3 bytes, '😀' 4 bytes (2 UTF-16 units)
    const skeleton = JSON.stringify({ ...base, pad: '' });
    const room = 4096 - utf8ByteLength(skeleton);
    const twoByte = JSON.stringify({ ...base, pad: 'é'.repeat(room / 2) });
    expect(utf8ByteLength(twoByte)).toBe(4096);
    expect(twoByte.length).toBeLessThan(4096);
    expectOk(parseTransactionMessage(twoByte));
    expectOk(parseTransactionMessage(Buffer.from(twoByte)));
    const over = JSON.stringify({ ...base, pad: 'é'.repeat(room / 2) + 'x' });
    expect(over.length).toBeLessThan(4096);
    expect(parseTransactionMessage(over)).toMatchObject({ reason: 'TOO_LARGE' });
    expect(parseTransactionMessage(Buffer.from(over))).toMatchObject({ reason: 'TOO_LARGE' });
  });

  it('honours maxBytes', () => {
    const json = JSON.stringify(base);
    const size = utf8ByteLength(json);
    expectOk(parseTransactionMessage(json, { maxBytes: size }));
    expect(parseTransactionMessage(json, { maxBytes: size - 1 })).toMatchObject({
      reason: 'TOO_LARGE',
    });
  });
});

describe('MALFORMED_JSON', () => {
  it.each([
    ['empty', ''],
    ['truncated', '{"id":"t"'],
    ['single quotes', "{'id':'t'}"],
    ['trailing comma', '{"id":"t",}'],
    ['two documents', '{} {}'],
    ['NaN', '{"amount": NaN}'],
    ['plain text', 'hello'],
    ['BOM', '\ufeff' + JSON.stringify(base)],
  ])('%s', (_name, s) => {
    expect(parseTransactionMessage(s)).toMatchObject({
      ok: false,
      reason: 'MALFORMED_JSON',
      field: '$',
    });
  });

  it('invalid UTF-8 bytes', () => {
    const good = enc(JSON.stringify({ ...base, reference: 'ab' }));
    const i = good.indexOf('a'.charCodeAt(0), good.length - 10);
    const bad = Uint8Array.from(good);
    bad[i] = 0xff;
    expect(parseTransactionMessage(bad)).toMatchObject({ reason: 'MALFORMED_JSON', field: '$' });
    // overlong encoding of '/' and a lone continuation byte
    expect(parseTransactionMessage(Uint8Array.from([0x22, 0xc0, 0xaf, 0x22]))).toMatchObject({
      reason: 'MALFORMED_JSON',
    });
    expect(parseTransactionMessage(Uint8Array.from([0x80]))).toMatchObject({
      reason: 'MALFORMED_JSON',
    });
    // an encoded surrogate (CESU-8) is not UTF-8
    expect(parseTransactionMessage(Uint8Array.from([0x22, 0xed, 0xa0, 0x80, 0x22]))).toMatchObject({
      reason: 'MALFORMED_JSON',
    });
    // UTF-8 BOM bytes
    expect(
      parseTransactionMessage(Uint8Array.from([0xef, 0xbb, 0xbf, ...enc(JSON.stringify(base))])),
    ).toMatchObject({ reason: 'MALFORMED_JSON' });
  });

  it('a string value with an unpaired surrogate, a null value (tombstone)', () => {
    expect(parseTransactionMessage('{"id":"\ud800"}')).toMatchObject({ reason: 'MALFORMED_JSON' });
    expect(parseTransactionMessage(null)).toMatchObject({ reason: 'MALFORMED_JSON', field: '$' });
    expect(parseTransactionMessage(undefined)).toMatchObject({ reason: 'MALFORMED_JSON' });
  });
});

describe('not an object: SCHEMA_VIOLATION on $', () => {
  it.each(['[]', `[${JSON.stringify(base)}]`, 'null', '100', '"text"', 'true'])('%s', (s) => {
    expectViolation(parseTransactionMessage(s), '$');
  });
});

describe.each(['id', 'debitAccount', 'creditAccount'])('identifier field %s', (field) => {
  const other = field === 'creditAccount' ? 'debitAccount' : 'creditAccount';
  const valid = (v: string) => {
    // keep debit and credit distinct
    const o = { ...base, [field]: v, [other]: v === 'zz-other' ? 'yy-other' : 'zz-other' };
    return parseObj(o);
  };

  it.each(['a', 'A-Z_', 'x'.repeat(64), 'a.b:c-d_e', '0123456789', 'ACC:EUR:001'])(
    'accepts %j',
    (v) => {
      const tx = expectOk(valid(v));
      expect(tx[field as 'id']).toBe(v);
    },
  );

  it.each([
    ['empty', ''],
    ['65 chars', 'x'.repeat(65)],
    ['space', 'a b'],
    ['slash', 'a/b'],
    ['at', 'a@b'],
    ['plus', 'a+b'],
    ['non-ASCII letter', 'café'],
    ['newline', 'a\n'],
    ['NUL', 'a\u0000'],
  ])('rejects %s', (_n, v) => {
    expectViolation(withField(field, v), field);
  });

  it.each([
    ['number', 5],
    ['null', null],
    ['object', { v: 'a' }],
    ['array', ['a']],
    ['boolean', true],
  ])('rejects a %s', (_n, v) => {
    expectViolation(withField(field, v), field);
  });

  it('is required', () => {
    expectViolation(without(field), field);
  });
});

describe('creditAccount differs from debitAccount', () => {
  it('rejects equal accounts on field creditAccount', () => {
    expectViolation(withField('creditAccount', base.debitAccount), 'creditAccount');
  });
  it('is case-sensitive', () => {
    expectOk(parseObj({ ...base, debitAccount: 'acc', creditAccount: 'ACC' }));
  });
});

describe('amount', () => {
  it.each([
    ['1', 1n],
    ['9223372036854775807', 9223372036854775807n],
  ])('accepts %j', (v, expected) => {
    expect(expectOk(withField('amount', v)).amount).toBe(expected);
  });

  it.each([
    '9223372036854775808',
    '0',
    '01',
    '-1',
    '1.5',
    '1.0',
    '1e2',
    '',
    ' 1',
    '+1',
    'ten',
    '18446744073709551616',
  ])('rejects %j', (v) => {
    expectViolation(withField('amount', v), 'amount');
  });

  it.each([
    ['number', 100],
    ['huge number', 2 ** 63],
    ['float', 1.5],
    ['null', null],
    ['object', {}],
    ['array', ['1']],
  ])('rejects a JSON %s', (_n, v) => {
    expectViolation(withField('amount', v), 'amount');
  });

  it('rejects a raw JSON number literal that JSON.parse would round', () => {
    const json = JSON.stringify(base).replace('"amount":"1050"', '"amount":9223372036854775807');
    expectViolation(parseTransactionMessage(json), 'amount');
  });

  it('is required', () => expectViolation(without('amount'), 'amount'));
});

describe('currency', () => {
  it.each(['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'BHD'])('accepts %s', (c) => {
    expect(expectOk(withField('currency', c)).currency).toBe(c);
  });
  it.each(['usd', 'Eur', 'ABC', 'XXX', 'XTS', 'US', 'USDT', '', ' USD', 'HRK'])('rejects %j', (c) =>
    expectViolation(withField('currency', c), 'currency'),
  );
  it('rejects a non-string and requires the field', () => {
    expectViolation(withField('currency', 840), 'currency');
    expectViolation(withField('currency', null), 'currency');
    expectViolation(without('currency'), 'currency');
  });
});

describe('occurredAt', () => {
  it.each([
    '2026-11-25T17:10:10Z',
    '2026-11-25T17:10:10.123+01:00',
    '2026-11-25t17:10:10z',
    '2024-02-29T00:00:00-08:00',
    '2016-12-31T23:59:60Z',
  ])('accepts %s and keeps it verbatim', (v) => {
    expect(expectOk(withField('occurredAt', v)).occurredAt).toBe(v);
  });
  it.each([
    '2026-11-25T17:10:10',
    '2026-11-25 17:10:10Z',
    '2026-11-25',
    '2026-13-01T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-11-25T25:00:00Z',
    '2026-11-25T17:61:00Z',
    '2026-11-25T17:10:61Z',
    '2026-11-25T17:10:10+0100',
    'yesterday',
    '',
  ])('rejects %j', (v) => expectViolation(withField('occurredAt', v), 'occurredAt'));
  it('rejects epoch numbers and requires the field', () => {
    expectViolation(withField('occurredAt', 1764090610000), 'occurredAt');
    expectViolation(without('occurredAt'), 'occurredAt');
  });
});

describe('reference', () => {
  it('accepts 140 characters and rejects 141', () => {
    expect(expectOk(withField('reference', 'r'.repeat(140))).reference).toHaveLength(140);
    expectViolation(withField('reference', 'r'.repeat(141)), 'reference');
  });
  it('counts code points, not UTF-16 units or bytes', () => {
    const emoji140 = '😀'.repeat(140); // 280 UTF-16 units, 560 bytes
    expect(expectOk(withField('reference', emoji140)).reference).toBe(emoji140);
    expectViolation(withField('reference', emoji140 + 'a'), 'reference');
    expectOk(withField('reference', 'é'.repeat(140)));
  });
  it('accepts the empty string', () => {
    expect(expectOk(withField('reference', '')).reference).toBe('');
  });
  it.each([
    ['number', 5],
    ['object', {}],
    ['boolean', false],
  ])('rejects a %s', (_n, v) => expectViolation(withField('reference', v), 'reference'));
  it('rejects U+0000 and unpaired surrogates (escaped in valid UTF-8 JSON)', () => {
    const json = (ref: string) => JSON.stringify(base).slice(0, -1) + `,"reference":"${ref}"}`;
    expectViolation(parseTransactionMessage(json('a\\u0000b')), 'reference');
    expectViolation(parseTransactionMessage(json('a\\ud800b')), 'reference');
    expectViolation(parseTransactionMessage(json('\\udc00')), 'reference');
    expect(expectOk(parseTransactionMessage(json('\\ud83d\\ude00'))).reference).toBe('😀');
  });
});

describe('field order of error reporting', () => {
  it('reports the first failing field in canonical order', () => {
    const r = parseObj({ amount: 5, currency: 'usd' });
    expectViolation(r, 'id');
    expectViolation(parseObj({ ...base, amount: 5, currency: 'usd' }), 'amount');
    expectViolation(parseObj({ ...base, currency: 'usd', occurredAt: 'x' }), 'currency');
  });
  it('ignores inherited properties (own fields only)', () => {
    expectViolation(parseTransactionMessage('{"__proto__":{"id":"x"}}'), 'id');
  });
});

describe('validateKey', () => {
  const tx = expectOk(parseObj(base));
  it('accepts the debit account as string or bytes', () => {
    expect(validateKey('acc.A', tx)).toEqual({ ok: true });
    expect(validateKey(Buffer.from('acc.A'), tx)).toEqual({ ok: true });
  });
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['the credit account', 'acc:B'],
    ['another case', 'ACC.A'],
    ['empty', ''],
    ['padded', 'acc.A '],
    ['invalid UTF-8', Uint8Array.from([0xff])],
  ])('rejects %s on field key', (_n, key) => {
    expect(validateKey(key, tx)).toMatchObject({
      ok: false,
      reason: 'SCHEMA_VIOLATION',
      field: 'key',
    });
  });
});

describe('parseTransactionRecord', () => {
  const json = JSON.stringify(base);
  it('checks the value first, then the key', () => {
    expect(parseTransactionRecord('acc.A', json)).toMatchObject({ ok: true });
    expect(parseTransactionRecord('other', json)).toMatchObject({ ok: false, field: 'key' });
    expect(parseTransactionRecord(null, '[')).toMatchObject({ reason: 'MALFORMED_JSON' });
  });
});

describe('UTF helpers', () => {
  it('utf8ByteLength matches Buffer.byteLength', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', 'a😀é€z', '\u0000', '\uffff']) {
      expect(utf8ByteLength(s)).toBe(Buffer.byteLength(s, 'utf8'));
    }
    expect(utf8ByteLength('\ud800')).toBe(3);
    expect(utf8ByteLength('\ud800a')).toBe(4);
  });
  it('isWellFormedUnicode and codePointLength', () => {
    expect(isWellFormedUnicode('a😀')).toBe(true);
    expect(isWellFormedUnicode('\ud800')).toBe(false);
    expect(isWellFormedUnicode('\udc00\ud800')).toBe(false);
    expect(codePointLength('a😀é')).toBe(3);
  });
  it('decodeUtf8Strict keeps a BOM and refuses bad bytes', () => {
    expect(decodeUtf8Strict(Uint8Array.from([0xef, 0xbb, 0xbf, 0x61]))).toBe('\ufeffa');
    expect(decodeUtf8Strict(Uint8Array.from([0xc3]))).toBeUndefined();
  });
});

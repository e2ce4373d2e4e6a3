import {
  AmountError,
  type AmountErrorCode,
  MAX_AMOUNT,
  MAX_LEDGER_MAGNITUDE,
  absAmount,
  compareAmounts,
  formatAmount,
  isAmountString,
  isValidAmount,
  parseAmount,
  parseLedgerInteger,
  parseOverdraftLimit,
  sumAmounts,
  tryParseAmount,
} from './money';

/** The error a function throws (fails the test when it returns). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('parseAmount', () => {
  it.each([
    ['1', 1n],
    ['42', 42n],
    ['100', 100n],
    ['9223372036854775807', 9223372036854775807n],
    ['9223372036854775806', 9223372036854775806n],
    ['1000000000000000000', 1000000000000000000n],
  ])('accepts %s', (s, v) => {
    expect(parseAmount(s)).toBe(v);
  });

  it('MAX_AMOUNT is 2^63 - 1', () => {
    expect(MAX_AMOUNT).toBe(2n ** 63n - 1n);
  });

  it.each([
    ['', 'EMPTY'],
    ['0', 'ZERO'],
    ['00', 'LEADING_ZERO'],
    ['01', 'LEADING_ZERO'],
    ['-1', 'NOT_DIGITS'],
    ['+1', 'NOT_DIGITS'],
    ['1.5', 'NOT_DIGITS'],
    ['1.0', 'NOT_DIGITS'],
    ['1e3', 'NOT_DIGITS'],
    [' 1', 'NOT_DIGITS'],
    ['1 ', 'NOT_DIGITS'],
    ['1_000', 'NOT_DIGITS'],
    ['0x10', 'NOT_DIGITS'],
    ['١٢', 'NOT_DIGITS'], // Arabic-Indic digits are not ASCII digits
    ['１', 'NOT_DIGITS'], // full-width digit
    ['9223372036854775808', 'OUT_OF_RANGE'],
    ['9999999999999999999', 'OUT_OF_RANGE'],
    ['10000000000000000000', 'OUT_OF_RANGE'],
    ['1'.repeat(500), 'OUT_OF_RANGE'],
  ])('rejects %j with %s', (s, code) => {
    expect(() => parseAmount(s)).toThrow(AmountError);
    try {
      parseAmount(s);
    } catch (e) {
      expect((e as AmountError).code).toBe(code);
      expect((e as AmountError).name).toBe('AmountError');
    }
  });

  // These messages reach operators as the message of a SCHEMA_VIOLATION dead letter.
  it.each([
    ['', 'EMPTY', 'amount must not be empty'],
    ['0', 'ZERO', 'amount must be at least 1'],
    ['01', 'LEADING_ZERO', 'amount must not have a leading zero'],
    [
      '-1',
      'NOT_DIGITS',
      'amount must contain decimal digits only (minor units, no sign, point or spaces)',
    ],
    ['9223372036854775808', 'OUT_OF_RANGE', 'amount must be at most 9223372036854775807'],
    ['1'.repeat(20), 'OUT_OF_RANGE', 'amount must be at most 9223372036854775807'],
    [42, 'NOT_A_STRING', 'amount must be a string'],
  ])('explains %j as %s', (s, code, message) => {
    expect(tryParseAmount(s)).toEqual({ ok: false, code, message });
    if (typeof s === 'string') {
      expect(() => parseAmount(s)).toThrow(new AmountError(code as AmountErrorCode, message));
    }
  });

  it('rejects non-strings without coercion', () => {
    expect(tryParseAmount(100)).toMatchObject({ ok: false, code: 'NOT_A_STRING' });
    expect(tryParseAmount(100n)).toMatchObject({ ok: false, code: 'NOT_A_STRING' });
    expect(tryParseAmount(null)).toMatchObject({ ok: false, code: 'NOT_A_STRING' });
    expect(() => parseAmount(1 as unknown as string)).toThrow(AmountError);
  });

  it('isAmountString and isValidAmount', () => {
    expect(isAmountString('5')).toBe(true);
    expect(isAmountString('05')).toBe(false);
    expect(isValidAmount(1n)).toBe(true);
    expect(isValidAmount(MAX_AMOUNT)).toBe(true);
    expect(isValidAmount(MAX_AMOUNT + 1n)).toBe(false);
    expect(isValidAmount(0n)).toBe(false);
    expect(isValidAmount(1)).toBe(false);
  });
});

describe('formatAmount', () => {
  it('round-trips and keeps the sign', () => {
    expect(formatAmount(MAX_AMOUNT)).toBe('9223372036854775807');
    expect(formatAmount(0n)).toBe('0');
    expect(formatAmount(-120n)).toBe('-120');
    expect(parseAmount(formatAmount(123456789012345678n))).toBe(123456789012345678n);
    expect(formatAmount(MAX_AMOUNT * 4n)).toBe('36893488147419103228');
  });
  it('refuses JS numbers', () => {
    expect(() => formatAmount(5 as unknown as bigint)).toThrow(
      new TypeError('formatAmount expects a bigint'),
    );
    expect(() => formatAmount('5' as unknown as bigint)).toThrow(TypeError);
  });
});

describe('parseLedgerInteger / parseOverdraftLimit', () => {
  it('accepts signed canonical integers up to 38 digits', () => {
    expect(parseLedgerInteger('0')).toBe(0n);
    expect(parseLedgerInteger('-5')).toBe(-5n);
    expect(parseLedgerInteger('9'.repeat(38))).toBe(MAX_LEDGER_MAGNITUDE);
    expect(parseLedgerInteger('-' + '9'.repeat(38))).toBe(-MAX_LEDGER_MAGNITUDE);
  });
  // The admin API answers with code and message of a refused overdraft limit.
  it.each([
    ['', 'EMPTY', 'value must not be empty'],
    ['-', 'NOT_DIGITS', 'value must be an integer of decimal digits'],
    ['1.0', 'NOT_DIGITS', 'value must be an integer of decimal digits'],
    [' 1', 'NOT_DIGITS', 'value must be an integer of decimal digits'],
    ['+1', 'NOT_DIGITS', 'value must be an integer of decimal digits'],
    ['-0', 'LEADING_ZERO', 'value must not be "-0"'],
    ['007', 'LEADING_ZERO', 'value must not have a leading zero'],
    ['-01', 'LEADING_ZERO', 'value must not have a leading zero'],
    ['1'.repeat(39), 'OUT_OF_RANGE', 'value must have at most 38 digits'],
    ['-' + '1'.repeat(39), 'OUT_OF_RANGE', 'value must have at most 38 digits'],
  ])('rejects %j with %s', (s, code, message) => {
    expect(() => parseLedgerInteger(s)).toThrow(new AmountError(code as AmountErrorCode, message));
    expect(thrown(() => parseLedgerInteger(s))).toMatchObject({ name: 'AmountError', code });
  });
  it.each([5, 5n, null, undefined, ['5']])('rejects the non-string %p without coercion', (v) => {
    const e = thrown(() => parseLedgerInteger(v as unknown as string));
    expect(e).toMatchObject({ code: 'NOT_A_STRING', message: 'value must be a string' });
  });
  it('overdraft limit is non-negative', () => {
    expect(parseOverdraftLimit('0')).toBe(0n);
    expect(parseOverdraftLimit('500')).toBe(500n);
    expect(thrown(() => parseOverdraftLimit('-1'))).toMatchObject({
      name: 'AmountError',
      code: 'OUT_OF_RANGE',
      message: 'overdraftLimit must not be negative',
    });
    expect(thrown(() => parseOverdraftLimit('01'))).toMatchObject({ code: 'LEADING_ZERO' });
  });
});

describe('helpers', () => {
  it('sum, abs, compare', () => {
    expect(sumAmounts([])).toBe(0n);
    expect(sumAmounts([MAX_AMOUNT, MAX_AMOUNT, -1n])).toBe(2n * MAX_AMOUNT - 1n);
    expect(absAmount(-3n)).toBe(3n);
    expect(absAmount(3n)).toBe(3n);
    expect([3n, -1n, 2n].sort(compareAmounts)).toEqual([-1n, 2n, 3n]);
    expect(compareAmounts(1n, 1n)).toBe(0);
    expect(compareAmounts(-2n, 1n)).toBe(-1);
    expect(compareAmounts(2n, 1n)).toBe(1);
    expect(compareAmounts(MAX_AMOUNT + 1n, MAX_AMOUNT)).toBe(1);
    expect(absAmount(0n)).toBe(0n);
  });
});

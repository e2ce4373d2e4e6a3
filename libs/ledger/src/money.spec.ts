import {
  AmountError,
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
    expect(() => formatAmount(5 as unknown as bigint)).toThrow(TypeError);
  });
});

describe('parseLedgerInteger / parseOverdraftLimit', () => {
  it('accepts signed canonical integers up to 38 digits', () => {
    expect(parseLedgerInteger('0')).toBe(0n);
    expect(parseLedgerInteger('-5')).toBe(-5n);
    expect(parseLedgerInteger('9'.repeat(38))).toBe(MAX_LEDGER_MAGNITUDE);
    expect(parseLedgerInteger('-' + '9'.repeat(38))).toBe(-MAX_LEDGER_MAGNITUDE);
  });
  it.each(['', '-', '-0', '007', '-01', '1.0', ' 1', '1'.repeat(39), '+1'])('rejects %j', (s) => {
    expect(() => parseLedgerInteger(s)).toThrow(AmountError);
  });
  it('overdraft limit is non-negative', () => {
    expect(parseOverdraftLimit('0')).toBe(0n);
    expect(parseOverdraftLimit('500')).toBe(500n);
    expect(() => parseOverdraftLimit('-1')).toThrow(AmountError);
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
  });
});

import { ISO_4217_CODES, ISO_4217_CODES_LIST, isCurrencyCode } from './currencies';

describe('ISO 4217 codes', () => {
  it.each(['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'BHD', 'XAU', 'XCG', 'ZWG', 'SLE', 'VED'])(
    'accepts %s',
    (c) => expect(isCurrencyCode(c)).toBe(true),
  );
  it.each(['usd', 'Usd', 'ABC', 'XXX', 'XTS', 'HRK', 'SLL', 'ZWL', 'US', 'USDD', '', 'EU R'])(
    'rejects %j',
    (c) => expect(isCurrencyCode(c)).toBe(false),
  );
  it('is a sorted list of distinct upper-case alpha-3 codes', () => {
    expect(new Set(ISO_4217_CODES_LIST).size).toBe(ISO_4217_CODES_LIST.length);
    expect([...ISO_4217_CODES_LIST].sort()).toEqual([...ISO_4217_CODES_LIST]);
    for (const c of ISO_4217_CODES_LIST) expect(c).toMatch(/^[A-Z]{3}$/);
    expect(ISO_4217_CODES.size).toBeGreaterThan(170);
  });
  it('rejects non-strings', () => {
    expect(isCurrencyCode(840)).toBe(false);
  });
});

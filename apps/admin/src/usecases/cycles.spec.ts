import { positionsCsv } from './cycles';

describe('positionsCsv', () => {
  it('writes a header and one RFC 4180 line per position, amounts as given', () => {
    expect(
      positionsCsv([
        { account: 'acct-1', currency: 'EUR', debits: '0', credits: '120', net: '120' },
        {
          account: 'a,"b"',
          currency: 'USD',
          debits: '18446744073709551614',
          credits: '0',
          net: '-18446744073709551614',
        },
      ]),
    ).toBe(
      'account,currency,debits,credits,net\r\n' +
        'acct-1,EUR,0,120,120\r\n' +
        '"a,""b""",USD,18446744073709551614,0,-18446744073709551614\r\n',
    );
  });

  it('writes only the header for no positions', () => {
    expect(positionsCsv([])).toBe('account,currency,debits,credits,net\r\n');
  });
});

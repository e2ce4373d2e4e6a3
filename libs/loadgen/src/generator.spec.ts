import { LoadGenerator, VALID_ONLY, withTotal, type Skew } from './generator';

const N = 20_000;

function transfers(accounts: number, skew?: Skew, seed = 7) {
  const gen = new LoadGenerator({ runId: 'r', accounts, seed, mix: VALID_ONLY, skew });
  return Array.from({ length: N }, () => {
    const m = gen.next();
    const body = JSON.parse(m.value) as Record<string, string>;
    expect(m.key).toBe(body.debitAccount);
    expect(body.debitAccount).not.toBe(body.creditAccount);
    return {
      debitAccount: body.debitAccount,
      creditAccount: body.creditAccount,
      amount: body.amount,
    };
  });
}

const share = (
  xs: { debitAccount: string; creditAccount: string }[],
  f: (x: (typeof xs)[0]) => boolean,
) => xs.filter(f).length / xs.length;

describe('LoadGenerator skew', () => {
  it('leaves the unskewed sequence exactly as it was', () => {
    expect(transfers(100, {})).toEqual(transfers(100));
  });

  it('sends hot merchants their share of the credits', () => {
    // 1 % of 1,000 accounts (a990..a999) receive half the credits.
    const xs = transfers(1000, { hotCredits: { accountShare: 0.01, creditShare: 0.5 } });
    const hot = new Set(Array.from({ length: 10 }, (_, i) => `r-a${990 + i}`));
    // Half by the skew plus their uniform share (1 %) of the other half.
    expect(share(xs, (x) => hot.has(x.creditAccount))).toBeGreaterThan(0.48);
    expect(share(xs, (x) => hot.has(x.creditAccount))).toBeLessThan(0.53);
  });

  it('lets one payer send its share of the transfers', () => {
    const xs = transfers(1000, { hotDebitShare: 0.1 });
    expect(share(xs, (x) => x.debitAccount === 'r-a0')).toBeGreaterThan(0.09);
    expect(share(xs, (x) => x.debitAccount === 'r-a0')).toBeLessThan(0.11);
  });

  it('never credits the payer itself when every credit is hot', () => {
    transfers(2, { hotCredits: { accountShare: 0.01, creditShare: 1 }, hotDebitShare: 0.5 });
  });

  it('refuses shares outside 0..1', () => {
    expect(
      () => new LoadGenerator({ runId: 'r', accounts: 10, skew: { hotDebitShare: 1.5 } }),
    ).toThrow(/hotDebitShare/);
    expect(
      () =>
        new LoadGenerator({
          runId: 'r',
          accounts: 10,
          skew: { hotCredits: { accountShare: 0.01, creditShare: -1 } },
        }),
    ).toThrow(/creditShare/);
  });
});

describe('withTotal', () => {
  it('counts every message once, whatever its outcome, as the generator does', () => {
    const gen = new LoadGenerator({ runId: 'tot', accounts: 20, seed: 5 });
    gen.fundingMessages();
    for (let i = 0; i < 2_000; i++) gen.next();
    const { total, ...outcomes } = gen.expected();
    expect(withTotal(outcomes).total).toBe(total);
    expect(
      withTotal({
        settled: 1,
        rejected: { INSUFFICIENT_FUNDS: 2, UNKNOWN_ACCOUNT: 3 },
        deadLettered: {
          MALFORMED_JSON: 4,
          SCHEMA_VIOLATION: 5,
          TOO_LARGE: 6,
          DUPLICATE_CONFLICT: 7,
        },
        duplicates: 8,
      }).total,
    ).toBe(36);
  });
});

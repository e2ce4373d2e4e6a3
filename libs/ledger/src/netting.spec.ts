import {
  cyclePositions,
  cycleTotals,
  describeCycleProblem,
  verifyCycle,
  type CyclePosition,
} from './netting';
import type { Posting } from './posting';

const debit = (
  transactionId: string,
  accountId: string,
  amount: bigint,
  currency = 'EUR',
): Posting => ({
  transactionId,
  accountId,
  side: 'DEBIT',
  amount: -amount,
  currency,
});
const credit = (
  transactionId: string,
  accountId: string,
  amount: bigint,
  currency = 'EUR',
): Posting => ({
  transactionId,
  accountId,
  side: 'CREDIT',
  amount,
  currency,
});
const transfer = (id: string, from: string, to: string, amount: bigint, currency = 'EUR') => [
  debit(id, from, amount, currency),
  credit(id, to, amount, currency),
];

describe('cyclePositions', () => {
  it('splits each account into debits, credits and net, sorted by account then currency', () => {
    const positions = cyclePositions([
      ...transfer('t1', 'b', 'a', 100n),
      ...transfer('t2', 'a', 'b', 30n),
      ...transfer('t3', 'a', 'c', 5n, 'USD'),
    ]);
    expect(positions).toEqual([
      { accountId: 'a', currency: 'EUR', debits: 30n, credits: 100n, net: 70n },
      { accountId: 'a', currency: 'USD', debits: 5n, credits: 0n, net: -5n },
      { accountId: 'b', currency: 'EUR', debits: 100n, credits: 30n, net: -70n },
      { accountId: 'c', currency: 'USD', debits: 0n, credits: 5n, net: 5n },
    ]);
  });

  it('keeps amounts beyond 2^63 exact (bigint, never a JS number)', () => {
    const max = 9223372036854775807n;
    const [p] = cyclePositions([credit('t1', 'a', max), credit('t2', 'a', max)]);
    expect(p.credits).toBe(2n * max);
    expect(p.net.toString()).toBe('18446744073709551614');
  });

  it('gives no positions for no postings', () => {
    expect(cyclePositions([])).toEqual([]);
  });
});

describe('cycleTotals', () => {
  it('sorts currencies whatever the order of the positions', () => {
    const position = (currency: string, amount: bigint): CyclePosition => ({
      accountId: 'a',
      currency,
      debits: amount,
      credits: amount,
      net: 0n,
    });
    const totals = cycleTotals([position('USD', 1n), position('CHF', 2n), position('EUR', 3n)]);
    expect([...totals.keys()]).toEqual(['CHF', 'EUR', 'USD']);
  });

  it('sums debits and credits per currency, currencies sorted', () => {
    const totals = cycleTotals(
      cyclePositions([...transfer('t1', 'a', 'b', 7n, 'USD'), ...transfer('t2', 'a', 'b', 3n)]),
    );
    expect([...totals]).toEqual([
      ['EUR', { debits: 3n, credits: 3n }],
      ['USD', { debits: 7n, credits: 7n }],
    ]);
  });
});

describe('verifyCycle', () => {
  const rows = (positions: CyclePosition[], balances: Record<string, [bigint, bigint]>) =>
    positions.map((position) => {
      const [opening, closing] = balances[position.accountId] ?? [0n, position.net];
      return { position, opening, closing };
    });

  it('passes when every currency nets to zero and each net is the balance change', () => {
    const positions = cyclePositions([
      ...transfer('t1', 'a', 'b', 50n),
      ...transfer('t2', 'b', 'c', 20n),
    ]);
    const check = verifyCycle(rows(positions, { a: [100n, 50n], b: [0n, 30n], c: [-10n, 10n] }));
    expect(check.problems).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.totals.get('EUR')).toEqual({ debits: 70n, credits: 70n });
  });

  it('names a currency that does not net to zero', () => {
    const check = verifyCycle(rows(cyclePositions([debit('t1', 'a', 5n, 'GBP')]), {}));
    expect(check.ok).toBe(false);
    expect(check.problems).toEqual([
      { kind: 'CURRENCY_NOT_NETTING', currency: 'GBP', debits: 5n, credits: 0n },
    ]);
    expect(describeCycleProblem(check.problems[0])).toBe(
      'GBP does not net to zero: debits 5, credits 0',
    );
  });

  it('names an account whose balance moved by other than its net (a straggler, a drift)', () => {
    const positions = cyclePositions(transfer('t1', 'a', 'b', 50n));
    const check = verifyCycle(rows(positions, { a: [0n, -50n], b: [0n, 51n] }));
    expect(check.problems).toEqual([
      {
        kind: 'BALANCE_CHANGE_MISMATCH',
        accountId: 'b',
        currency: 'EUR',
        net: 50n,
        opening: 0n,
        closing: 51n,
      },
    ]);
    expect(describeCycleProblem(check.problems[0])).toBe(
      'b in EUR: net 50 but its balance moved from 0 to 51',
    );
  });

  it('catches an account without postings whose balance moved', () => {
    const idle: CyclePosition = {
      accountId: 'z',
      currency: 'EUR',
      debits: 0n,
      credits: 0n,
      net: 0n,
    };
    const check = verifyCycle([{ position: idle, opening: 10n, closing: 12n }]);
    expect(check.problems.map((p) => p.kind)).toEqual(['BALANCE_CHANGE_MISMATCH']);
  });

  it('names a position whose sides do not make its net', () => {
    const bad: CyclePosition = {
      accountId: 'a',
      currency: 'EUR',
      debits: 1n,
      credits: 1n,
      net: 2n,
    };
    const check = verifyCycle([{ position: bad, opening: 0n, closing: 2n }]);
    expect(check.problems).toEqual([
      { kind: 'POSITION_INCONSISTENT', accountId: 'a', currency: 'EUR' },
    ]);
    expect(describeCycleProblem(check.problems[0])).toBe(
      'position of a in EUR is inconsistent (debits - credits != net)',
    );
  });

  // Each rule alone: the other two hold, and the balance moved by the stated net.
  it.each<[string, Pick<CyclePosition, 'debits' | 'credits' | 'net'>]>([
    ['negative debits', { debits: -5n, credits: 0n, net: 5n }],
    ['negative credits', { debits: 0n, credits: -5n, net: -5n }],
    ['both sides negative', { debits: -5n, credits: -5n, net: 0n }],
    ['a net other than credits - debits', { debits: 1n, credits: 2n, net: 3n }],
  ])('names a position with %s', (_case, sides) => {
    const position: CyclePosition = { accountId: 'a', currency: 'EUR', ...sides };
    const check = verifyCycle([
      { position, opening: 0n, closing: sides.net },
      // Another account's position that makes the currency net, so only the rule under test fires.
      {
        position: {
          accountId: 'b',
          currency: 'EUR',
          debits: sides.credits,
          credits: sides.debits,
          net: -sides.net,
        },
        opening: 0n,
        closing: -sides.net,
      },
    ]);
    expect(check.problems).toContainEqual({
      kind: 'POSITION_INCONSISTENT',
      accountId: 'a',
      currency: 'EUR',
    });
    expect(check.problems.map((p) => p.kind)).not.toContain('CURRENCY_NOT_NETTING');
    expect(check.problems.map((p) => p.kind)).not.toContain('BALANCE_CHANGE_MISMATCH');
    expect(check.ok).toBe(false);
  });
});

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
  });
});

import { MAX_AMOUNT } from './money';
import {
  accountIdsOf,
  checkConservation,
  compareIds,
  decide,
  dedupeWithinBatch,
  lockOrder,
  netPositions,
  postBatch,
  type AccountState,
  type Posting,
  type PostingTransaction,
} from './posting';

const acc = (id: string, balance: bigint, overdraftLimit = 0n, currency = 'EUR'): AccountState => ({
  id,
  currency,
  balance,
  overdraftLimit,
});
const book = (...accounts: AccountState[]) => new Map(accounts.map((a) => [a.id, a]));
let seq = 0;
const tx = (
  debitAccount: string,
  creditAccount: string,
  amount: bigint,
  currency = 'EUR',
  id = `t${++seq}`,
): PostingTransaction => ({ id, debitAccount, creditAccount, amount, currency });

describe('postBatch: single transactions', () => {
  it('settles: two postings, balances moved, nets', () => {
    const accounts = book(acc('A', 100n), acc('B', 0n));
    const t = tx('A', 'B', 30n);
    const r = postBatch(accounts, [t]);
    expect(r.outcomes).toEqual([{ transactionId: t.id, status: 'SETTLED' }]);
    expect(r.postings).toEqual([
      { transactionId: t.id, accountId: 'A', side: 'DEBIT', amount: -30n, currency: 'EUR' },
      { transactionId: t.id, accountId: 'B', side: 'CREDIT', amount: 30n, currency: 'EUR' },
    ]);
    expect(r.balances.get('A')?.balance).toBe(70n);
    expect(r.balances.get('B')?.balance).toBe(30n);
    expect([...r.netMovements]).toEqual([
      ['A', -30n],
      ['B', 30n],
    ]);
    expect(r.touchedAccountIds).toEqual(['A', 'B']);
  });

  it('never mutates its input', () => {
    const a = acc('A', 100n);
    const accounts = book(a, acc('B', 0n));
    postBatch(accounts, [tx('A', 'B', 30n)]);
    expect(a.balance).toBe(100n);
    expect(accounts.get('B')?.balance).toBe(0n);
  });

  it.each([
    ['unknown debit', tx('X', 'B', 1n), 'UNKNOWN_ACCOUNT'],
    ['unknown credit', tx('A', 'X', 1n), 'UNKNOWN_ACCOUNT'],
    ['both unknown', tx('X', 'Y', 1n), 'UNKNOWN_ACCOUNT'],
    ['debit currency differs', tx('U', 'B', 1n), 'CURRENCY_MISMATCH'],
    ['credit currency differs', tx('A', 'U', 1n), 'CURRENCY_MISMATCH'],
    ['tx currency differs from both', tx('A', 'B', 1n, 'USD'), 'CURRENCY_MISMATCH'],
    ['insufficient funds', tx('A', 'B', 101n), 'INSUFFICIENT_FUNDS'],
  ])('rejects: %s', (_n, t, reason) => {
    const accounts = book(acc('A', 100n), acc('B', 0n), acc('U', 1000n, 0n, 'USD'));
    const r = postBatch(accounts, [t]);
    expect(r.outcomes).toEqual([{ transactionId: t.id, status: 'REJECTED', reason }]);
    expect(r.postings).toEqual([]);
    expect(r.netMovements.size).toBe(0);
    expect(r.touchedAccountIds).toEqual([]);
    expect(r.balances.get('A')?.balance).toBe(100n);
  });

  it('checks in order: unknown account, then currency, then funds', () => {
    const accounts = book(acc('A', 0n), acc('U', 0n, 0n, 'USD'));
    // unknown credit beats currency mismatch and insufficient funds on the debit
    expect(decide(accounts, tx('U', 'X', 5n))).toBe('UNKNOWN_ACCOUNT');
    // currency mismatch beats insufficient funds
    expect(decide(accounts, tx('A', 'U', 5n))).toBe('CURRENCY_MISMATCH');
    expect(decide(accounts, tx('A', 'U', 5n, 'USD'))).toBe('CURRENCY_MISMATCH');
  });
});

describe('overdraft edges', () => {
  it('allows balance - amount == -overdraftLimit, rejects one more', () => {
    const accounts = book(acc('A', 100n, 50n), acc('B', 0n));
    const ok = postBatch(accounts, [tx('A', 'B', 150n)]);
    expect(ok.outcomes[0].status).toBe('SETTLED');
    expect(ok.balances.get('A')?.balance).toBe(-50n);
    const bad = postBatch(accounts, [tx('A', 'B', 151n)]);
    expect(bad.outcomes[0]).toMatchObject({ status: 'REJECTED', reason: 'INSUFFICIENT_FUNDS' });
  });

  it('with no overdraft, the exact balance is allowed', () => {
    const accounts = book(acc('A', 100n), acc('B', 0n));
    expect(postBatch(accounts, [tx('A', 'B', 100n)]).balances.get('A')?.balance).toBe(0n);
    expect(postBatch(accounts, [tx('A', 'B', 101n)]).outcomes[0].status).toBe('REJECTED');
  });

  it('an account already overdrawn within its limit can go to the limit, not beyond', () => {
    const accounts = book(acc('A', -40n, 50n), acc('B', 0n));
    expect(postBatch(accounts, [tx('A', 'B', 10n)]).outcomes[0].status).toBe('SETTLED');
    expect(postBatch(accounts, [tx('A', 'B', 11n)]).outcomes[0].status).toBe('REJECTED');
  });

  it('handles maximal amounts and limits beyond int8 without loss', () => {
    const accounts = book(acc('A', MAX_AMOUNT, MAX_AMOUNT), acc('B', MAX_AMOUNT));
    const r = postBatch(accounts, [
      tx('A', 'B', MAX_AMOUNT),
      tx('A', 'B', MAX_AMOUNT),
      tx('A', 'B', 1n),
    ]);
    expect(r.outcomes.map((o) => o.status)).toEqual(['SETTLED', 'SETTLED', 'REJECTED']);
    expect(r.balances.get('A')?.balance).toBe(-MAX_AMOUNT);
    expect(r.balances.get('B')?.balance).toBe(3n * MAX_AMOUNT);
    expect(r.netMovements.get('B')).toBe(2n * MAX_AMOUNT);
    expect(checkConservation(r.postings).ok).toBe(true);
  });
});

describe('sequential effects within a batch', () => {
  it('an earlier credit funds a later debit', () => {
    const accounts = book(acc('A', 0n), acc('B', 100n), acc('C', 0n));
    const r = postBatch(accounts, [tx('A', 'C', 50n), tx('B', 'A', 60n), tx('A', 'C', 50n)]);
    expect(r.outcomes.map((o) => o.status)).toEqual(['REJECTED', 'SETTLED', 'SETTLED']);
    expect(r.balances.get('A')?.balance).toBe(10n);
    expect(r.balances.get('C')?.balance).toBe(50n);
  });

  it('a rejected debit does not change the balance; later smaller debits still settle', () => {
    const accounts = book(acc('A', 100n), acc('B', 0n));
    const r = postBatch(accounts, [tx('A', 'B', 80n), tx('A', 'B', 30n), tx('A', 'B', 20n)]);
    expect(r.outcomes.map((o) => o.status)).toEqual(['SETTLED', 'REJECTED', 'SETTLED']);
    expect(r.balances.get('A')?.balance).toBe(0n);
    expect(r.postings).toHaveLength(4);
  });

  it('applies in the given order (order matters)', () => {
    const accounts = book(acc('A', 0n), acc('B', 10n), acc('C', 0n));
    const t1 = tx('A', 'C', 10n);
    const t2 = tx('B', 'A', 10n);
    expect(postBatch(accounts, [t1, t2]).outcomes[0].status).toBe('REJECTED');
    expect(postBatch(accounts, [t2, t1]).outcomes[1].status).toBe('SETTLED');
  });

  it('nets movements per account and reports accounts with zero net', () => {
    const accounts = book(acc('A', 100n), acc('B', 100n), acc('C', 0n));
    const r = postBatch(accounts, [tx('A', 'B', 40n), tx('B', 'A', 40n), tx('B', 'C', 5n)]);
    expect([...r.netMovements]).toEqual([
      ['A', 0n],
      ['B', -5n],
      ['C', 5n],
    ]);
    for (const [id, net] of r.netMovements) {
      expect(r.balances.get(id)?.balance).toBe((accounts.get(id)?.balance ?? 0n) + net);
    }
  });

  it('lists the touched accounts in lock order, not in the order of the book or the batch', () => {
    // The book lists accounts out of order: the rows are updated in this order, so it must
    // be the global lock order or two batches could deadlock.
    const accounts = book(acc('Z', 100n), acc('B', 100n), acc('M', 0n), acc('A', 0n), acc('Q', 0n));
    const r = postBatch(accounts, [tx('Z', 'M', 5n), tx('B', 'A', 5n)]);
    expect(r.touchedAccountIds).toEqual(['A', 'B', 'M', 'Z']);
    expect([...r.netMovements.keys()]).toEqual(['A', 'B', 'M', 'Z']);
  });

  it('is deterministic', () => {
    const accounts = book(acc('A', 100n, 20n), acc('B', 0n), acc('C', 7n, 0n, 'USD'));
    const batch = [tx('A', 'B', 50n), tx('A', 'C', 1n), tx('B', 'A', 5n), tx('A', 'B', 80n)];
    expect(postBatch(accounts, batch)).toEqual(postBatch(accounts, batch));
  });

  it('property: random batches conserve money and respect limits', () => {
    let s = 42;
    const rnd = (n: number) => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s % n;
    };
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (let round = 0; round < 50; round++) {
      const accounts = book(
        ...ids.map((id, i) => acc(id, BigInt(rnd(100)), BigInt(rnd(50)), i === 5 ? 'USD' : 'EUR')),
      );
      const batch: PostingTransaction[] = [];
      for (let k = 0; k < 40; k++) {
        const d = ids[rnd(7) % ids.length];
        let c = ids[rnd(6)];
        if (c === d) c = ids[(ids.indexOf(d) + 1) % ids.length];
        batch.push(tx(rnd(10) === 0 ? 'zz' : d, c, BigInt(1 + rnd(60)), rnd(8) ? 'EUR' : 'USD'));
      }
      const r = postBatch(accounts, batch);
      expect(r.outcomes).toHaveLength(batch.length);
      expect(checkConservation(r.postings).ok).toBe(true);
      for (const a of r.balances.values()) expect(a.balance >= -a.overdraftLimit).toBe(true);
      for (const n of netPositions(r.postings)) {
        expect(r.balances.get(n.accountId)?.balance).toBe(
          (accounts.get(n.accountId)?.balance ?? 0n) + n.net,
        );
      }
      const settled = r.outcomes.filter((o) => o.status === 'SETTLED').length;
      expect(r.postings).toHaveLength(2 * settled);
    }
  });
});

describe('caller errors throw', () => {
  const accounts = book(acc('A', 100n), acc('B', 0n));
  it('repeated id in one batch', () => {
    expect(() =>
      postBatch(accounts, [tx('A', 'B', 1n, 'EUR', 'x'), tx('A', 'B', 1n, 'EUR', 'x')]),
    ).toThrow(/twice/);
  });
  it.each([0n, -1n, MAX_AMOUNT + 1n, 5 as unknown as bigint])('invalid amount %p', (amount) => {
    expect(() => postBatch(accounts, [tx('A', 'B', amount)])).toThrow(/amount/);
  });
  it('same account both sides', () => {
    expect(() => postBatch(accounts, [tx('A', 'A', 1n)])).toThrow(/same account/);
  });
  it('an empty batch is fine', () => {
    const r = postBatch(accounts, []);
    expect(r.outcomes).toEqual([]);
    expect(r.balances.get('A')?.balance).toBe(100n);
  });
});

describe('netPositions and checkConservation', () => {
  const p = (accountId: string, amount: bigint, currency = 'EUR'): Posting => ({
    transactionId: 't',
    accountId,
    side: amount < 0n ? 'DEBIT' : 'CREDIT',
    amount,
    currency,
  });

  it('nets per (account, currency), sorted', () => {
    expect(
      netPositions([p('b', -5n), p('a', 5n), p('b', 7n), p('b', -1n, 'USD'), p('a', 1n, 'USD')]),
    ).toEqual([
      { accountId: 'a', currency: 'EUR', net: 5n },
      { accountId: 'a', currency: 'USD', net: 1n },
      { accountId: 'b', currency: 'EUR', net: 2n },
      { accountId: 'b', currency: 'USD', net: -1n },
    ]);
    expect(netPositions([])).toEqual([]);
  });

  it('detects imbalance per currency', () => {
    expect(checkConservation([])).toEqual({ ok: true, totals: new Map(), unbalanced: [] });
    const ok = checkConservation([p('a', -5n), p('b', 5n), p('a', -2n, 'USD'), p('c', 2n, 'USD')]);
    expect(ok.ok).toBe(true);
    expect([...ok.totals]).toEqual([
      ['EUR', 0n],
      ['USD', 0n],
    ]);
    const bad = checkConservation([p('a', -5n), p('b', 5n), p('a', -2n, 'USD'), p('c', 3n, 'USD')]);
    expect(bad).toMatchObject({ ok: false, unbalanced: ['USD'] });
    expect(bad.totals.get('USD')).toBe(1n);
  });

  it('sorts the totals by currency whatever the order of the postings', () => {
    const r = checkConservation([p('a', 1n, 'USD'), p('b', -1n, 'CHF'), p('c', 2n, 'EUR')]);
    expect([...r.totals.keys()]).toEqual(['CHF', 'EUR', 'USD']);
    expect(r.unbalanced).toEqual(['CHF', 'EUR', 'USD']);
  });

  it('offsetting imbalances across currencies are still imbalances', () => {
    expect(checkConservation([p('a', 1n, 'EUR'), p('b', -1n, 'USD')]).unbalanced).toEqual([
      'EUR',
      'USD',
    ]);
  });
});

describe('lock order and helpers', () => {
  it('orders by code unit (as COLLATE "C"), distinct', () => {
    expect(lockOrder(['b', 'B', 'a', '_', '.', '9', 'a', '-', ':'])).toEqual([
      '-',
      '.',
      '9',
      ':',
      'B',
      '_',
      'a',
      'b',
    ]);
    expect(compareIds('a', 'a')).toBe(0);
    expect(compareIds('a', 'b')).toBe(-1);
    expect(compareIds('b', 'a')).toBe(1);
    expect(compareIds('a', 'B')).toBe(1);
    expect(accountIdsOf([tx('z', 'a', 1n), tx('a', 'm', 1n)])).toEqual(['a', 'm', 'z']);
  });

  it('dedupeWithinBatch splits duplicates and conflicts, keeping first occurrences', () => {
    const items = [
      { id: 'x', contentHash: 'h1', n: 1 },
      { id: 'y', contentHash: 'h2', n: 2 },
      { id: 'x', contentHash: 'h1', n: 3 },
      { id: 'x', contentHash: 'h9', n: 4 },
    ];
    const r = dedupeWithinBatch(items);
    expect(r.kept.map((i) => i.n)).toEqual([1, 2]);
    expect(r.duplicates.map((i) => i.n)).toEqual([3]);
    expect(r.conflicts.map((i) => i.n)).toEqual([4]);
  });

  it('dedupeWithinBatch treats ids the ledger already holds as first occurrences', () => {
    const items = [
      { id: 'old', contentHash: 'h1', n: 1 },
      { id: 'old2', contentHash: 'changed', n: 2 },
      { id: 'new', contentHash: 'h3', n: 3 },
    ];
    const r = dedupeWithinBatch(
      items,
      new Map([
        ['old', 'h1'],
        ['old2', 'h2'],
      ]),
    );
    expect(r.kept.map((i) => i.n)).toEqual([3]);
    expect(r.duplicates.map((i) => i.n)).toEqual([1]);
    expect(r.conflicts.map((i) => i.n)).toEqual([2]);
  });
});

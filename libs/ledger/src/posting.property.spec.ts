import fc from 'fast-check';
import { contentHash } from './content-hash';
import { MAX_AMOUNT } from './money';
import type { RejectReason } from './outcomes';
import { dedupeWithinBatch, postBatch, type AccountState } from './posting';
import type { Transaction } from './transaction';

/**
 * The posting engine as the settle activity runs it (dedupe against the ledger and within the
 * batch, then postBatch) against a reference model that takes one message at a time and
 * keeps its own books. Small pools of ids, accounts and currencies make duplicates,
 * conflicts, unknown accounts, mismatched currencies and overdrafts frequent; a failure
 * shrinks to the shortest batch and the smallest amounts that still disagree.
 */

type Outcome = 'SETTLED' | RejectReason | 'DUPLICATE' | 'DUPLICATE_CONFLICT';

const ACCOUNT_IDS = ['A', 'B', 'C', 'D', 'ghost'];
const CURRENCIES = ['EUR', 'USD'];

/** Balances within the limit; limits small or near the contract's maximum amount. */
const accountArb = (id: string) =>
  fc
    .record({
      currency: fc.constantFrom(...CURRENCIES),
      overdraftLimit: fc.oneof(fc.bigInt(0n, 100n), fc.constant(MAX_AMOUNT)),
      headroom: fc.bigInt(0n, 300n),
    })
    .map(({ currency, overdraftLimit, headroom }): AccountState => ({
      id,
      currency,
      overdraftLimit,
      balance: headroom - overdraftLimit,
    }));

/** Some of the pool's accounts exist ('ghost' never does). */
const booksArb = fc
  .tuple(...ACCOUNT_IDS.slice(0, -1).map((id) => fc.option(accountArb(id), { nil: undefined })))
  .map((accounts) => new Map(accounts.filter((a) => a !== undefined).map((a) => [a.id, a])));

const transactionArb: fc.Arbitrary<Transaction> = fc
  .record({
    id: fc.constantFrom('t1', 't2', 't3', 't4', 't5', 't6'),
    accounts: fc.uniqueArray(fc.constantFrom(...ACCOUNT_IDS), { minLength: 2, maxLength: 2 }),
    amount: fc.oneof(fc.bigInt(1n, 250n), fc.constant(MAX_AMOUNT)),
    currency: fc.constantFrom(...CURRENCIES),
  })
  .map(({ id, accounts: [debitAccount, creditAccount], amount, currency }) => ({
    id,
    debitAccount,
    creditAccount,
    amount,
    currency,
    occurredAt: '2026-11-29T10:00:00Z',
  }));

/** A batch, mostly fresh ids but often an exact repeat of an earlier message (a redelivery). */
const batchArb = fc.array(fc.tuple(transactionArb, fc.nat(9)), { maxLength: 12 }).map((picks) =>
  picks.reduce<Transaction[]>((batch, [tx, r]) => {
    batch.push(r < 3 && batch.length > 0 ? batch[r % batch.length] : tx);
    return batch;
  }, []),
);

/** Transactions the ledger already holds (by id, their content hash), from earlier batches. */
const knownArb = fc
  .array(transactionArb, { maxLength: 3 })
  .map((txs) => new Map(txs.map((t) => [t.id, contentHash(t)])));

/** The reference: one message at a time, its own seen-set and balances, no batching at all. */
function reference(
  accounts: ReadonlyMap<string, AccountState>,
  known: ReadonlyMap<string, string>,
  batch: readonly Transaction[],
): { outcomes: Outcome[]; balances: Map<string, bigint> } {
  const balances = new Map([...accounts].map(([id, a]) => [id, a.balance]));
  const seen = new Map(known);
  const outcomes: Outcome[] = [];
  for (const tx of batch) {
    const hash = contentHash(tx);
    const before = seen.get(tx.id);
    if (before !== undefined) {
      outcomes.push(before === hash ? 'DUPLICATE' : 'DUPLICATE_CONFLICT');
      continue;
    }
    seen.set(tx.id, hash);
    const debit = accounts.get(tx.debitAccount);
    const credit = accounts.get(tx.creditAccount);
    if (!debit || !credit) outcomes.push('UNKNOWN_ACCOUNT');
    else if (debit.currency !== tx.currency || credit.currency !== tx.currency)
      outcomes.push('CURRENCY_MISMATCH');
    else if ((balances.get(debit.id) as bigint) - tx.amount < -debit.overdraftLimit)
      outcomes.push('INSUFFICIENT_FUNDS');
    else {
      balances.set(debit.id, (balances.get(debit.id) as bigint) - tx.amount);
      balances.set(credit.id, (balances.get(credit.id) as bigint) + tx.amount);
      outcomes.push('SETTLED');
    }
  }
  return { outcomes, balances };
}

/** The engine as the settle activity composes it, with each message's outcome in input order. */
function engine(
  accounts: ReadonlyMap<string, AccountState>,
  known: ReadonlyMap<string, string>,
  batch: readonly Transaction[],
) {
  const items = batch.map((tx, index) => ({ id: tx.id, contentHash: contentHash(tx), tx, index }));
  const { kept, duplicates, conflicts } = dedupeWithinBatch(items, known);
  const posted = postBatch(
    accounts,
    kept.map((k) => k.tx),
  );
  const outcomes: Outcome[] = new Array(batch.length);
  for (const d of duplicates) outcomes[d.index] = 'DUPLICATE';
  for (const c of conflicts) outcomes[c.index] = 'DUPLICATE_CONFLICT';
  kept.forEach((k, i) => {
    const o = posted.outcomes[i];
    expect(o.transactionId).toBe(k.id);
    outcomes[k.index] = o.status === 'SETTLED' ? 'SETTLED' : o.reason;
  });
  return { outcomes, posted, kept };
}

describe('posting engine against a one-at-a-time reference model', () => {
  it('gives every message the reference outcome and ends with the reference balances', () => {
    fc.assert(
      fc.property(booksArb, knownArb, batchArb, (accounts, known, batch) => {
        const expected = reference(accounts, known, batch);
        const { outcomes, posted } = engine(accounts, known, batch);
        expect(outcomes).toEqual(expected.outcomes);
        for (const [id, balance] of expected.balances)
          expect([id, posted.balances.get(id)?.balance]).toEqual([id, balance]);
      }),
    );
  });

  it('conserves money, posts each settled transaction twice, and keeps every limit', () => {
    fc.assert(
      fc.property(booksArb, knownArb, batchArb, (accounts, known, batch) => {
        const { posted, kept } = engine(accounts, known, batch);
        const byCurrency = new Map<string, bigint>();
        for (const p of posted.postings)
          byCurrency.set(p.currency, (byCurrency.get(p.currency) ?? 0n) + p.amount);
        expect([...byCurrency.values()].filter((v) => v !== 0n)).toEqual([]);

        const settled = kept.filter((_, i) => posted.outcomes[i].status === 'SETTLED');
        // Debit then credit, each on its own account with the signed amount.
        const leg = (tx: Transaction, side: 'DEBIT' | 'CREDIT') => ({
          transactionId: tx.id,
          accountId: side === 'DEBIT' ? tx.debitAccount : tx.creditAccount,
          side,
          amount: side === 'DEBIT' ? -tx.amount : tx.amount,
          currency: tx.currency,
        });
        expect(posted.postings).toEqual(
          settled.flatMap(({ tx }) => [leg(tx, 'DEBIT'), leg(tx, 'CREDIT')]),
        );
        for (const [id, before] of accounts) {
          const after = posted.balances.get(id) as AccountState;
          expect(after.balance).toBeGreaterThanOrEqual(-before.overdraftLimit);
          // The net movement the database applies is exactly the change of balance.
          expect(posted.netMovements.get(id) ?? 0n).toBe(after.balance - before.balance);
        }
      }),
    );
  });

  it('is deterministic and never changes its input', () => {
    fc.assert(
      fc.property(booksArb, knownArb, batchArb, (accounts, known, batch) => {
        const snapshot = [...accounts].map(([id, a]) => [id, { ...a }]);
        const first = engine(accounts, known, batch);
        expect([...accounts].map(([id, a]) => [id, { ...a }])).toEqual(snapshot);
        expect(engine(accounts, known, batch).outcomes).toEqual(first.outcomes);
      }),
    );
  });
});

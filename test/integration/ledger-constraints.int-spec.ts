import { sql } from 'drizzle-orm';
import { settleBatch } from '@settlement/activities';
import { lockAndApplyMovements, readAccounts } from '@settlement/db';
import { createTestDatabase, type TestDatabase } from './support/database';
import { batch, openAccounts, startPartition } from './support/fixtures';

/** The database refuses what the code must never do, whatever code path tries it. */
describe('ledger constraints in PostgreSQL', () => {
  let db: TestDatabase;
  const refused = async (statement: string, pattern: RegExp) => {
    const err = await db.client.unsafe(statement).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(pattern);
  };

  beforeAll(async () => {
    db = await createTestDatabase('constraints');
    await openAccounts(db.db, [
      { id: 'bank', overdraftLimit: 1000n },
      { id: 'bob' },
      { id: 'usd', currency: 'USD' },
    ]);
    await startPartition(db.db, 't', 0);
    await settleBatch(
      { db: db.db, topics: { outcomes: 'o', deadLetters: 'd' } },
      batch('t', 0, 0, [
        { id: 'tx1', debit: 'bank', credit: 'bob', amount: '10' },
        // Rejected (unknown credit account): a transaction row without postings.
        { id: 'tx2', debit: 'bob', credit: 'ghost', amount: '1' },
      ]),
      'w',
    );
  });
  afterAll(() => db.drop());

  it('keeps postings append-only', async () => {
    await refused(`update postings set amount = amount * 2`, /append-only/);
    await refused(`delete from postings`, /append-only/);
    await refused(`truncate postings`, /append-only/);
  });

  it('refuses postings without a transaction, without an account, or in another currency', async () => {
    await refused(
      `insert into postings (transaction_id, account_id, side, amount, currency, batch_id) values ('nope', 'bob', 'CREDIT', 1, 'EUR', 'b')`,
      /no matching transaction/,
    );
    await refused(
      `insert into postings (transaction_id, account_id, side, amount, currency, batch_id) values ('tx2', 'ghost', 'CREDIT', 1, 'EUR', 'b')`,
      /no matching transaction or account/,
    );
    await refused(
      `insert into postings (transaction_id, account_id, side, amount, currency, batch_id) values ('tx2', 'usd', 'CREDIT', 1, 'EUR', 'b')`,
      /in its currency/,
    );
  });

  it('refuses a posting whose sign does not match its side, a second debit, and a zero amount', async () => {
    await refused(
      `insert into postings (transaction_id, account_id, side, amount, currency, batch_id) values ('tx1', 'bob', 'DEBIT', 5, 'EUR', 'b')`,
      /postings_sign_matches_side/,
    );
    await refused(
      `insert into postings (transaction_id, account_id, side, amount, currency, batch_id) values ('tx1', 'bank', 'DEBIT', -10, 'EUR', 'b')`,
      /postings_pkey/,
    );
    await refused(
      `insert into postings (transaction_id, account_id, side, amount, currency, batch_id) values ('tx1', 'bob', 'CREDIT', 0, 'EUR', 'b')`,
      /postings_amount_non_zero|postings_sign_matches_side/,
    );
  });

  it('keeps transactions final and accounts undeletable', async () => {
    await refused(
      `update transactions set status = 'REJECTED', reason = 'UNKNOWN_ACCOUNT'`,
      /final/,
    );
    await refused(`delete from transactions`, /final/);
    await refused(`delete from accounts where id = 'bob'`, /final/);
  });

  it('refuses a balance below its overdraft limit and malformed currencies', async () => {
    await refused(
      `update accounts set balance = -1001 where id = 'bank'`,
      /accounts_balance_within_limit/,
    );
    await refused(
      `insert into accounts (id, currency) values ('lower', 'eur')`,
      /accounts_currency_format/,
    );
    // Checked by a trigger where the columns are written (not on every balance update).
    await refused(
      `insert into accounts (id, currency) values ('a b', 'EUR')`,
      /accounts_id_format/,
    );
    await refused(
      `update accounts set currency = 'eu' where id = 'bank'`,
      /accounts_currency_format/,
    );
    await refused(`update accounts set id = '' where id = 'bob'`, /accounts_id_format/);
    const balance = await db.db.execute<{ b: string }>(
      sql`select balance::text as b from accounts where id = 'bank'`,
    );
    expect(balance[0].b).toBe('-10');
  });

  describe('lockAndApplyMovements: lock, floor check and moves in one statement', () => {
    const balances = async () =>
      Object.fromEntries(
        (
          await db.db.execute<{ id: string; b: string }>(
            sql`select id, balance::text as b from accounts where id in ('bank', 'bob') order by id`,
          )
        ).map((r) => [r.id, r.b]),
      );
    const snapshotOf = () => db.db.transaction((tx) => readAccounts(tx, ['bank', 'bob']));

    it('moves every balance when no debited account lost funds since the snapshot', async () => {
      const before = await balances();
      const snapshot = await snapshotOf();
      const moves = new Map([
        ['bank', -5n],
        ['bob', 5n],
      ]);
      const ok = await db.db.transaction((tx) =>
        lockAndApplyMovements(tx, snapshot, ['bank'], moves),
      );
      expect(ok).toBe(true);
      expect(await balances()).toEqual({
        bank: String(BigInt(before.bank) - 5n),
        bob: String(BigInt(before.bob) + 5n),
      });
    });

    it('moves nothing and answers false when a debited account lost funds meanwhile', async () => {
      const snapshot = await snapshotOf();
      // A concurrent debit after the snapshot.
      await db.client.unsafe(`update accounts set balance = balance - 1 where id = 'bank'`);
      const before = await balances();
      const ok = await db.db.transaction((tx) =>
        lockAndApplyMovements(tx, snapshot, ['bank'], new Map([['bob', 7n]])),
      );
      expect(ok).toBe(false);
      expect(await balances()).toEqual(before);
    });

    it('refuses to commit a move that found no account', async () => {
      const snapshot = await snapshotOf();
      const before = await balances();
      const err = await db.db
        .transaction((tx) =>
          lockAndApplyMovements(
            tx,
            snapshot,
            [],
            new Map([
              ['bob', 3n],
              ['ghost', -3n],
            ]),
          ),
        )
        .catch((e: Error) => e);
      expect((err as Error).message).toMatch(/1 of 2 balance moves found no account/);
      expect(await balances()).toEqual(before);
    });
  });
});

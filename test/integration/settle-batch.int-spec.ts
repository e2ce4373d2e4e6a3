import { sql } from 'drizzle-orm';
import {
  ConcurrentSettlementError,
  PredecessorPendingError,
  settleBatch,
} from '@settlement/activities';
import { createTestDatabase, type TestDatabase } from './support/database';
import {
  assertConservation,
  balanceOf,
  batch,
  count,
  openAccounts,
  outboxMessages,
  startPartition,
  type TxSpec,
} from './support/fixtures';

const topics = { outcomes: 'settlements', deadLetters: 'transactions.dlq' };
const T = 'transactions';

describe('settle activity on real PostgreSQL', () => {
  let db: TestDatabase;
  const settle = (input: Parameters<typeof settleBatch>[1]) =>
    settleBatch({ db: db.db, topics }, input, `settle-${input.batchId}`);

  beforeEach(async () => {
    db = await createTestDatabase('settle');
    await openAccounts(db.db, [
      { id: 'bank', overdraftLimit: 10n ** 30n },
      { id: 'alice', overdraftLimit: 100n },
      { id: 'bob' },
      { id: 'carol', currency: 'USD' },
    ]);
    await startPartition(db.db, T, 0);
    await startPartition(db.db, T, 1);
  });
  afterEach(() => db.drop());

  it('settles in offset order, so a credit earlier in the batch funds a later debit', async () => {
    const specs: TxSpec[] = [
      { id: 't1', debit: 'bob', credit: 'alice', amount: '50' }, // bob has 0, no limit
      { id: 't2', debit: 'bank', credit: 'bob', amount: '500' },
      { id: 't3', debit: 'bob', credit: 'alice', amount: '500' }, // funded by t2
      { id: 't4', debit: 'alice', credit: 'carol', amount: '1' }, // USD account
      { id: 't5', debit: 'alice', credit: 'nobody', amount: '1' },
      { id: 't6', debit: 'alice', credit: 'bob', amount: '600' }, // 500 - 600 = -100 = -limit: ok
      { id: 't7', debit: 'alice', credit: 'bob', amount: '1' }, // one below the limit
    ];
    const result = await settle(batch(T, 0, 0, specs));
    expect(result).toMatchObject({ settled: 3, rejected: 4, duplicates: 0, alreadyApplied: false });
    const statuses = await db.db.execute<{ id: string; status: string; reason: string | null }>(
      sql`select id, status, reason from transactions order by id`,
    );
    expect(statuses.map((r) => [r.id, r.status, r.reason])).toEqual([
      ['t1', 'REJECTED', 'INSUFFICIENT_FUNDS'],
      ['t2', 'SETTLED', null],
      ['t3', 'SETTLED', null],
      ['t4', 'REJECTED', 'CURRENCY_MISMATCH'],
      ['t5', 'REJECTED', 'UNKNOWN_ACCOUNT'],
      ['t6', 'SETTLED', null],
      ['t7', 'REJECTED', 'INSUFFICIENT_FUNDS'],
    ]);
    expect(await balanceOf(db.db, 'alice')).toBe(-100n);
    expect(await balanceOf(db.db, 'bob')).toBe(600n);
    expect(await count(db.db, 'postings')).toBe(6);
    expect(await outboxMessages(db.db, sql`topic = 'settlements'`)).toBe(7);
    await assertConservation(db.db);
    const cursor = await db.db.execute<{ n: string }>(
      sql`select next_offset::text as n from partition_cursors where topic = ${T} and partition = 0`,
    );
    expect(cursor[0].n).toBe('7');
  });

  it('handles amounts at the 2^63-1 maximum without losing a unit', async () => {
    const max = '9223372036854775807';
    await settle(
      batch(T, 0, 0, [
        { id: 'm1', debit: 'bank', credit: 'bob', amount: max },
        { id: 'm2', debit: 'bank', credit: 'bob', amount: max },
      ]),
    );
    expect(await balanceOf(db.db, 'bob')).toBe(2n * 9223372036854775807n);
    expect(await balanceOf(db.db, 'bank')).toBe(-2n * 9223372036854775807n);
    await assertConservation(db.db);
  });

  it('is idempotent when retried after the commit (a crash before the activity answered)', async () => {
    const input = batch(T, 0, 0, [{ id: 'r1', debit: 'bank', credit: 'bob', amount: '10' }]);
    const first = await settle(input);
    const second = await settle(input);
    // The retry reports the recorded counts; reasons are left out so metrics count them once.
    expect(second).toEqual({
      batchId: first.batchId,
      settled: first.settled,
      rejected: first.rejected,
      duplicates: first.duplicates,
      deadLettered: first.deadLettered,
      alreadyApplied: true,
    });
    expect(await count(db.db, 'postings')).toBe(2);
    expect(await outboxMessages(db.db)).toBe(1);
    expect(await balanceOf(db.db, 'bob')).toBe(10n);
  });

  it('rolls everything back when it fails between the ledger write and the batch update, then applies once', async () => {
    // Fault injection in the real database: the batch-row write fails on the first attempt.
    await db.db.execute(
      sql.raw(`
      create function fail_batch() returns trigger language plpgsql as $$
      begin raise exception 'injected crash before the batch status update'; end $$;
      create trigger fail_batch before insert on batches for each row execute function fail_batch();`),
    );
    const input = batch(T, 0, 0, [{ id: 'c1', debit: 'bank', credit: 'bob', amount: '10' }]);
    const crash = await settle(input).catch((err: Error) => err);
    expect(String((crash as Error).cause)).toMatch(/injected crash/);
    expect(await count(db.db, 'postings')).toBe(0);
    expect(await count(db.db, 'transactions')).toBe(0);
    expect(await balanceOf(db.db, 'bob')).toBe(0n);
    await db.db.execute(sql.raw('drop trigger fail_batch on batches'));
    await expect(settle(input)).resolves.toMatchObject({ settled: 1, alreadyApplied: false });
    expect(await count(db.db, 'postings')).toBe(2);
  });

  it('counts a redelivered identical transaction as a duplicate and dead-letters a conflicting one', async () => {
    await settle(batch(T, 0, 0, [{ id: 'd1', debit: 'bank', credit: 'bob', amount: '10' }]));
    const result = await settle(
      batch(T, 0, 1, [
        { id: 'd1', debit: 'bank', credit: 'bob', amount: '10' },
        { id: 'd1', debit: 'bank', credit: 'bob', amount: '11' },
      ]),
    );
    expect(result).toMatchObject({ settled: 0, rejected: 0, duplicates: 1, deadLettered: 1 });
    expect(await balanceOf(db.db, 'bob')).toBe(10n);
    const dl = await db.db.execute<{ reason: string; offset: string; value: string }>(
      sql`select reason, "offset"::text, value from dead_letters`,
    );
    expect(dl).toHaveLength(1);
    expect(dl[0]).toMatchObject({ reason: 'DUPLICATE_CONFLICT', offset: '2' });
    expect(JSON.parse(Buffer.from(dl[0].value, 'base64').toString()).amount).toBe('11');
    expect(await outboxMessages(db.db, sql`topic = 'transactions.dlq'`)).toBe(1);
  });

  it('a replay over settled data neither records nor publishes a recorded dead letter again', async () => {
    await settle(batch(T, 0, 0, [{ id: 'r1', debit: 'bank', credit: 'bob', amount: '10' }]));
    const specs: TxSpec[] = [
      { id: 'r1', debit: 'bank', credit: 'bob', amount: '10' },
      { id: 'r1', debit: 'bank', credit: 'bob', amount: '12' },
    ];
    await settle(batch(T, 0, 1, specs));
    expect(await outboxMessages(db.db, sql`topic = 'transactions.dlq'`)).toBe(1);
    const replay = { ...batch(T, 0, 1, specs), batchId: 'replay-x', replayId: 'x' };
    await expect(settle(replay)).resolves.toMatchObject({ settled: 0, deadLettered: 1 });
    expect(await count(db.db, 'dead_letters')).toBe(1);
    expect(await outboxMessages(db.db, sql`topic = 'transactions.dlq'`)).toBe(1);
  });

  it('waits for the previous batch of the partition (order across micro-batches)', async () => {
    const second = batch(T, 0, 1, [{ id: 'o2', debit: 'bob', credit: 'alice', amount: '5' }]);
    await expect(settle(second)).rejects.toBeInstanceOf(PredecessorPendingError);
    expect(await count(db.db, 'transactions')).toBe(0);
    await settle(batch(T, 0, 0, [{ id: 'o1', debit: 'bank', credit: 'bob', amount: '5' }]));
    await expect(settle(second)).resolves.toMatchObject({ settled: 1 });
    expect(await balanceOf(db.db, 'bob')).toBe(0n);
  });

  it('applies only the unapplied tail of a batch that overlaps one settled before a consumer restart', async () => {
    const specs: TxSpec[] = [
      { id: 'v1', debit: 'bank', credit: 'bob', amount: '1' },
      { id: 'v2', debit: 'bank', credit: 'bob', amount: '2' },
      { id: 'v3', debit: 'bank', credit: 'bob', amount: '4' },
    ];
    await settle(batch(T, 0, 0, specs.slice(0, 2)));
    const overlapping = await settle(batch(T, 0, 0, specs));
    expect(overlapping).toMatchObject({ settled: 1, duplicates: 0 });
    expect(await balanceOf(db.db, 'bob')).toBe(7n);
  });

  it('refuses a transaction id that a concurrent batch inserted first, so the retry recomputes', async () => {
    // The same id on two partitions at once: one of the two transactions must lose.
    const a = batch(T, 0, 0, [{ id: 'race', debit: 'bank', credit: 'bob', amount: '3' }]);
    const b = batch(T, 1, 0, [{ id: 'race', debit: 'bank', credit: 'bob', amount: '3' }]);
    const results = await Promise.allSettled([settle(a), settle(b)]);
    const failures = results.filter((r) => r.status === 'rejected');
    for (const f of failures)
      expect((f as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrentSettlementError);
    // Whatever interleaving happened, a retry of both leaves exactly one effect.
    await settle(a);
    await settle(b);
    expect(await balanceOf(db.db, 'bob')).toBe(3n);
    expect(await count(db.db, 'postings')).toBe(2);
  });

  it('settles concurrent batches debiting one account without handing the race back to Temporal', async () => {
    // Replays (and one workflow per transaction) debit one account from several batches at
    // once: the loser of the optimistic check settles again with the accounts locked first.
    const inputs = Array.from({ length: 8 }, (_, i) => ({
      ...batch(T, 0, i, [{ id: `fan-${i}`, debit: 'alice', credit: 'bob', amount: '10' }]),
      batchId: `fan-${i}`,
      replayId: 'fan',
    }));
    const results = await Promise.all(inputs.map((input) => settle(input)));
    expect(results.map((r) => r.settled + r.rejected)).toEqual(inputs.map(() => 1));
    // alice (limit 100) affords all eight: each settled exactly once.
    expect(await balanceOf(db.db, 'alice')).toBe(-80n);
    expect(await balanceOf(db.db, 'bob')).toBe(80n);
    await assertConservation(db.db);
  });

  it('keeps limits and conservation under concurrent batches on the same accounts, without deadlocks', async () => {
    await openAccounts(db.db, [
      { id: 'x', overdraftLimit: 50n },
      { id: 'y', overdraftLimit: 50n },
      { id: 'z', overdraftLimit: 50n },
    ]);
    const parts = [0, 1, 2, 3];
    for (const p of parts) await startPartition(db.db, 'concurrent', p);
    const rounds = 15;
    const accountsIds = ['x', 'y', 'z'];
    let n = 0;
    for (let round = 0; round < rounds; round++) {
      await Promise.all(
        parts.map(async (p) => {
          const specs: TxSpec[] = Array.from({ length: 40 }, (_, i) => {
            const debit = accountsIds[(i + p + round) % 3];
            const credit = accountsIds[(i + p + round + 1 + (i % 2)) % 3];
            return {
              id: `cc-${p}-${round}-${i}-${n++}`,
              debit,
              credit,
              amount: String(1 + ((i * 7 + p) % 30)),
            };
          });
          const input = batch('concurrent', p, round * 40, specs);
          for (;;) {
            try {
              return await settle(input);
            } catch (err) {
              // The same retry Temporal would do; anything else (a deadlock) fails the test.
              if (!(err instanceof ConcurrentSettlementError)) throw err;
            }
          }
        }),
      );
    }
    for (const id of accountsIds) expect(await balanceOf(db.db, id)).toBeGreaterThanOrEqual(-50n);
    expect(await count(db.db, 'transactions')).toBe(rounds * parts.length * 40);
    await assertConservation(db.db);
  });
});

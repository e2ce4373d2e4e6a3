/**
 * Set-based ledger set-up for the bench sweep (docs/benchmarks.md): opening and funding
 * accounts, and a history of postings, with generate_series in the bench's own database, in
 * seconds instead of the minutes a million funding messages take through the pipeline. What
 * it writes keeps every ledger invariant (`checkLedger`): each transaction SETTLED with its
 * debit and credit posting, one SETTLED batch per step with its counts, balances equal to
 * the sums of their postings, nothing below its limit.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '@settlement/db';
import type { LoadGenerator } from '@settlement/loadgen';

/** Transactions per statement: bounds the trigger's transition table and the WAL per commit. */
const CHUNK = 1_000_000;
/** Outside every real topic: no partition cursor or consumer offset refers to it. */
const TOPIC = 'bench-prefill';

/** The bank, the run's accounts (`<run>-a<i>`) and its poor accounts, in one statement each. */
export async function openAccountsBySql(db: Database, gen: LoadGenerator): Promise<void> {
  const run = gen.bank.slice(0, -'-bank'.length);
  await db.execute(sql`insert into accounts (id, currency, overdraft_limit)
    values (${gen.bank}, ${gen.currency}, ${(10n ** 30n).toString()}::numeric)`);
  await db.execute(sql`insert into accounts (id, currency, overdraft_limit)
    select ${run} || '-a' || g, ${gen.currency}, 0 from generate_series(0, ${gen.accounts.length - 1}::bigint) g`);
  await db.execute(sql`insert into accounts (id, currency, overdraft_limit)
    select ${run} || '-poor' || g, ${gen.currency}, 0 from generate_series(0, ${gen.poor.length - 1}::bigint) g`);
}

/**
 * `count` transfers from the bank: transaction `i` has id `<idPrefix><i>`, credits account
 * `i % accounts` with `amount(i)` (an SQL expression of `g`), in one SETTLED batch.
 */
async function bankTransfers(
  db: Database,
  gen: LoadGenerator,
  batchId: string,
  idPrefix: string,
  count: number,
  amount: ReturnType<typeof sql>,
): Promise<void> {
  const run = gen.bank.slice(0, -'-bank'.length);
  const n = gen.accounts.length;
  await db.execute(sql`insert into batches
    (id, topic, partition, from_offset, next_offset, workflow_id, status, message_count, settled, settled_at)
    values (${batchId}, ${TOPIC}, 0, 0, ${count}, ${batchId}, 'SETTLED', ${count}, ${count}, now())`);
  for (let from = 0; from < count; from += CHUNK) {
    const to = Math.min(count, from + CHUNK) - 1;
    await db.execute(sql`insert into transactions
      (id, content_hash, debit_account, credit_account, amount, currency, occurred_at, status,
       batch_id, topic, partition, "offset")
      select ${idPrefix} || g, md5(${idPrefix} || g) || md5(g::text), ${gen.bank},
        ${run} || '-a' || (g % ${n}::bigint), ${amount}, ${gen.currency}, '2026-01-01T00:00:00Z', 'SETTLED',
        ${batchId}, ${TOPIC}, 0, g
      from generate_series(${from}::bigint, ${to}::bigint) g`);
    await db.execute(sql`insert into postings (transaction_id, account_id, side, amount, currency, batch_id)
      select ${idPrefix} || g, p.account_id, p.side, p.amount, ${gen.currency}, ${batchId}
      from generate_series(${from}::bigint, ${to}::bigint) g
      cross join lateral (values (${gen.bank}, 'DEBIT', -(${amount})),
        (${run} || '-a' || (g % ${n}::bigint), 'CREDIT', ${amount})) as p(account_id, side, amount)`);
  }
  await db.execute(sql`update accounts a set balance = a.balance + s.total, updated_at = now()
    from (select account_id, sum(amount) as total from postings where batch_id = ${batchId}
          group by account_id) s
    where a.id = s.account_id`);
}

/** Funds every account of the run as its funding messages would (same ids and amounts). */
export async function fundBySql(db: Database, gen: LoadGenerator, funding: string): Promise<void> {
  const run = gen.bank.slice(0, -'-bank'.length);
  const count = gen.accounts.length;
  await bankTransfers(db, gen, `${run}-funding`, `${run}-fund`, count, sql`${funding}::bigint`);
}

/**
 * A history of `postings` postings (two per transaction) spread over the run's accounts,
 * then VACUUM ANALYZE, as a ledger that has been running a while would be.
 */
export async function prefillPostings(
  db: Database,
  gen: LoadGenerator,
  postings: number,
): Promise<void> {
  const run = gen.bank.slice(0, -'-bank'.length);
  const count = Math.ceil(postings / 2);
  await bankTransfers(db, gen, `${run}-history`, `${run}-h`, count, sql`1 + g % 1000`);
  for (const table of ['accounts', 'transactions', 'postings'])
    await db.execute(sql.raw(`vacuum analyze ${table}`));
}

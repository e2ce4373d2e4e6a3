import { and, desc, eq, gt, inArray, isNull, lt, lte, max, ne, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Database } from './client';
import type { LedgerTx } from './ledger-store';
import {
  accounts,
  batches,
  cyclePositions,
  partitionCursors,
  postings,
  settlementCycles,
  transactions,
} from './schema';
import { cycleColumns } from './cycle-store';
import { advisoryXactLock, dbNow, dbNowOnce, pgArray } from './sql-fragments';

/**
 * What the settlement-cycle workflow's steps read and write (libs/activities cycle.activity):
 * the cycle's row, the partitions its window waits for, and its net positions.
 */
type Reader = Pick<Database, 'select' | '$count'>;

const sealed = sql<boolean>`${settlementCycles.sealedAt} is not null`;

/** A cycle as its steps see it: window times as RFC 3339 text (ms), how many positions it has. */
export type CycleState = NonNullable<Awaited<ReturnType<typeof findCycleForStep>>>;

/** The cycle with its position count; with `lock`, its row stays locked to the end of the transaction. */
export async function findCycleForStep(db: Reader, cycleId: string, lock = false) {
  const query = db
    .select({
      ...cycleColumns,
      sealed,
      positions: db.$count(cyclePositions, eq(cyclePositions.cycleId, settlementCycles.id)),
    })
    .from(settlementCycles)
    .where(eq(settlementCycles.id, cycleId));
  const rows = await (lock ? query.for('update', { of: settlementCycles }) : query);
  return rows[0];
}

/** Serialises cycle starts until the end of the transaction: the order checks and the insert are one step. */
export async function lockCycleStarts(tx: Pick<LedgerTx, 'execute'>): Promise<void> {
  await advisoryXactLock(tx, 'settlement_cycles');
}

/** The database clock plus the grace period: when waiting for a window's batches gives up. */
const graceAfter = (from: SQL, graceSeconds: number) =>
  sql<Date>`${from} + make_interval(secs => ${graceSeconds})`;

/** A failed cycle run again: back to its last good step, with a fresh grace period. */
export async function reopenFailedCycle(
  tx: Pick<LedgerTx, 'update'>,
  cycleId: string,
  graceSeconds: number,
): Promise<void> {
  await tx
    .update(settlementCycles)
    .set({
      status: sql`case when ${settlementCycles.sealedAt} is null then 'CLOSED' else 'COMPUTED' end`,
      error: null,
      graceDeadline: graceAfter(dbNow(), graceSeconds),
      updatedAt: dbNow(),
    })
    .where(eq(settlementCycles.id, cycleId));
}

/** The cycle with the latest cut-off, if any: the one a new cycle follows. */
export async function findLatestCycle(db: Pick<Database, 'select'>) {
  const rows = await db
    .select({
      id: settlementCycles.id,
      status: settlementCycles.status,
      cutoff: settlementCycles.cutoff,
    })
    .from(settlementCycles)
    .orderBy(desc(settlementCycles.cutoff))
    .limit(1);
  return rows[0];
}

/** Per partition of live batches, the position ingest had read to at `cutoff`. */
export async function findPositionsReadBefore(db: Pick<Database, 'select'>, cutoff: Date) {
  const rows = await db
    .select({
      topic: batches.topic,
      partition: batches.partition,
      nextOffset: max(batches.nextOffset),
    })
    .from(batches)
    .where(and(isNull(batches.replayId), lte(batches.createdAt, cutoff)))
    .groupBy(batches.topic, batches.partition);
  return rows.map((r) => ({ ...r, nextOffset: String(r.nextOffset) }));
}

export type NewCycle = Pick<
  typeof settlementCycles.$inferInsert,
  'id' | 'workflowId' | 'windowStart' | 'cutoff' | 'partitionTargets' | 'requestedBy'
>;

/** A new CLOSED cycle, waiting for its batches until the grace period after its cut-off. */
export async function insertClosedCycle(
  tx: Pick<LedgerTx, 'insert'>,
  cycle: NewCycle,
  graceSeconds: number,
): Promise<void> {
  await tx.insert(settlementCycles).values({
    ...cycle,
    status: 'CLOSED',
    graceDeadline: graceAfter(
      sql`greatest(now(), ${cycle.cutoff.toISOString()}::timestamptz)`,
      graceSeconds,
    ),
  });
}

/** The partitions a cycle waits for, whether it is sealed, and whether its grace period is over. */
export async function findCycleTargets(db: Pick<Database, 'select'>, cycleId: string) {
  const rows = await db
    .select({
      sealed,
      overdue: sql<boolean>`now() > ${settlementCycles.graceDeadline}`,
      partitionTargets: settlementCycles.partitionTargets,
    })
    .from(settlementCycles)
    .where(eq(settlementCycles.id, cycleId));
  return rows[0];
}

/** Where settlement stands in every partition of these topics. */
export async function readPartitionCursors(
  db: Pick<Database, 'select'>,
  topics: readonly string[],
) {
  if (topics.length === 0) return [];
  return db
    .select({
      topic: partitionCursors.topic,
      partition: partitionCursors.partition,
      nextOffset: partitionCursors.nextOffset,
    })
    .from(partitionCursors)
    .where(inArray(partitionCursors.topic, [...topics]));
}

/** Seals the cycle's window (once: a retry keeps the first seal time). */
export async function sealCycle(db: Pick<Database, 'update'>, cycleId: string): Promise<void> {
  await db
    .update(settlementCycles)
    .set({ sealedAt: dbNowOnce(settlementCycles.sealedAt), updatedAt: dbNow() })
    .where(eq(settlementCycles.id, cycleId));
}

/**
 * The ids of the database transactions in progress now in this database or not attributable
 * to another one. Raw SQL: snapshot functions and pg_stat_activity are not schema tables.
 */
export async function openTransactionIds(db: Pick<Database, 'execute'>): Promise<string[]> {
  // Snapshots span the cluster: leave out transactions seen running in other databases,
  // which cannot write this ledger (any transaction not attributable is waited for).
  const rows = await db.execute<{ xid: string }>(sql`
    select x::text as xid from pg_snapshot_xip(pg_current_snapshot()) x
    where (x::text::numeric % 4294967296)::text not in (
      select backend_xid::text from pg_stat_activity
      where backend_xid is not null and datname is distinct from current_database())`);
  return rows.map((r) => r.xid);
}

/** How many of these database transactions are still in progress (raw SQL: xid8 functions). */
export async function countInProgress(
  db: Pick<Database, 'execute'>,
  xids: readonly string[],
): Promise<number> {
  const rows = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from unnest(${pgArray(xids)}::xid8[]) x
    where pg_xact_status(x) = 'in progress'`);
  return rows[0].n;
}

/** The window (windowStart, cutoff] over transactions `t`, its bounds as RFC 3339 text. */
export type CycleBounds = Pick<CycleState, 'id' | 'windowStart' | 'cutoff'>;

const inWindow = (cycle: CycleBounds) =>
  sql`t.settled_at > ${cycle.windowStart}::timestamptz and t.settled_at <= ${cycle.cutoff}::timestamptz`;

/**
 * Every account's net position in the window and its balance at the cut-off, and the cycle
 * COMPUTED with its counts and totals per currency. Raw SQL: two set-based statements over
 * the whole window (CTEs, filtered aggregates, insert ... select), whatever its size.
 */
export async function computeCyclePositions(
  tx: Pick<LedgerTx, 'execute'>,
  cycle: CycleBounds,
): Promise<void> {
  await tx.execute(sql`
    insert into cycle_positions (cycle_id, account_id, currency, debits, credits, net, closing_balance)
    with in_window as (
      select p.account_id, p.currency, p.amount
      from transactions t join postings p on p.transaction_id = t.id
      where ${inWindow(cycle)} and t.status = 'SETTLED'),
    after_cutoff as (
      select p.account_id, sum(p.amount) as amount
      from transactions t join postings p on p.transaction_id = t.id
      where t.settled_at > ${cycle.cutoff}::timestamptz
      group by p.account_id)
    select ${cycle.id}, w.account_id, w.currency,
      coalesce(sum(-w.amount) filter (where w.amount < 0), 0),
      coalesce(sum(w.amount) filter (where w.amount > 0), 0),
      sum(w.amount),
      a.balance - coalesce(l.amount, 0)
    from in_window w
    join accounts a on a.id = w.account_id
    left join after_cutoff l on l.account_id = w.account_id
    group by w.account_id, w.currency, a.balance, l.amount`);
  await tx.execute(sql`
    update settlement_cycles s set status = 'COMPUTED', updated_at = now(),
      transactions = counts.settled, rejected = counts.rejected,
      totals = coalesce((
        select jsonb_object_agg(currency, jsonb_build_object('debits', debits::text, 'credits', credits::text))
        from (select currency, sum(debits) as debits, sum(credits) as credits
              from cycle_positions where cycle_id = s.id group by currency) per_currency), '{}'::jsonb)
    from (select count(*) filter (where t.status = 'SETTLED') as settled,
                 count(*) filter (where t.status = 'REJECTED') as rejected
          from transactions t where ${inWindow(cycle)}) counts
    where s.id = ${cycle.id}`);
}

const earlier = alias(cyclePositions, 'earlier');

/** An account's position in a cycle with its balances at the window's start and at the cut-off. */
export type CycleBalances = Awaited<ReturnType<typeof readCycleBalances>>[number];

/**
 * Every account with its stored position in the cycle (zero without one), its opening
 * balance (the closing balance of its previous cycle, or 0) and its balance at the cut-off
 * (today's balance less what settled since).
 */
export async function readCycleBalances(
  db: Pick<Database, 'select' | '$with' | 'with'>,
  cycle: CycleBounds,
) {
  const settledSince = db.$with('after_cutoff').as(
    db
      .select({
        accountId: postings.accountId,
        amount: sql<string>`sum(${postings.amount})`.as('amount'),
      })
      .from(transactions)
      .innerJoin(postings, eq(postings.transactionId, transactions.id))
      .where(gt(transactions.settledAt, sql`${cycle.cutoff}::timestamptz`))
      .groupBy(postings.accountId),
  );
  const opening = db
    .select({ closingBalance: earlier.closingBalance })
    .from(earlier)
    .where(
      and(
        eq(earlier.accountId, accounts.id),
        eq(earlier.currency, accounts.currency),
        lt(earlier.cycleId, cycle.id),
      ),
    )
    .orderBy(desc(earlier.cycleId))
    .limit(1);
  const orZero = (value: unknown) => sql`coalesce(${value}, 0)`.mapWith(accounts.balance);
  return db
    .with(settledSince)
    .select({
      accountId: accounts.id,
      currency: accounts.currency,
      debits: orZero(cyclePositions.debits),
      credits: orZero(cyclePositions.credits),
      net: orZero(cyclePositions.net),
      opening: orZero(opening),
      closing: sql`${accounts.balance} - coalesce(${settledSince.amount}, 0)`.mapWith(
        accounts.balance,
      ),
    })
    .from(accounts)
    .leftJoin(
      cyclePositions,
      and(
        eq(cyclePositions.cycleId, cycle.id),
        eq(cyclePositions.accountId, accounts.id),
        eq(cyclePositions.currency, accounts.currency),
      ),
    )
    .leftJoin(settledSince, eq(settledSince.accountId, accounts.id));
}

/** COMPUTED -> VERIFIED (only from COMPUTED: a retry changes nothing). */
export async function markCycleVerified(db: Pick<Database, 'update'>, cycleId: string) {
  await db
    .update(settlementCycles)
    .set({ status: 'VERIFIED', updatedAt: dbNow() })
    .where(and(eq(settlementCycles.id, cycleId), eq(settlementCycles.status, 'COMPUTED')));
}

/** The cycle COMPLETED, the first completion time kept. */
export async function markCycleCompleted(db: Pick<Database, 'update'>, cycleId: string) {
  await db
    .update(settlementCycles)
    .set({
      status: 'COMPLETED',
      completedAt: dbNowOnce(settlementCycles.completedAt),
      updatedAt: dbNow(),
    })
    .where(eq(settlementCycles.id, cycleId));
}

/** The cycle FAILED with why; a completed cycle stays completed. */
export async function markCycleFailed(
  db: Pick<Database, 'update'>,
  cycleId: string,
  error: string,
) {
  await db
    .update(settlementCycles)
    .set({ status: 'FAILED', error, updatedAt: dbNow() })
    .where(and(eq(settlementCycles.id, cycleId), ne(settlementCycles.status, 'COMPLETED')));
}

import { and, asc, desc, eq, gt, lt, sql } from 'drizzle-orm';
import type { Database } from './client';
import { cyclePositions, settlementCycles } from './schema';
import { isoUtc } from './sql-fragments';

/** Settlement cycles and their positions as the admin API reads them. */
type Reader = Pick<Database, 'select'>;

export async function findCycleState(db: Reader, id: string) {
  const rows = await db
    .select({
      id: settlementCycles.id,
      workflowId: settlementCycles.workflowId,
      status: settlementCycles.status,
    })
    .from(settlementCycles)
    .where(eq(settlementCycles.id, id));
  return rows[0];
}

/** The first cycle whose cut-off is later than `cutoff` (its window contains it), if any. */
export async function findCycleAfter(db: Reader, cutoff: Date): Promise<string | undefined> {
  const rows = await db
    .select({ id: settlementCycles.id })
    .from(settlementCycles)
    .where(gt(settlementCycles.cutoff, cutoff))
    .orderBy(asc(settlementCycles.cutoff))
    .limit(1);
  return rows[0]?.id;
}

export const cycleColumns = {
  id: settlementCycles.id,
  workflowId: settlementCycles.workflowId,
  status: settlementCycles.status,
  windowStart: isoUtc(settlementCycles.windowStart, 'ms'),
  cutoff: isoUtc(settlementCycles.cutoff, 'ms'),
  transactions: settlementCycles.transactions,
  rejected: settlementCycles.rejected,
  totals: settlementCycles.totals,
  requestedBy: settlementCycles.requestedBy,
  error: settlementCycles.error,
  createdAt: isoUtc(settlementCycles.createdAt, 'ms'),
  completedAt: isoUtc(settlementCycles.completedAt, 'ms'),
};

/** A cycle with its times as RFC 3339 text (milliseconds: cut-offs are whole seconds). */
export type CycleListRow = Awaited<ReturnType<typeof listCycles>>[number];

/** Newest first; ids sort by cut-off, so the keyset is the id. */
export async function listCycles(db: Reader, beforeId: string | undefined, limit: number) {
  return db
    .select(cycleColumns)
    .from(settlementCycles)
    .where(beforeId ? lt(settlementCycles.id, beforeId) : undefined)
    .orderBy(desc(settlementCycles.id))
    .limit(limit);
}

export async function findCycle(db: Reader, id: string): Promise<CycleListRow | undefined> {
  const rows = await db
    .select(cycleColumns)
    .from(settlementCycles)
    .where(eq(settlementCycles.id, id));
  return rows[0];
}

/** A cycle's net positions by account then currency, keyset on (account, currency). */
export async function listCyclePositions(
  db: Reader,
  cycleId: string,
  filter: { account?: string; after?: readonly [string, string] },
  limit: number,
) {
  const { account, after } = filter;
  return db
    .select({
      accountId: cyclePositions.accountId,
      currency: cyclePositions.currency,
      debits: cyclePositions.debits,
      credits: cyclePositions.credits,
      net: cyclePositions.net,
    })
    .from(cyclePositions)
    .where(
      and(
        eq(cyclePositions.cycleId, cycleId),
        account ? eq(cyclePositions.accountId, account) : undefined,
        after
          ? sql`(${cyclePositions.accountId}, ${cyclePositions.currency}) > (${after[0]}, ${after[1]})`
          : undefined,
      ),
    )
    .orderBy(asc(cyclePositions.accountId), asc(cyclePositions.currency))
    .limit(limit);
}

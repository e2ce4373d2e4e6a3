import { and, count, eq, gte, isNull, like, ne, sql } from 'drizzle-orm';
import type { Database } from './client';
import { batches, deadLetters, transactions } from './schema';
import { anyOf } from './sql-fragments';

/**
 * What the ledger holds for one load-generator run (libs/loadgen): its ids, keys and
 * accounts all start with the run id.
 */
type Reader = Pick<Database, 'select' | '$count'>;

/** How many of these transaction ids have an outcome. */
export async function countRecordedTransactions(
  db: Reader,
  ids: readonly string[],
): Promise<number> {
  return db.$count(transactions, anyOf(transactions.id, ids));
}

/**
 * The run's outcomes: transactions by status and reason, dead letters of `topic` by reason,
 * and the duplicates counted by the live batches of `topic` settled since `since`.
 */
export async function countRunOutcomes(db: Reader, runId: string, topic: string, since: Date) {
  const ofRun = `${runId}-%`;
  const settlements = await db
    .select({ status: transactions.status, reason: transactions.reason, n: count() })
    .from(transactions)
    .where(like(transactions.id, ofRun))
    .groupBy(transactions.status, transactions.reason);
  const deadLettered = await db
    .select({ reason: deadLetters.reason, n: count() })
    .from(deadLetters)
    .where(and(eq(deadLetters.topic, topic), like(deadLetters.key, ofRun)))
    .groupBy(deadLetters.reason);
  // Batches re-formed after an ingest crash count only what they applied themselves (the
  // settle activity records zeros for a range another batch covered), so the sum is exact.
  const [{ duplicates }] = await db
    .select({ duplicates: sql`coalesce(sum(${batches.duplicates}), 0)`.mapWith(Number) })
    .from(batches)
    .where(
      and(
        eq(batches.topic, topic),
        isNull(batches.replayId),
        eq(batches.status, 'SETTLED'),
        gte(batches.createdAt, since),
      ),
    );
  return { settlements, deadLettered, duplicates };
}

/** Messages with an outcome so far, from the settled batch rows (no scan of transactions). */
export async function countSettledOutcomes(db: Pick<Database, 'select'>): Promise<number> {
  const [{ n }] = await db
    .select({ n: sql`coalesce(sum(${batches.settled} + ${batches.rejected}), 0)`.mapWith(Number) })
    .from(batches)
    .where(eq(batches.status, 'SETTLED'));
  return n;
}

/** When each of the run's transactions settled, in epoch milliseconds, by id. */
export async function settledTimesOfRun(db: Pick<Database, 'select'>, runId: string) {
  return db
    .select({
      id: transactions.id,
      at: sql`(extract(epoch from ${transactions.settledAt}) * 1000)::bigint`.mapWith(Number),
    })
    .from(transactions)
    .where(like(transactions.id, `${runId}-t%`));
}

/** How many batches there are and their mean size (0 without any), except those of `exceptTopic`. */
export async function batchShape(db: Pick<Database, 'select'>, exceptTopic: string) {
  const [shape] = await db
    .select({
      batches: count(),
      avg: sql`coalesce(round(avg(${batches.messageCount})), 0)`.mapWith(Number),
    })
    .from(batches)
    .where(ne(batches.topic, exceptTopic));
  return shape;
}

import { and, asc, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { BatchMessage } from '@settlement/contracts';
import type { Database } from './client';
import { BATCH_STATUSES, batches, partitionCursors, transactions } from './schema';
import { isoUtc } from './sql-fragments';

export interface PendingBatchRef {
  id: string;
  topic: string;
  partition: number;
  fromOffset: bigint;
  nextOffset: bigint;
  workflowId: string;
  deadLettered: number;
  closedAt: Date | null;
  /** True when the batch's messages wait in the row (BATCH_PAYLOAD=database). */
  staged: boolean;
}

/** Live batches of `topic` recorded PENDING before `olderThan`, oldest first. */
export async function findPendingBatchesBefore(
  db: Pick<Database, 'select'>,
  topic: string,
  olderThan: Date,
  limit: number,
): Promise<PendingBatchRef[]> {
  return db
    .select({
      id: batches.id,
      topic: batches.topic,
      partition: batches.partition,
      fromOffset: batches.fromOffset,
      nextOffset: batches.nextOffset,
      workflowId: batches.workflowId,
      deadLettered: batches.deadLettered,
      closedAt: batches.closedAt,
      staged: sql<boolean>`${batches.stagedMessages} is not null`,
    })
    .from(batches)
    .where(
      and(
        eq(batches.status, 'PENDING'),
        eq(batches.topic, topic),
        isNull(batches.replayId),
        lt(batches.createdAt, olderThan),
      ),
    )
    .orderBy(asc(batches.createdAt))
    .limit(limit);
}

/**
 * A PENDING batch whose workflow closed without settling it: marked FAILED with the reason,
 * its staged payload freed. Only a PENDING row changes.
 */
export async function abandonBatch(
  db: Pick<Database, 'update'>,
  id: string,
  reason: string,
): Promise<boolean> {
  const rows = await db
    .update(batches)
    .set({ status: 'FAILED', error: reason, stagedMessages: null })
    .where(and(eq(batches.id, id), eq(batches.status, 'PENDING')))
    .returning({ id: batches.id });
  return rows.length > 0;
}

/** Where settlement stands in a partition (the next offset to apply), unlocked; none yet: undefined. */
export async function readCursor(
  db: Pick<Database, 'select'>,
  topic: string,
  partition: number,
): Promise<bigint | undefined> {
  const rows = await db
    .select({ nextOffset: partitionCursors.nextOffset })
    .from(partitionCursors)
    .where(and(eq(partitionCursors.topic, topic), eq(partitionCursors.partition, partition)));
  return rows[0]?.nextOffset;
}

/** The messages ingest staged for a batch; undefined once settled (or never staged). */
export async function loadStagedMessages(
  db: Pick<Database, 'select'>,
  batchId: string,
): Promise<BatchMessage[] | undefined> {
  const rows = await db
    .select({ stagedMessages: batches.stagedMessages })
    .from(batches)
    .where(eq(batches.id, batchId));
  const text = rows[0]?.stagedMessages;
  return text ? (JSON.parse(text) as BatchMessage[]) : undefined;
}

/** What a settled batch recorded: its counts and status. */
export type BatchCounts = Pick<
  typeof batches.$inferSelect,
  'status' | 'settled' | 'rejected' | 'duplicates' | 'deadLettered'
>;

export async function findBatchCounts(
  db: Pick<Database, 'select'>,
  batchId: string,
): Promise<BatchCounts | undefined> {
  const rows = await db
    .select({
      status: batches.status,
      settled: batches.settled,
      rejected: batches.rejected,
      duplicates: batches.duplicates,
      deadLettered: batches.deadLettered,
    })
    .from(batches)
    .where(eq(batches.id, batchId));
  return rows[0];
}

export type SettledBatch = Pick<
  typeof batches.$inferInsert,
  | 'id'
  | 'topic'
  | 'partition'
  | 'fromOffset'
  | 'nextOffset'
  | 'workflowId'
  | 'messageCount'
  | 'settled'
  | 'rejected'
  | 'duplicates'
  | 'deadLettered'
  | 'replayId'
  | 'closedAt'
  | 'settledAt'
>;

/**
 * Records a batch as SETTLED with its counts: a new row (replays, batches ingest did not
 * record) or the PENDING row ingest wrote, whose staged payload and error go with it.
 */
export async function recordSettledBatch(
  db: Pick<Database, 'insert'>,
  batch: SettledBatch,
): Promise<void> {
  await db
    .insert(batches)
    .values({ ...batch, status: 'SETTLED' })
    .onConflictDoUpdate({
      target: batches.id,
      set: {
        status: 'SETTLED',
        settled: batch.settled,
        rejected: batch.rejected,
        duplicates: batch.duplicates,
        deadLettered: batch.deadLettered,
        settledAt: batch.settledAt,
        messageCount: batch.messageCount,
        error: null,
        stagedMessages: null,
      },
    });
}

const batchColumns = {
  id: batches.id,
  topic: batches.topic,
  partition: batches.partition,
  fromOffset: batches.fromOffset,
  nextOffset: batches.nextOffset,
  workflowId: batches.workflowId,
  status: batches.status,
  messageCount: batches.messageCount,
  settled: batches.settled,
  rejected: batches.rejected,
  duplicates: batches.duplicates,
  deadLettered: batches.deadLettered,
  replayId: batches.replayId,
  error: batches.error,
  createdAt: isoUtc(batches.createdAt),
  /** The exact creation time (PostgreSQL's text form): a keyset cursor that skips nothing. */
  createdAtKey: sql<string>`${batches.createdAt}::text`,
  closedAt: isoUtc(batches.closedAt),
  settledAt: isoUtc(batches.settledAt),
};

/** A batch as the admin API shows it, its times as RFC 3339 text. */
export type BatchListRow = Awaited<ReturnType<typeof listBatches>>[number];

export async function findBatch(
  db: Pick<Database, 'select'>,
  id: string,
): Promise<BatchListRow | undefined> {
  const rows = await db.select(batchColumns).from(batches).where(eq(batches.id, id));
  return rows[0];
}

/** Newest first, keyset on (created_at, id): index batches_status_idx serves the status filter. */
export async function listBatches(
  db: Pick<Database, 'select'>,
  filter: {
    status?: (typeof BATCH_STATUSES)[number];
    /** Keyset: batches before this [createdAtKey, id]. */
    before?: readonly [string, string];
  },
  limit: number,
) {
  const { status, before } = filter;
  return db
    .select(batchColumns)
    .from(batches)
    .where(
      and(
        status ? eq(batches.status, status) : undefined,
        before
          ? sql`(${batches.createdAt}, ${batches.id}) < (${before[0]}::timestamptz, ${before[1]})`
          : undefined,
      ),
    )
    .orderBy(desc(batches.createdAt), desc(batches.id))
    .limit(limit);
}

/** A transaction's outcome as recorded, its settlement time as RFC 3339 text. */
export async function findTransactionOutcome(db: Pick<Database, 'select'>, id: string) {
  const rows = await db
    .select({
      id: transactions.id,
      status: transactions.status,
      reason: transactions.reason,
      batchId: transactions.batchId,
      settledAt: isoUtc(transactions.settledAt),
      debitAccount: transactions.debitAccount,
      creditAccount: transactions.creditAccount,
      amount: transactions.amount,
      currency: transactions.currency,
      topic: transactions.topic,
      partition: transactions.partition,
      offset: transactions.offset,
    })
    .from(transactions)
    .where(eq(transactions.id, id));
  return rows[0];
}

import { and, asc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Database } from './client';
import { batches } from './schema';

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

import { and, desc, eq, gte, isNotNull, lt, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Database } from './client';
import type { LedgerTx } from './ledger-store';
import {
  deadLetterRedrives,
  deadLetterRepairs,
  deadLetters,
  transactions,
  type DeadLetterStatus,
} from './schema';
import { dbNow, isoUtc } from './sql-fragments';

/**
 * The dead letters and their repairs as the admin API reads and changes them. OPEN is the
 * absence of a repair row, so every read joins the two.
 */
type Reader = Pick<Database, 'select'>;

const repairStatus = sql<DeadLetterStatus>`coalesce(${deadLetterRepairs.status}, 'OPEN')`;
/** The dead letter a resubmitted message became when it failed again. */
const again = alias(deadLetters, 'again');

const deadLetterColumns = {
  id: deadLetters.id,
  topic: deadLetters.topic,
  partition: deadLetters.partition,
  offset: deadLetters.offset,
  key: deadLetters.key,
  value: deadLetters.value,
  headers: deadLetters.headers,
  reason: deadLetters.reason,
  field: deadLetters.field,
  message: deadLetters.message,
  transactionId: deadLetters.transactionId,
  batchId: deadLetters.batchId,
  createdAt: isoUtc(deadLetters.createdAt),
  status: repairStatus,
  correctedValue: deadLetterRepairs.correctedValue,
  proposedBy: deadLetterRepairs.proposedBy,
  proposedAt: isoUtc(deadLetterRepairs.proposedAt),
  approvedBy: deadLetterRepairs.approvedBy,
  approvedAt: isoUtc(deadLetterRepairs.approvedAt),
  resubmittedBy: deadLetterRepairs.resubmittedBy,
  resubmittedAt: isoUtc(deadLetterRepairs.resubmittedAt),
  redriveId: deadLetterRepairs.redriveId,
  discardedBy: deadLetterRepairs.discardedBy,
  discardedAt: isoUtc(deadLetterRepairs.discardedAt),
  discardReason: deadLetterRepairs.discardReason,
  messageKey: deadLetterRepairs.messageKey,
  messageValue: deadLetterRepairs.messageValue,
  resubmittedTransactionId: deadLetterRepairs.transactionId,
  publishedAt: isoUtc(deadLetterRepairs.publishedAt),
  publishedPartition: deadLetterRepairs.publishedPartition,
  publishedOffset: deadLetterRepairs.publishedOffset,
  outcomeStatus: transactions.status,
  outcomeReason: transactions.reason,
  outcomeBatchId: transactions.batchId,
  // Left-joined: null until the resubmitted message is settled.
  outcomeSettledAt: isoUtc(transactions.settledAt) as SQL<string | null>,
  deadLetteredAgainAs: again.id,
};

/** Dead letters with their repair and, once the resubmitted message is settled, its outcome. */
function selectDeadLetters(db: Reader, where: SQL | undefined) {
  return db
    .select(deadLetterColumns)
    .from(deadLetters)
    .leftJoin(deadLetterRepairs, eq(deadLetterRepairs.deadLetterId, deadLetters.id))
    .leftJoin(
      transactions,
      and(
        eq(transactions.id, deadLetterRepairs.transactionId),
        eq(deadLetterRepairs.status, 'RESUBMITTED'),
      ),
    )
    .leftJoin(
      again,
      and(
        eq(again.topic, deadLetterRepairs.messageTopic),
        eq(again.partition, deadLetterRepairs.publishedPartition),
        eq(again.offset, deadLetterRepairs.publishedOffset),
      ),
    )
    .where(where);
}

export type DeadLetterWithRepair = Awaited<ReturnType<typeof selectDeadLetters>>[number];

export interface DeadLetterListFilter {
  reason?: (typeof deadLetters.$inferSelect)['reason'];
  status?: DeadLetterStatus;
  /** RFC 3339, compared by PostgreSQL (whatever the precision and offset). */
  since?: string;
  until?: string;
  /** Keyset: only ids below this one. */
  beforeId?: bigint;
}

/** Newest first by id. */
export async function listDeadLetters(
  db: Reader,
  filter: DeadLetterListFilter,
  limit: number,
): Promise<DeadLetterWithRepair[]> {
  return selectDeadLetters(
    db,
    and(
      filter.reason ? eq(deadLetters.reason, filter.reason) : undefined,
      filter.status ? eq(repairStatus, filter.status) : undefined,
      filter.since ? gte(deadLetters.createdAt, sql`${filter.since}::timestamptz`) : undefined,
      filter.until ? lt(deadLetters.createdAt, sql`${filter.until}::timestamptz`) : undefined,
      filter.beforeId !== undefined ? lt(deadLetters.id, filter.beforeId) : undefined,
    ),
  )
    .orderBy(desc(deadLetters.id))
    .limit(limit);
}

export async function findDeadLetter(
  db: Reader,
  id: bigint,
): Promise<DeadLetterWithRepair | undefined> {
  return (await selectDeadLetters(db, eq(deadLetters.id, id)))[0];
}

/**
 * The dead letter and its repair state, the dead letter's row locked: transitions of one
 * dead letter serialise.
 */
export async function lockDeadLetterForRepair(tx: Pick<LedgerTx, 'select'>, id: bigint) {
  const rows = await tx
    .select({
      id: deadLetters.id,
      topic: deadLetters.topic,
      key: deadLetters.key,
      value: deadLetters.value,
      headers: deadLetters.headers,
      status: repairStatus,
      correctedValue: deadLetterRepairs.correctedValue,
      proposedBy: deadLetterRepairs.proposedBy,
      resubmittedBy: deadLetterRepairs.resubmittedBy,
    })
    .from(deadLetters)
    .leftJoin(deadLetterRepairs, eq(deadLetterRepairs.deadLetterId, deadLetters.id))
    .where(eq(deadLetters.id, id))
    .for('update', { of: deadLetters });
  return rows[0];
}

/** The message a resubmission publishes, as the repair row keeps it (its own outbox entry). */
export type RepairMessage = Required<
  Pick<
    typeof deadLetterRepairs.$inferInsert,
    'messageTopic' | 'messageKey' | 'messageValue' | 'messageHeaders' | 'transactionId'
  >
>;

/** OPEN -> PROPOSED: a correction waiting for another operator's approval. */
export async function proposeCorrection(
  tx: Pick<LedgerTx, 'insert'>,
  id: bigint,
  correctedValue: string,
  by: string,
): Promise<void> {
  await tx.insert(deadLetterRepairs).values({
    deadLetterId: id,
    status: 'PROPOSED',
    correctedValue,
    proposedBy: by,
    proposedAt: dbNow(),
  });
}

/** OPEN -> RESUBMITTED as is, the message to publish written with the state. */
export async function resubmitAsIs(
  tx: Pick<LedgerTx, 'insert'>,
  id: bigint,
  message: RepairMessage,
  by: string,
): Promise<void> {
  await tx.insert(deadLetterRepairs).values({
    deadLetterId: id,
    status: 'RESUBMITTED',
    resubmittedBy: by,
    resubmittedAt: dbNow(),
    ...message,
  });
}

/** PROPOSED -> RESUBMITTED: the approver resubmits the correction. */
export async function approveCorrection(
  tx: Pick<LedgerTx, 'update'>,
  id: bigint,
  message: RepairMessage,
  by: string,
): Promise<void> {
  await tx
    .update(deadLetterRepairs)
    .set({
      approvedBy: by,
      approvedAt: dbNow(),
      resubmittedBy: by,
      status: 'RESUBMITTED',
      resubmittedAt: dbNow(),
      ...message,
      updatedAt: dbNow(),
    })
    .where(eq(deadLetterRepairs.deadLetterId, id));
}

/** OPEN or PROPOSED -> DISCARDED (a pending proposal is dropped with it). */
export async function discardDeadLetter(
  tx: Pick<LedgerTx, 'insert'>,
  id: bigint,
  reason: string,
  by: string,
): Promise<void> {
  const discarded = { discardedBy: by, discardedAt: dbNow(), discardReason: reason };
  await tx
    .insert(deadLetterRepairs)
    .values({ deadLetterId: id, status: 'DISCARDED', ...discarded })
    .onConflictDoUpdate({
      target: deadLetterRepairs.deadLetterId,
      set: { status: 'DISCARDED', ...discarded, updatedAt: dbNow() },
    });
}

export type NewRedrive = Pick<
  typeof deadLetterRedrives.$inferInsert,
  'id' | 'workflowId' | 'filter' | 'maxDeadLetterId' | 'matched' | 'requestedBy'
>;

export async function insertRedrive(
  tx: Pick<LedgerTx, 'insert'>,
  redrive: NewRedrive,
): Promise<void> {
  await tx.insert(deadLetterRedrives).values({ ...redrive, status: 'RUNNING' });
}

/** A re-drive with how many of its resubmissions were published. */
export async function findRedrive(db: Reader & Pick<Database, '$count'>, id: string) {
  const rows = await db
    .select({
      id: deadLetterRedrives.id,
      workflowId: deadLetterRedrives.workflowId,
      filter: deadLetterRedrives.filter,
      maxDeadLetterId: deadLetterRedrives.maxDeadLetterId,
      status: deadLetterRedrives.status,
      cursor: deadLetterRedrives.cursor,
      matched: deadLetterRedrives.matched,
      resubmitted: deadLetterRedrives.resubmitted,
      skipped: deadLetterRedrives.skipped,
      requestedBy: deadLetterRedrives.requestedBy,
      error: deadLetterRedrives.error,
      createdAt: isoUtc(deadLetterRedrives.createdAt),
      finishedAt: isoUtc(deadLetterRedrives.finishedAt),
      published: db.$count(
        deadLetterRepairs,
        and(
          eq(deadLetterRepairs.redriveId, deadLetterRedrives.id),
          isNotNull(deadLetterRepairs.publishedAt),
        ),
      ),
    })
    .from(deadLetterRedrives)
    .where(eq(deadLetterRedrives.id, id));
  return rows[0];
}

/** The re-drive's status and workflow, its row locked (cancellation). */
export async function lockRedrive(tx: Pick<LedgerTx, 'select'>, id: string) {
  const rows = await tx
    .select({ status: deadLetterRedrives.status, workflowId: deadLetterRedrives.workflowId })
    .from(deadLetterRedrives)
    .where(eq(deadLetterRedrives.id, id))
    .for('update');
  return rows[0];
}

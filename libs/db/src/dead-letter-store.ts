import { and, asc, desc, eq, gte, isNotNull, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
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

/** Which dead letters: by reason and creation time. */
export interface DeadLetterMatch {
  reason?: (typeof deadLetters.$inferSelect)['reason'];
  /** RFC 3339, compared by PostgreSQL (whatever the precision and offset). */
  since?: string;
  until?: string;
}

/** The condition of a {@link DeadLetterMatch} over `dead_letters`. */
export const deadLettersMatching = (match: DeadLetterMatch): SQL | undefined =>
  and(
    match.reason ? eq(deadLetters.reason, match.reason) : undefined,
    match.since ? gte(deadLetters.createdAt, sql`${match.since}::timestamptz`) : undefined,
    match.until ? lt(deadLetters.createdAt, sql`${match.until}::timestamptz`) : undefined,
  );

export interface DeadLetterListFilter extends DeadLetterMatch {
  status?: DeadLetterStatus;
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
      deadLettersMatching(filter),
      filter.status ? eq(repairStatus, filter.status) : undefined,
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

/** A dead letter as a resubmission needs it: where it came from, its key, bytes and headers. */
export const deadLetterSourceColumns = {
  id: deadLetters.id,
  topic: deadLetters.topic,
  key: deadLetters.key,
  value: deadLetters.value,
  headers: deadLetters.headers,
};

export type DeadLetterSource = Pick<
  typeof deadLetters.$inferSelect,
  keyof typeof deadLetterSourceColumns
>;

/**
 * The dead letter and its repair state, the dead letter's row locked: transitions of one
 * dead letter serialise.
 */
export async function lockDeadLetterForRepair(tx: Pick<LedgerTx, 'select'>, id: bigint) {
  const rows = await tx
    .select({
      ...deadLetterSourceColumns,
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

/** A dead letter's repair row RESUBMITTED, with the message to publish. */
const resubmission = (id: bigint, message: RepairMessage, by: string) => ({
  deadLetterId: id,
  status: 'RESUBMITTED' as const,
  resubmittedBy: by,
  resubmittedAt: dbNow(),
  ...message,
});

/** OPEN -> RESUBMITTED as is, the message to publish written with the state. */
export async function resubmitAsIs(
  tx: Pick<LedgerTx, 'insert'>,
  id: bigint,
  message: RepairMessage,
  by: string,
): Promise<void> {
  await tx.insert(deadLetterRepairs).values(resubmission(id, message, by));
}

/**
 * OPEN -> RESUBMITTED for a re-drive's chunk, in one statement; a dead letter that has a
 * repair row already keeps it.
 */
export async function resubmitForRedrive(
  tx: Pick<LedgerTx, 'insert'>,
  redriveId: string,
  by: string,
  resubmissions: readonly { id: bigint; message: RepairMessage }[],
): Promise<void> {
  if (resubmissions.length === 0) return;
  await tx
    .insert(deadLetterRepairs)
    .values(
      resubmissions.map(({ id, message }) => ({ ...resubmission(id, message, by), redriveId })),
    )
    .onConflictDoNothing({ target: deadLetterRepairs.deadLetterId });
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

/** The re-drive, its row locked: cancellation and each chunk serialise. */
export async function lockRedrive(tx: Pick<LedgerTx, 'select'>, id: string) {
  const rows = await tx
    .select({
      status: deadLetterRedrives.status,
      workflowId: deadLetterRedrives.workflowId,
      filter: deadLetterRedrives.filter,
      maxDeadLetterId: deadLetterRedrives.maxDeadLetterId,
      cursor: deadLetterRedrives.cursor,
      matched: deadLetterRedrives.matched,
      resubmitted: deadLetterRedrives.resubmitted,
      skipped: deadLetterRedrives.skipped,
      requestedBy: deadLetterRedrives.requestedBy,
    })
    .from(deadLetterRedrives)
    .where(eq(deadLetterRedrives.id, id))
    .for('update');
  return rows[0];
}

/** A publisher's lease on a resubmission; long enough for kafkajs to finish or give up its retries. */
const PUBLISH_LEASE = sql`interval '5 minutes'`;

/** Resubmissions no publisher holds a lease on. */
const unclaimed = () =>
  or(isNull(deadLetterRepairs.claimedUntil), lt(deadLetterRepairs.claimedUntil, dbNow()));

/**
 * Claims an unpublished resubmission for one publisher (a lease) and counts the attempt;
 * undefined when it is published, not RESUBMITTED, or leased by another publisher.
 */
export async function claimResubmission(db: Pick<Database, 'update'>, deadLetterId: bigint) {
  const [row] = await db
    .update(deadLetterRepairs)
    .set({
      publishAttempts: sql`${deadLetterRepairs.publishAttempts} + 1`,
      claimedUntil: sql`now() + ${PUBLISH_LEASE}`,
      updatedAt: dbNow(),
    })
    .where(
      and(
        eq(deadLetterRepairs.deadLetterId, deadLetterId),
        eq(deadLetterRepairs.status, 'RESUBMITTED'),
        isNull(deadLetterRepairs.publishedAt),
        unclaimed(),
      ),
    )
    .returning({
      publishAttempts: deadLetterRepairs.publishAttempts,
      topic: deadLetterRepairs.messageTopic,
      key: deadLetterRepairs.messageKey,
      value: deadLetterRepairs.messageValue,
      headers: deadLetterRepairs.messageHeaders,
      resubmittedAt: deadLetterRepairs.resubmittedAt,
    });
  if (!row) return undefined;
  const { topic, value, resubmittedAt } = row;
  // dead_letter_repairs_resubmitted_has_message: a RESUBMITTED row has its message.
  if (topic === null || value === null || resubmittedAt === null) {
    throw new Error(`resubmission of dead letter ${deadLetterId} has no message`);
  }
  return { ...row, topic, value, resubmittedAt };
}

export type ClaimedResubmission = NonNullable<Awaited<ReturnType<typeof claimResubmission>>>;

/** Where the resubmitted message went; the lease ends. */
export async function markResubmissionPublished(
  db: Pick<Database, 'update'>,
  deadLetterId: bigint,
  at: { partition: number; offset: bigint | null },
): Promise<void> {
  await db
    .update(deadLetterRepairs)
    .set({
      publishedAt: dbNow(),
      publishedPartition: at.partition,
      publishedOffset: at.offset,
      claimedUntil: null,
      updatedAt: dbNow(),
    })
    .where(eq(deadLetterRepairs.deadLetterId, deadLetterId));
}

/**
 * Unpublished resubmissions no publisher holds: those of one re-drive, or any resubmitted at
 * least `olderThanMs` ago. Oldest dead letter first.
 */
export async function findUnpublishedResubmissions(
  db: Reader,
  filter: { redriveId?: string; olderThanMs?: number },
  limit: number,
): Promise<bigint[]> {
  const rows = await db
    .select({ id: deadLetterRepairs.deadLetterId })
    .from(deadLetterRepairs)
    .where(
      and(
        eq(deadLetterRepairs.status, 'RESUBMITTED'),
        isNull(deadLetterRepairs.publishedAt),
        filter.redriveId ? eq(deadLetterRepairs.redriveId, filter.redriveId) : undefined,
        filter.olderThanMs !== undefined
          ? lt(
              deadLetterRepairs.resubmittedAt,
              sql`now() - make_interval(secs => ${filter.olderThanMs / 1000})`,
            )
          : undefined,
        unclaimed(),
      ),
    )
    .orderBy(asc(deadLetterRepairs.deadLetterId))
    .limit(limit);
  return rows.map((r) => r.id);
}

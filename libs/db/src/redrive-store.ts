import { and, asc, eq, gt, lte, max, notExists, sql } from 'drizzle-orm';
import type { Database } from './client';
import {
  deadLetterSourceColumns,
  deadLettersMatching,
  type DeadLetterMatch,
  type DeadLetterSource,
} from './dead-letter-store';
import type { LedgerTx } from './ledger-store';
import { deadLetterRedrives, deadLetterRepairs, deadLetters, REDRIVE_STATUSES } from './schema';
import { dbNow, dbNowOnce } from './sql-fragments';

/** What a bulk re-drive of dead letters reads and writes (libs/activities redrive). */
type Reader = Pick<Database, 'select'>;

/** The newest dead letter id, 0 without any: a re-drive covers the dead letters up to it. */
export async function newestDeadLetterId(db: Reader): Promise<bigint> {
  const rows = await db.select({ id: max(deadLetters.id) }).from(deadLetters);
  return rows[0]?.id ?? 0n;
}

/** The ids (afterId, maxId] of a re-drive's window. */
export interface RedriveWindow {
  afterId: bigint;
  maxId: bigint;
}

/** OPEN dead letters (no repair row) of the match in the window. */
function openDeadLetters(db: Reader, match: DeadLetterMatch, window: RedriveWindow) {
  return and(
    gt(deadLetters.id, window.afterId),
    lte(deadLetters.id, window.maxId),
    notExists(
      db
        .select({ one: sql`1` })
        .from(deadLetterRepairs)
        .where(eq(deadLetterRepairs.deadLetterId, deadLetters.id)),
    ),
    deadLettersMatching(match),
  );
}

export async function countRedriveMatches(
  db: Reader & Pick<Database, '$count'>,
  match: DeadLetterMatch,
  maxId: bigint,
): Promise<number> {
  return db.$count(deadLetters, openDeadLetters(db, match, { afterId: 0n, maxId }));
}

/**
 * The next OPEN dead letters of the match in the window, oldest first, as a resubmission
 * needs them. With `lock`, their rows stay locked to the end of the transaction, and rows
 * another transaction holds are passed over.
 */
export async function findRedriveCandidates(
  db: Reader,
  match: DeadLetterMatch,
  window: RedriveWindow,
  limit: number,
  lock: boolean,
): Promise<DeadLetterSource[]> {
  const query = db
    .select(deadLetterSourceColumns)
    .from(deadLetters)
    .where(openDeadLetters(db, match, window))
    .orderBy(asc(deadLetters.id))
    .limit(limit);
  return lock ? query.for('update', { of: deadLetters, skipLocked: true }) : query;
}

/** The re-drive's cursor moves past a chunk, its counts grow by the chunk's. */
export async function advanceRedrive(
  tx: Pick<LedgerTx, 'update'>,
  redriveId: string,
  chunk: { cursor: bigint; resubmitted: number; skipped: number },
): Promise<void> {
  await tx
    .update(deadLetterRedrives)
    .set({
      cursor: chunk.cursor,
      resubmitted: sql`${deadLetterRedrives.resubmitted} + ${chunk.resubmitted}`,
      skipped: sql`${deadLetterRedrives.skipped} + ${chunk.skipped}`,
      updatedAt: dbNow(),
    })
    .where(eq(deadLetterRedrives.id, redriveId));
}

/** A re-drive's final status (idempotent: the first finish time stays). */
export async function setRedriveStatus(
  db: Pick<Database, 'update'>,
  redriveId: string,
  status: (typeof REDRIVE_STATUSES)[number],
  error: string | null,
): Promise<void> {
  await db
    .update(deadLetterRedrives)
    .set({
      status,
      error,
      updatedAt: dbNow(),
      finishedAt: dbNowOnce(deadLetterRedrives.finishedAt),
    })
    .where(eq(deadLetterRedrives.id, redriveId));
}

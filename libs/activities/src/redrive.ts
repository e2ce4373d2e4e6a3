import { ApplicationFailure } from '@temporalio/common';
import {
  advanceRedrive,
  findRedriveCandidates,
  lockRedrive,
  newestDeadLetterId,
  resubmitForRedrive,
  setRedriveStatus,
  type Database,
  type DeadLetterSource,
  type RedriveWindow,
} from '@settlement/db';
import { idsWithOutcome, repairMessage, resubmissionMessage } from './resubmission';
import type {
  RedriveChunkResult,
  RedriveCounts,
  RedriveFilter,
  RedriveStatus,
} from './redrive.types';

type Reader = Pick<Database, 'select' | 'execute'>;

/** Splits dead letters into those a resubmission as is would settle and those it must skip. */
async function classify(db: Reader, rows: readonly DeadLetterSource[]) {
  const messages = rows.map((dl) => ({
    id: dl.id,
    message: resubmissionMessage({ ...dl, id: dl.id.toString() }),
  }));
  const taken = await idsWithOutcome(
    db,
    messages.flatMap((m) => (m.message.transactionId ? [m.message.transactionId] : [])),
  );
  const resubmit: typeof messages = [];
  const skip: { id: string; reason: string }[] = [];
  for (const m of messages) {
    const id = m.message.transactionId;
    if (id && taken.has(id)) {
      skip.push({ id: m.id.toString(), reason: `transaction ${id} already has an outcome` });
    } else resubmit.push(m);
  }
  return { resubmit, skip };
}

export interface RedrivePlan extends RedriveCounts {
  maxDeadLetterId: string;
  /** Up to 20 dead letters a real run would skip, with why. */
  skippedSamples: { id: string; reason: string }[];
  /** Up to 20 dead letters a real run would resubmit. */
  resubmittedSamples: string[];
}

/** Dry run: what a re-drive with this filter would do now, changing nothing. */
export async function planRedrive(db: Reader, filter: RedriveFilter): Promise<RedrivePlan> {
  const maxId = await newestDeadLetterId(db);
  const plan: RedrivePlan = {
    maxDeadLetterId: maxId.toString(),
    matched: 0,
    resubmitted: 0,
    skipped: 0,
    skippedSamples: [],
    resubmittedSamples: [],
  };
  let afterId = 0n;
  for (;;) {
    const rows = await findRedriveCandidates(db, filter, { afterId, maxId }, 1000, false);
    if (rows.length === 0) return plan;
    const { resubmit, skip } = await classify(db, rows);
    plan.matched += rows.length;
    plan.resubmitted += resubmit.length;
    plan.skipped += skip.length;
    plan.skippedSamples.push(...skip.slice(0, 20 - plan.skippedSamples.length));
    plan.resubmittedSamples.push(
      ...resubmit.slice(0, 20 - plan.resubmittedSamples.length).map((m) => m.id.toString()),
    );
    afterId = rows[rows.length - 1].id;
  }
}

/**
 * One chunk of a re-drive, in ONE database transaction holding the re-drive's row lock: the
 * next OPEN dead letters after the cursor become RESUBMITTED (their messages written as
 * outbox entries, published by the next activity), those whose transaction id already has
 * an outcome are skipped and stay OPEN, and the cursor and counts advance. A retry of a chunk
 * that committed finds the cursor moved and changes nothing: idempotent per dead letter.
 */
export async function redriveChunk(
  deps: { db: Database },
  input: { redriveId: string; cursor: string; chunkSize: number },
): Promise<RedriveChunkResult> {
  return deps.db.transaction(async (tx) => {
    const redrive = await lockRedrive(tx, input.redriveId);
    if (!redrive) {
      throw ApplicationFailure.nonRetryable(
        `re-drive ${input.redriveId} has no row`,
        'RedriveNotFound',
      );
    }
    const { matched, resubmitted, skipped } = redrive;
    const at = { matched, resubmitted, skipped, cursor: redrive.cursor.toString() };
    if (at.cursor !== input.cursor) return { ...at, resubmittedNow: 0, done: false };
    const window: RedriveWindow = { afterId: redrive.cursor, maxId: redrive.maxDeadLetterId };
    const rows = await findRedriveCandidates(tx, redrive.filter, window, input.chunkSize, true);
    if (rows.length === 0) return { ...at, resubmittedNow: 0, done: true };

    const { resubmit, skip } = await classify(tx, rows);
    await resubmitForRedrive(
      tx,
      input.redriveId,
      redrive.requestedBy,
      resubmit.map(({ id, message }) => ({ id, message: repairMessage(message) })),
    );
    const cursor = rows[rows.length - 1].id;
    await advanceRedrive(tx, input.redriveId, {
      cursor,
      resubmitted: resubmit.length,
      skipped: skip.length,
    });
    return {
      matched,
      resubmitted: resubmitted + resubmit.length,
      skipped: skipped + skip.length,
      cursor: cursor.toString(),
      resubmittedNow: resubmit.length,
      done: rows.length < input.chunkSize,
    };
  });
}

/** Final status of a re-drive (COMPLETED, CANCELLED, FAILED); idempotent. */
export async function recordRedriveStatus(
  deps: { db: Pick<Database, 'update'> },
  input: { redriveId: string; status: RedriveStatus; error?: string },
): Promise<void> {
  await setRedriveStatus(deps.db, input.redriveId, input.status, input.error ?? null);
}

import { sql, type SQL } from 'drizzle-orm';
import { ApplicationFailure } from '@temporalio/common';
import type { Database } from '@settlement/db';
import { idsWithOutcome, resubmissionMessage, type DeadLetterSourceRow } from './resubmission';
import type {
  RedriveChunkResult,
  RedriveCounts,
  RedriveFilter,
  RedriveStatus,
} from './redrive.types';

type Executor = Pick<Database, 'execute'>;

/** The SQL condition of a filter over `dead_letters d`, OPEN ones only (no repair row). */
function matching(filter: RedriveFilter, afterId: string, maxId: string): SQL {
  return sql`d.id > ${afterId}::bigint and d.id <= ${maxId}::bigint
    and not exists (select 1 from dead_letter_repairs r where r.dead_letter_id = d.id)
    and ${filter.reason ? sql`d.reason = ${filter.reason}` : sql`true`}
    and ${filter.since ? sql`d.created_at >= ${filter.since}::timestamptz` : sql`true`}
    and ${filter.until ? sql`d.created_at < ${filter.until}::timestamptz` : sql`true`}`;
}

/** The next OPEN dead letters of a filter after `afterId`, oldest first. */
async function candidates(
  db: Executor,
  filter: RedriveFilter,
  afterId: string,
  maxId: string,
  limit: number,
  lock: boolean,
): Promise<DeadLetterSourceRow[]> {
  return [
    ...(await db.execute<DeadLetterSourceRow>(sql`
      select d.id::text, d.topic, d.key, d.value, d.headers from dead_letters d
      where ${matching(filter, afterId, maxId)}
      order by d.id limit ${limit} ${lock ? sql`for update of d skip locked` : sql``}`)),
  ];
}

export async function newestDeadLetterId(db: Executor): Promise<string> {
  const rows = await db.execute<{ id: string | null }>(
    sql`select max(id)::text as id from dead_letters`,
  );
  return rows[0]?.id ?? '0';
}

export async function countRedriveMatches(
  db: Executor,
  filter: RedriveFilter,
  maxId: string,
): Promise<number> {
  const rows = await db.execute<{ n: string }>(
    sql`select count(*)::text as n from dead_letters d where ${matching(filter, '0', maxId)}`,
  );
  return Number(rows[0].n);
}

/** Splits dead letters into those a resubmission as is would settle and those it must skip. */
async function classify(db: Executor, rows: DeadLetterSourceRow[]) {
  const messages = rows.map((dl) => ({ dl, message: resubmissionMessage(dl) }));
  const taken = await idsWithOutcome(
    db,
    messages.flatMap((m) => (m.message.transactionId ? [m.message.transactionId] : [])),
  );
  const resubmit: typeof messages = [];
  const skip: { id: string; reason: string }[] = [];
  for (const m of messages) {
    const id = m.message.transactionId;
    if (id && taken.has(id)) {
      skip.push({ id: m.dl.id, reason: `transaction ${id} already has an outcome` });
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
export async function planRedrive(db: Executor, filter: RedriveFilter): Promise<RedrivePlan> {
  const maxDeadLetterId = await newestDeadLetterId(db);
  const plan: RedrivePlan = {
    maxDeadLetterId,
    matched: 0,
    resubmitted: 0,
    skipped: 0,
    skippedSamples: [],
    resubmittedSamples: [],
  };
  let after = '0';
  for (;;) {
    const rows = await candidates(db, filter, after, maxDeadLetterId, 1000, false);
    if (rows.length === 0) return plan;
    const { resubmit, skip } = await classify(db, rows);
    plan.matched += rows.length;
    plan.resubmitted += resubmit.length;
    plan.skipped += skip.length;
    plan.skippedSamples.push(...skip.slice(0, 20 - plan.skippedSamples.length));
    plan.resubmittedSamples.push(
      ...resubmit.slice(0, 20 - plan.resubmittedSamples.length).map((m) => m.dl.id),
    );
    after = rows[rows.length - 1].id;
  }
}

type RedriveRow = {
  cursor: string;
  matched: number;
  resubmitted: number;
  skipped: number;
  requested_by: string;
  status: string;
};

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
    const found = await tx.execute<RedriveRow & { filter: RedriveFilter; max_id: string }>(sql`
      select cursor::text, matched, resubmitted, skipped, requested_by, status, filter,
        max_dead_letter_id::text as max_id
      from dead_letter_redrives where id = ${input.redriveId} for update`);
    const row = found[0];
    if (!row) {
      throw ApplicationFailure.nonRetryable(
        `re-drive ${input.redriveId} has no row`,
        'RedriveNotFound',
      );
    }
    const totals = { matched: row.matched, resubmitted: row.resubmitted, skipped: row.skipped };
    if (row.cursor !== input.cursor) {
      return { ...totals, cursor: row.cursor, resubmittedNow: 0, done: false };
    }
    const rows = await candidates(tx, row.filter, row.cursor, row.max_id, input.chunkSize, true);
    if (rows.length === 0) return { ...totals, cursor: row.cursor, resubmittedNow: 0, done: true };
    const { resubmit, skip } = await classify(tx, rows);
    for (const { dl, message } of resubmit) {
      await tx.execute(sql`
        insert into dead_letter_repairs (dead_letter_id, status, resubmitted_by, redrive_id,
          resubmitted_at, message_topic, message_key, message_value, message_headers, transaction_id)
        values (${dl.id}::bigint, 'RESUBMITTED', ${row.requested_by}, ${input.redriveId}, now(),
          ${message.topic}, ${message.key}, ${message.value}, ${JSON.stringify(message.headers)}::jsonb,
          ${message.transactionId})
        on conflict (dead_letter_id) do nothing`);
    }
    const cursor = rows[rows.length - 1].id;
    await tx.execute(sql`
      update dead_letter_redrives set cursor = ${cursor}::bigint,
        resubmitted = resubmitted + ${resubmit.length}, skipped = skipped + ${skip.length},
        updated_at = now()
      where id = ${input.redriveId}`);
    return {
      matched: totals.matched,
      resubmitted: totals.resubmitted + resubmit.length,
      skipped: totals.skipped + skip.length,
      cursor,
      resubmittedNow: resubmit.length,
      done: rows.length < input.chunkSize,
    };
  });
}

/** Final status of a re-drive (COMPLETED, CANCELLED, FAILED); idempotent. */
export async function recordRedriveStatus(
  deps: { db: Executor },
  input: { redriveId: string; status: RedriveStatus; error?: string },
): Promise<void> {
  await deps.db.execute(sql`
    update dead_letter_redrives set status = ${input.status}, error = ${input.error ?? null},
      updated_at = now(), finished_at = coalesce(finished_at, now())
    where id = ${input.redriveId}`);
}

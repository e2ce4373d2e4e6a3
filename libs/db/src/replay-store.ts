import { and, desc, eq, gte, lt, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Database } from './client';
import type { LedgerTx } from './ledger-store';
import { accounts, deadLetters, postings, replays, transactions } from './schema';
import { advisoryXactLock, anyOf, dbNow, dbNowOnce } from './sql-fragments';

type Reader = Pick<Database, 'select'>;

/** A replay as recorded: its request, ranges, status, progress and counts. */
export type Replay = typeof replays.$inferSelect;
export type NewReplay = Pick<
  typeof replays.$inferInsert,
  'id' | 'workflowId' | 'topic' | 'mode' | 'ranges' | 'request' | 'progress' | 'requestedBy'
>;

/** Records a replay as RUNNING (its workflow is started in the same transaction). */
export async function insertReplay(tx: Pick<LedgerTx, 'insert'>, replay: NewReplay): Promise<void> {
  await tx.insert(replays).values({ ...replay, status: 'RUNNING' });
}

export async function findReplay(db: Reader, id: string): Promise<Replay | undefined> {
  const rows = await db.select().from(replays).where(eq(replays.id, id)).limit(1);
  return rows[0];
}

/**
 * Newest first, keyset on (created_at, id) (index replays_created_idx): only replays before
 * `before`, the last one of the previous page.
 */
export async function listReplays(
  db: Reader,
  before: { createdAt: Date; id: string } | undefined,
  limit: number,
): Promise<Replay[]> {
  return db
    .select()
    .from(replays)
    .where(
      before
        ? or(
            lt(replays.createdAt, before.createdAt),
            and(eq(replays.createdAt, before.createdAt), lt(replays.id, before.id)),
          )
        : undefined,
    )
    .orderBy(desc(replays.createdAt), desc(replays.id))
    .limit(limit);
}

/** The replay's status and workflow, its row locked (cancellation). */
export async function lockReplay(tx: Pick<LedgerTx, 'select'>, id: string) {
  const rows = await tx
    .select({ status: replays.status, workflowId: replays.workflowId })
    .from(replays)
    .where(eq(replays.id, id))
    .for('update');
  return rows[0];
}

const replayProgressColumns = {
  progress: replays.progress,
  read: replays.read,
  alreadySettled: replays.alreadySettled,
  settled: replays.settled,
  rejected: replays.rejected,
  deadLettered: replays.deadLettered,
  differences: replays.differences,
  differenceSamples: replays.differenceSamples,
};

/** A replay's progress per partition and its running counts. */
export type ReplayProgressRow = Pick<
  typeof replays.$inferSelect,
  keyof typeof replayProgressColumns
>;

/** The replay's progress; with `lock`, its row stays locked to the end of the transaction. */
export async function loadReplayProgress(
  db: Reader,
  replayId: string,
  lock: boolean,
): Promise<ReplayProgressRow | undefined> {
  const query = db.select(replayProgressColumns).from(replays).where(eq(replays.id, replayId));
  const rows = await (lock ? query.for('update') : query);
  return rows[0];
}

/** The new progress and counts of a replay, written under the lock of {@link loadReplayProgress}. */
export async function saveReplayProgress(
  tx: Pick<LedgerTx, 'update'>,
  replayId: string,
  progress: ReplayProgressRow,
): Promise<ReplayProgressRow> {
  const rows = await tx
    .update(replays)
    .set({ ...progress, updatedAt: dbNow() })
    .where(eq(replays.id, replayId))
    .returning(replayProgressColumns);
  return rows[0];
}

/** A replay's final status (idempotent: the first finish time stays); RUNNING clears it. */
export async function setReplayStatus(
  db: Pick<Database, 'update'>,
  replayId: string,
  status: (typeof replays.$inferSelect)['status'],
  error: string | null,
): Promise<void> {
  await db
    .update(replays)
    .set({
      status,
      error,
      updatedAt: dbNow(),
      finishedAt: status === 'RUNNING' ? null : dbNowOnce(replays.finishedAt),
    })
    .where(eq(replays.id, replayId));
}

/** The dead letters recorded for [fromOffset, toOffset) of a partition: reason by offset. */
export async function findDeadLetterReasons(
  db: Reader,
  source: { topic: string; partition: number; fromOffset: bigint; toOffset: bigint },
): Promise<Map<bigint, string>> {
  const rows = await db
    .select({ offset: deadLetters.offset, reason: deadLetters.reason })
    .from(deadLetters)
    .where(
      and(
        eq(deadLetters.topic, source.topic),
        eq(deadLetters.partition, source.partition),
        gte(deadLetters.offset, source.fromOffset),
        lt(deadLetters.offset, source.toOffset),
      ),
    );
  return new Map(rows.map((r) => [r.offset, r.reason]));
}

const debitAccount = alias(accounts, 'debit_account');
const creditAccount = alias(accounts, 'credit_account');

/**
 * What the ledger recorded for these transaction ids, with what a verification compares:
 * the number of postings and the currencies of both accounts (null: no such account).
 */
export async function findRecordedOutcomes(
  db: Reader & Pick<Database, '$count'>,
  ids: readonly string[],
) {
  const rows = await db
    .select({
      id: transactions.id,
      contentHash: transactions.contentHash,
      status: transactions.status,
      reason: transactions.reason,
      topic: transactions.topic,
      partition: transactions.partition,
      offset: transactions.offset,
      postings: db.$count(postings, eq(postings.transactionId, transactions.id)),
      debitCurrency: debitAccount.currency,
      creditCurrency: creditAccount.currency,
    })
    .from(transactions)
    .leftJoin(debitAccount, eq(debitAccount.id, transactions.debitAccount))
    .leftJoin(creditAccount, eq(creditAccount.id, transactions.creditAccount))
    .where(anyOf(transactions.id, ids));
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * Serialises replay starts until the end of the transaction (an advisory lock: there is no
 * row to lock before the replay exists), so two starts cannot both see a free slot.
 */
export async function lockReplayStarts(tx: Pick<LedgerTx, 'execute'>): Promise<void> {
  await advisoryXactLock(tx, 'settlement.replays.start');
}

export async function countRunningReplays(db: Pick<Database, '$count'>): Promise<number> {
  return db.$count(replays, eq(replays.status, 'RUNNING'));
}

/**
 * Reserves `messages` of the one replay rate budget (`messagesPerSecond`, shared by all replays
 * of every worker): moves the budget's clock on by messages / rate from max(now, its time) and
 * answers how long to wait before reading, in ms (0 when the budget is free). A reservation
 * retried after a lost answer only slows replays down, never speeds them up. Raw SQL: the
 * SET and RETURNING are interval arithmetic on clock_timestamp() (the builder would only
 * wrap the same fragments).
 */
export async function reserveReplayBudget(
  db: Pick<Database, 'execute'>,
  messages: number,
  messagesPerSecond: number,
): Promise<number> {
  const seconds = messages / messagesPerSecond;
  const [row] = await db.execute<{ waitMs: number }>(sql`
    update replay_rate_budget
    set next_free_at = greatest(next_free_at, clock_timestamp()) + ${seconds}::float8 * interval '1 second'
    where id = 1
    returning extract(epoch from next_free_at - clock_timestamp())::float8 * 1000
      - ${seconds * 1000}::float8 as "waitMs"`);
  if (!row) throw new Error('replay_rate_budget has no row: apply the migrations');
  return Math.max(0, Math.ceil(Number(row.waitMs)));
}

import { and, eq, sql } from 'drizzle-orm';
import { closedAtIso, type SettleBatchInput } from '@settlement/contracts';
import type { PgTransaction } from 'drizzle-orm/pg-core';
import type { PostgresJsQueryResultHKT } from 'drizzle-orm/postgres-js';
import type * as schema from './schema';
import { accounts, batches, outbox, partitionCursors, transactions } from './schema';
import { anyOf, dbNow, jsonParam } from './sql-fragments';
import { CURSOR_MOVED_CHANNEL, cursorKey } from './partition-turns';
import type { Database } from './client';
import type { ExtractTablesWithRelations } from 'drizzle-orm';

/**
 * Set-based ledger writes used by the settle activity, each one statement for a whole
 * batch. Rows travel as one JSON parameter expanded with json_to_recordset (V8's
 * JSON.stringify and PostgreSQL's JSON parser are both native and fast), so a batch of
 * thousands of transactions costs the same round trips, and little more CPU, than one.
 */
export type LedgerTx = PgTransaction<
  PostgresJsQueryResultHKT,
  typeof schema,
  ExtractTablesWithRelations<typeof schema>
>;

/** An account as settlement reads it: money as bigint through the schema's mapper. */
export type AccountRow = Pick<
  typeof accounts.$inferSelect,
  'id' | 'currency' | 'balance' | 'overdraftLimit'
>;

/** The partition cursor, locked: batches of one partition apply one after the other. */
export async function lockCursor(
  tx: LedgerTx,
  topic: string,
  partition: number,
): Promise<bigint | undefined> {
  const rows = await tx
    .select({ nextOffset: partitionCursors.nextOffset })
    .from(partitionCursors)
    .where(cursorOf(topic, partition))
    .for('update');
  return rows[0]?.nextOffset;
}

export async function advanceCursor(
  tx: LedgerTx,
  topic: string,
  partition: number,
  nextOffset: string,
): Promise<void> {
  await tx
    .update(partitionCursors)
    .set({ nextOffset: BigInt(nextOffset), updatedAt: dbNow() })
    .where(cursorOf(topic, partition));
  // Wakes the partition's next batch (PartitionTurns) at commit; a function call, no table.
  await tx.execute(sql`select pg_notify(${CURSOR_MOVED_CHANNEL}, ${cursorKey(topic, partition)})`);
}

/** Creates the cursor at the partition's start position unless it exists (ingest, on assignment). */
export async function ensureCursor(
  db: Pick<Database, 'insert'>,
  topic: string,
  partition: number,
  startOffset: string,
): Promise<bigint> {
  const rows = await db
    .insert(partitionCursors)
    .values({ topic, partition, nextOffset: BigInt(startOffset) })
    // A no-op update, so that RETURNING yields the row that already stood there.
    .onConflictDoUpdate({
      target: [partitionCursors.topic, partitionCursors.partition],
      set: { topic },
    })
    .returning({ nextOffset: partitionCursors.nextOffset });
  return rows[0].nextOffset;
}

const cursorOf = (topic: string, partition: number) =>
  and(eq(partitionCursors.topic, topic), eq(partitionCursors.partition, partition));

/**
 * The touched accounts as they stand, by default without locks: the posting engine decides on
 * this snapshot, and {@link lockAndApplyMovements} verifies it under lock just before commit.
 * With `lock`, they are locked as read, in lock order (the fallback after a lost race).
 */
export async function readAccounts(
  tx: LedgerTx,
  ids: readonly string[],
  { lock = false }: { lock?: boolean } = {},
): Promise<Map<string, AccountRow>> {
  if (ids.length === 0) return new Map();
  const read = tx
    .select({
      id: accounts.id,
      currency: accounts.currency,
      balance: accounts.balance,
      overdraftLimit: accounts.overdraftLimit,
    })
    .from(accounts)
    .where(anyOf(accounts.id, ids));
  const rows = await (lock ? read.orderBy(inLockOrder).for('update') : read);
  return new Map(rows.map((r) => [r.id, r]));
}

/** The ledger's lockOrder (byte order of the ids) in SQL: rows are locked in this order. */
const inLockOrder = sql`${accounts.id} collate "C"`;

/**
 * Locks the touched accounts, always in the ledger's lockOrder (SQL sorts the same way
 * with COLLATE "C") so concurrent batches queue instead of deadlocking, moves every balance by
 * its net amount, unless a debited account lost funds since `snapshot` was read: then it
 * returns false, changing nothing (a concurrent debit: the caller rolls back and retries on a
 * fresh snapshot). Lock, check and moves are one statement that answers one number: nothing of
 * the ~6,000 locked rows of a batch travels back to Node, and the locks, which every other
 * batch touching these accounts queues on, are held for that one statement and the commit,
 * not across round trips that each wait for a busy event loop.
 *
 * Why a snapshot suffices: an account is debited only from its own partition (the key is the
 * debit account), and batches of one partition are serialised by the partition cursor; other
 * batches can only credit it, which never invalidates a decision to settle. The check covers
 * the cases where that does not hold (replays, producers that ignore the key).
 */
export async function lockAndApplyMovements(
  tx: LedgerTx,
  snapshot: ReadonlyMap<string, AccountRow>,
  debited: readonly string[],
  movements: ReadonlyMap<string, bigint>,
): Promise<boolean> {
  // Distinct ids; the lock order comes from the query's ORDER BY.
  const ids = [...new Set([...debited, ...movements.keys()])];
  if (ids.length === 0) return true;
  const floors = [...new Set(debited)].flatMap((id) => {
    const balance = snapshot.get(id)?.balance;
    return balance === undefined ? [] : [{ id, floor: balance.toString() }];
  });
  const moves = [...movements]
    .filter(([, delta]) => delta !== 0n)
    .map(([id, delta]) => ({ id, delta: delta.toString() }));
  // FOR UPDATE sits above the sort: rows are locked in lock order. The check counts over
  // every locked row, so all are locked before the first move; the moves join the locked rows
  // and run only when the check passed. A row a concurrent batch changed meanwhile is locked,
  // checked and moved in its newest version (read committed).
  const [{ short, moved: movedCount }] = await tx.execute<{ short: number; moved: number }>(
    sql`with locked as materialized (
          select ${accounts.id} as id, ${accounts.balance} as balance from ${accounts}
          where ${anyOf(accounts.id, ids)} order by ${inLockOrder} for update),
        check_floors as materialized (
          select count(*)::int as short from locked l
          join json_to_recordset(${jsonParam(floors)}::json) as f(id text, floor numeric)
            on f.id = l.id
          where l.balance < f.floor),
        moved as (
          update accounts a set balance = a.balance + v.delta, updated_at = now()
          from locked l
          join json_to_recordset(${jsonParam(moves)}::json) as v(id text, delta numeric)
            on v.id = l.id
          where a.id = l.id and (select short from check_floors) = 0
          returning a.id)
        select (select short from check_floors) as short, (select count(*) from moved)::int as moved`,
  );
  if (short > 0) return false;
  // Every moved account was in the snapshot and accounts are never deleted: a move that
  // found no row is a broken invariant, not something to commit without.
  if (movedCount !== moves.length) {
    throw new Error(
      `${moves.length - movedCount} of ${moves.length} balance moves found no account`,
    );
  }
  return true;
}

/** Content hashes of transactions the ledger already holds, by id. */
export async function findTransactionHashes(
  db: Pick<Database, 'select'>,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: transactions.id, contentHash: transactions.contentHash })
    .from(transactions)
    .where(anyOf(transactions.id, [...new Set(ids)]));
  return new Map(rows.map((r) => [r.id, r.contentHash]));
}

/**
 * A transaction as the insert's JSON parameter carries it (json_to_recordset), money and
 * offsets as decimal text: the wire form of one set-based statement, not the schema's row.
 */
export interface TransactionRow {
  id: string;
  contentHash: string;
  debitAccount: string;
  creditAccount: string;
  amount: string;
  currency: string;
  occurredAt: string;
  reference: string | null;
  status: 'SETTLED' | 'REJECTED';
  reason: string | null;
  offset: string;
}

/**
 * Inserts the batch's transactions and, for each SETTLED one that was new, its two postings
 * (debit -amount, credit +amount, in offset order) derived in the same statement from the
 * inserted rows: postings never travel as a parameter, which halves what a batch sends and
 * PostgreSQL parses. Returns how many transactions were new; fewer than given means a
 * concurrent batch inserted one of these ids first: the caller must roll back and retry.
 */
export async function insertTransactionsAndPostings(
  tx: LedgerTx,
  batch: { batchId: string; topic: string; partition: number },
  rows: readonly TransactionRow[],
  settledAt: Date,
): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await tx.execute<{ inserted: number }>(
    sql`with t as (
          insert into transactions (id, content_hash, debit_account, credit_account, amount, currency, occurred_at,
            reference, status, reason, batch_id, topic, partition, "offset", settled_at)
          select t.id, t."contentHash", t."debitAccount", t."creditAccount", t.amount, t.currency, t."occurredAt",
            t.reference, t.status, t.reason, ${batch.batchId}, ${batch.topic}, ${batch.partition}, t."offset",
            ${settledAt.toISOString()}::timestamptz
          from json_to_recordset(${jsonParam(rows)}::json) as t(id text, "contentHash" text, "debitAccount" text,
            "creditAccount" text, amount bigint, currency text, "occurredAt" text, reference text, status text,
            reason text, "offset" bigint)
          order by t.id
          on conflict (id) do nothing
          returning id, debit_account, credit_account, amount, currency, status, "offset"
        ), p as (
          insert into postings (transaction_id, account_id, side, amount, currency, batch_id)
          select t.id, s.account_id, s.side, s.amount, t.currency, ${batch.batchId}
          from t cross join lateral (values
            (1, t.debit_account, 'DEBIT', -t.amount),
            (2, t.credit_account, 'CREDIT', t.amount)) as s(n, account_id, side, amount)
          where t.status = 'SETTLED'
          order by t."offset", s.n
          returning 1
        )
        select (select count(*) from t)::int as inserted`,
  );
  return result[0].inserted;
}

/** A dead letter as the insert's JSON parameter carries it (json_to_recordset). */
export interface DeadLetterRow {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** Original bytes, base64, whole whatever their size. */
  value: string;
  /** Readable view: key to UTF-8 text, a repeated key to its values (libs/records). */
  headers: Record<string, string | string[]> | null;
  reason: string;
  field: string | null;
  message: string;
  transactionId: string | null;
  batchId: string | null;
}

/**
 * Idempotent by (topic, partition, offset): a redelivered or replayed message is recorded
 * once. Returns the source offsets that were new. Raw SQL: one set-based insert of the
 * whole batch's rows from a JSON parameter.
 */
export async function insertDeadLetters(
  db: { execute: LedgerTx['execute'] },
  rows: readonly DeadLetterRow[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const inserted = await db.execute<{ offset: string; topic: string; partition: number }>(
    sql`insert into dead_letters (topic, partition, "offset", key, value, headers, reason, field, message, transaction_id, batch_id)
        select d.topic, d.partition, d."offset", d.key, d.value, d.headers::jsonb, d.reason, d.field, d.message,
          d."transactionId", d."batchId"
        from json_to_recordset(${jsonParam(rows)}::json) as d(topic text, partition int, "offset" bigint, key text,
          value text, headers json, reason text, field text, message text, "transactionId" text, "batchId" text)
        on conflict (topic, partition, "offset") do nothing
        returning topic, partition, "offset"::text`,
  );
  return new Set(inserted.map((r) => `${r.topic}/${r.partition}/${r.offset}`));
}

/**
 * One Kafka record waiting in the outbox. Outcomes are UTF-8 JSON (`key`, `value` as text);
 * dead letters keep arbitrary bytes (`encoding: 'base64'` for key and value, headers as
 * [key, base64] pairs). Rows written before the list form hold headers as an object.
 */
export interface OutboxMessage {
  key: string | null;
  value: string;
  encoding?: 'base64';
  headers?: [string, string][] | Record<string, string> | null;
  /** The record's stable dedupe key when it is not its key (dead letters). */
  dedupeKey?: string;
}

export interface OutboxRow {
  topic: string;
  message: OutboxMessage;
}

/** Outbox records grouped as their rows hold them: by topic, in writing order. */
export function outboxByTopic(rows: readonly OutboxRow[]): Map<string, OutboxMessage[]> {
  const byTopic = new Map<string, OutboxMessage[]>();
  for (const r of rows) {
    const messages = byTopic.get(r.topic) ?? [];
    messages.push(r.message);
    byTopic.set(r.topic, messages);
  }
  return byTopic;
}

/**
 * Writes a batch's outbox: one row per topic, the messages as a JSON array in order; a
 * second write for the same batch and topic (dead letters from ingest, then conflicts from
 * settlement) appends.
 */
export async function insertOutbox(
  tx: Pick<LedgerTx, 'insert'>,
  batchId: string,
  rows: readonly OutboxRow[],
): Promise<void> {
  for (const [topic, messages] of outboxByTopic(rows)) {
    await tx
      .insert(outbox)
      .values({ batchId, topic, messages: JSON.stringify(messages), messageCount: messages.length })
      .onConflictDoUpdate({
        target: [outbox.batchId, outbox.topic],
        set: {
          messages: sql`(${outbox.messages}::jsonb || excluded.messages::jsonb)::text`,
          messageCount: sql`${outbox.messageCount} + excluded.message_count`,
        },
      });
  }
}

/** A dead letter as built by libs/records: the database row and the DLQ record. */
export interface DeadLetterWrite {
  row: DeadLetterRow;
  record: OutboxMessage;
}

/**
 * Records dead letters and queues the DLQ records of those that were new in the same
 * transaction: a message already dead-lettered (a redelivery, a re-formed batch, a replay)
 * is neither recorded nor published again. Returns the new ones.
 */
export async function recordDeadLetters(
  tx: Pick<LedgerTx, 'execute' | 'insert'>,
  batchId: string,
  topic: string,
  deadLetters: readonly DeadLetterWrite[],
): Promise<DeadLetterWrite[]> {
  if (deadLetters.length === 0) return [];
  const fresh = await insertDeadLetters(
    tx,
    deadLetters.map((d) => d.row),
  );
  const recorded = deadLetters.filter((d) =>
    fresh.has(`${d.row.topic}/${d.row.partition}/${d.row.offset}`),
  );
  await insertOutbox(
    tx,
    batchId,
    recorded.map((d) => ({ topic, message: d.record })),
  );
  return recorded;
}

/** The columns of a batch row its workflow input and id decide. */
export const batchRowOf = (input: SettleBatchInput, workflowId: string) => ({
  id: input.batchId,
  topic: input.topic,
  partition: input.partition,
  fromOffset: BigInt(input.fromOffset),
  nextOffset: BigInt(input.nextOffset),
  workflowId,
  closedAt: new Date(closedAtIso(input)),
});

/**
 * Records a batch as PENDING before its workflow starts (admin lists it; a redelivery finds
 * it), in one transaction with the range's dead letters and their outbox entry (published by
 * the batch's workflow). With `staged`, the batch's valid messages wait here for the settle
 * activity and the workflow input carries only the reference.
 */
export async function recordPendingBatch(
  db: Pick<Database, 'transaction'>,
  input: SettleBatchInput,
  workflowId: string,
  options: {
    messageCount: number;
    staged: boolean;
    /** The range's dead letters and the DLQ topic their records go to. */
    deadLetters?: { topic: string; items: readonly DeadLetterWrite[] };
  },
): Promise<void> {
  await db.transaction(async (tx) => {
    if (options.deadLetters) {
      const { topic, items } = options.deadLetters;
      await recordDeadLetters(tx, input.batchId, topic, items);
    }
    await tx
      .insert(batches)
      .values({
        ...batchRowOf(input, workflowId),
        status: 'PENDING',
        messageCount: options.messageCount,
        deadLettered: input.deadLettered,
        stagedMessages: options.staged ? JSON.stringify(input.messages ?? []) : null,
      })
      .onConflictDoNothing({ target: batches.id });
  });
}

/**
 * The PENDING batch whose staged messages hold transaction `id`, if any. Raw SQL: JSON
 * functions over the staged messages' text, which the builder has no calls for.
 */
export async function findPendingBatchOf(
  db: { execute: LedgerTx['execute'] },
  id: string,
): Promise<string | undefined> {
  // position() is a cheap prefilter on the few in-flight batches; the JSON check is exact.
  const rows = await db.execute<{ id: string }>(sql`
    select b.id from batches b
    where b.status = 'PENDING' and b.staged_messages is not null and position(${id} in b.staged_messages) > 0
      and exists (
        select 1 from json_array_elements(b.staged_messages::json) m
        where (m->>'value')::json->>'id' = ${id})
    order by b.created_at limit 1`);
  return rows[0]?.id;
}

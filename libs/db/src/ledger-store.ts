import { sql } from 'drizzle-orm';
import { lockOrder } from '@settlement/ledger';
import type { PgTransaction } from 'drizzle-orm/pg-core';
import type { PostgresJsQueryResultHKT } from 'drizzle-orm/postgres-js';
import type * as schema from './schema';
import type { ExtractTablesWithRelations } from 'drizzle-orm';

/**
 * Set-based ledger writes used by the settle activity, each one statement for a whole
 * batch. Arrays travel as single array parameters and are expanded with unnest, so a
 * batch of thousands of transactions costs the same number of round trips as one.
 */
export type LedgerTx = PgTransaction<
  PostgresJsQueryResultHKT,
  typeof schema,
  ExtractTablesWithRelations<typeof schema>
>;

/**
 * A JS array bound as one PostgreSQL array parameter in array-literal text form, cast by the
 * query (`::text[]`, `::bigint[]`...). Elements are quoted, so any text round-trips.
 */
export function pgArray(values: readonly (string | number | null)[]) {
  const literal = values
    .map((v) => (v === null ? 'NULL' : `"${String(v).replace(/[\\"]/g, (c) => `\\${c}`)}"`))
    .join(',');
  return sql.param(`{${literal}}`);
}
const arr = pgArray;

export interface AccountRow {
  id: string;
  currency: string;
  balance: bigint;
  overdraftLimit: bigint;
}

export async function lockCursor(
  tx: LedgerTx,
  topic: string,
  partition: number,
): Promise<bigint | undefined> {
  const rows = await tx.execute<{ next_offset: string }>(
    sql`select next_offset::text from partition_cursors where topic = ${topic} and partition = ${partition} for update`,
  );
  return rows.length ? BigInt(rows[0].next_offset) : undefined;
}

export async function advanceCursor(
  tx: LedgerTx,
  topic: string,
  partition: number,
  nextOffset: string,
): Promise<void> {
  await tx.execute(
    sql`update partition_cursors set next_offset = ${nextOffset}::bigint, updated_at = now()
        where topic = ${topic} and partition = ${partition}`,
  );
}

/** Creates the cursor at the partition's start position unless it exists (ingest, on assignment). */
export async function ensureCursor(
  db: { execute: LedgerTx['execute'] },
  topic: string,
  partition: number,
  startOffset: string,
): Promise<bigint> {
  const rows = await db.execute<{ next_offset: string }>(
    sql`insert into partition_cursors (topic, partition, next_offset) values (${topic}, ${partition}, ${startOffset}::bigint)
        on conflict (topic, partition) do update set topic = excluded.topic
        returning next_offset::text`,
  );
  return BigInt(rows[0].next_offset);
}

/**
 * The touched accounts as they stand, without locks: the posting engine decides on this
 * snapshot, and {@link lockAndApplyMovements} verifies it under lock just before commit.
 */
export async function readAccounts(
  tx: LedgerTx,
  ids: readonly string[],
): Promise<Map<string, AccountRow>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.execute<AccountRowText>(
    sql`select id, currency, balance::text, overdraft_limit::text from accounts
        where id = any(${arr(ids)}::text[])`,
  );
  return new Map(rows.map((r) => [r.id, toAccountRow(r)]));
}

type AccountRowText = { id: string; currency: string; balance: string; overdraft_limit: string };

const toAccountRow = (r: AccountRowText): AccountRow => ({
  id: r.id,
  currency: r.currency,
  balance: BigInt(r.balance),
  overdraftLimit: BigInt(r.overdraft_limit),
});

/**
 * Locks the touched accounts, always in the ledger's lockOrder (SQL sorts the same way
 * with COLLATE "C") so concurrent batches queue instead of
 * deadlocking, checks that no debited account lost funds since `snapshot` was read, then
 * moves every balance by its net amount. Returns false, changing nothing, when the check
 * fails (a concurrent debit: the caller retries on a fresh snapshot).
 *
 * Why a snapshot suffices: an account is debited only from its own partition (the key is the
 * debit account), and batches of one partition are serialised by the partition cursor; other
 * batches can only credit it, which never invalidates a decision to settle. The check covers
 * the cases where that does not hold (replays, producers that ignore the key), and locks are
 * held only for the last statements of the transaction instead of all of it.
 */
export async function lockAndApplyMovements(
  tx: LedgerTx,
  snapshot: ReadonlyMap<string, AccountRow>,
  debited: readonly string[],
  movements: ReadonlyMap<string, bigint>,
): Promise<boolean> {
  const ids = lockOrder([...debited, ...movements.keys()]);
  if (ids.length === 0) return true;
  const current = await tx.execute<{ id: string; balance: string }>(
    sql`select id, balance::text from accounts
        where id = any(${arr(ids)}::text[]) order by id collate "C" for update`,
  );
  const now = new Map(current.map((r) => [r.id, BigInt(r.balance)]));
  for (const id of debited) {
    const before = snapshot.get(id)?.balance;
    if (before !== undefined && (now.get(id) ?? before) < before) return false;
  }
  const moved = [...movements].filter(([, delta]) => delta !== 0n);
  if (moved.length > 0) {
    await tx.execute(
      sql`update accounts a set balance = a.balance + v.delta, updated_at = now()
          from unnest(${arr(moved.map(([id]) => id))}::text[],
                      ${arr(moved.map(([, d]) => d.toString()))}::numeric[]) as v(id, delta)
          where a.id = v.id`,
    );
  }
  return true;
}

/** Content hashes of transactions the ledger already holds, by id. */
export async function findTransactionHashes(
  tx: LedgerTx,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.execute<{ id: string; content_hash: string }>(
    sql`select id, content_hash from transactions where id = any(${arr([...new Set(ids)])}::text[])`,
  );
  return new Map(rows.map((r) => [r.id, r.content_hash]));
}

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
 * Inserts the batch's transactions; returns how many were new. Fewer than given means a
 * concurrent batch inserted one of these ids first: the caller must roll back and retry.
 */
export async function insertTransactions(
  tx: LedgerTx,
  batch: { batchId: string; topic: string; partition: number },
  rows: readonly TransactionRow[],
  settledAt: Date,
): Promise<number> {
  if (rows.length === 0) return 0;
  const col = <K extends keyof TransactionRow>(k: K) => arr(rows.map((r) => r[k] as string | null));
  const inserted = await tx.execute(
    sql`insert into transactions (id, content_hash, debit_account, credit_account, amount, currency, occurred_at,
          reference, status, reason, batch_id, topic, partition, "offset", settled_at)
        select t.id, t.content_hash, t.debit_account, t.credit_account, t.amount, t.currency, t.occurred_at,
          t.reference, t.status, t.reason, ${batch.batchId}, ${batch.topic}, ${batch.partition}, t.offset,
          ${settledAt.toISOString()}::timestamptz
        from unnest(${col('id')}::text[], ${col('contentHash')}::text[], ${col('debitAccount')}::text[],
          ${col('creditAccount')}::text[], ${col('amount')}::bigint[], ${col('currency')}::text[],
          ${col('occurredAt')}::text[], ${col('reference')}::text[], ${col('status')}::text[],
          ${col('reason')}::text[], ${col('offset')}::bigint[])
          as t(id, content_hash, debit_account, credit_account, amount, currency, occurred_at, reference, status,
               reason, "offset")
        order by t.id
        on conflict (id) do nothing`,
  );
  return inserted.count;
}

export interface PostingRow {
  transactionId: string;
  accountId: string;
  side: 'DEBIT' | 'CREDIT';
  amount: string;
  currency: string;
}

export async function insertPostings(
  tx: LedgerTx,
  batchId: string,
  rows: readonly PostingRow[],
): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof PostingRow>(k: K) => arr(rows.map((r) => r[k]));
  await tx.execute(
    sql`insert into postings (transaction_id, account_id, side, amount, currency, batch_id)
        select p.transaction_id, p.account_id, p.side, p.amount, p.currency, ${batchId}
        from unnest(${col('transactionId')}::text[], ${col('accountId')}::text[], ${col('side')}::text[],
          ${col('amount')}::bigint[], ${col('currency')}::text[]) as p(transaction_id, account_id, side, amount, currency)`,
  );
}

export interface DeadLetterRow {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** Original bytes, base64. */
  value: string;
  headers: Record<string, string> | null;
  reason: string;
  field: string | null;
  message: string;
  transactionId: string | null;
  batchId: string | null;
}

/** Idempotent by (topic, partition, offset): a redelivered or replayed message is recorded once. */
export async function insertDeadLetters(
  db: { execute: LedgerTx['execute'] },
  rows: readonly DeadLetterRow[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const col = <K extends keyof DeadLetterRow>(k: K) =>
    arr(
      rows.map((r) =>
        k === 'headers' ? (r.headers ? JSON.stringify(r.headers) : null) : (r[k] as string | null),
      ),
    );
  const inserted = await db.execute(
    sql`insert into dead_letters (topic, partition, "offset", key, value, headers, reason, field, message, transaction_id, batch_id)
        select d.topic, d.partition, d.offset, d.key, d.value, d.headers::jsonb, d.reason, d.field, d.message, d.transaction_id, d.batch_id
        from unnest(${col('topic')}::text[], ${arr(rows.map((r) => r.partition))}::int[], ${col('offset')}::bigint[],
          ${col('key')}::text[], ${col('value')}::text[], ${col('headers')}::text[], ${col('reason')}::text[],
          ${col('field')}::text[], ${col('message')}::text[], ${col('transactionId')}::text[], ${col('batchId')}::text[])
          as d(topic, partition, "offset", key, value, headers, reason, field, message, transaction_id, batch_id)
        on conflict (topic, partition, "offset") do nothing`,
  );
  return inserted.count;
}

export interface OutboxRow {
  topic: string;
  key: string | null;
  payload: string;
  headers: Record<string, string> | null;
}

export async function insertOutbox(
  tx: LedgerTx,
  batchId: string,
  rows: readonly OutboxRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(
    sql`insert into outbox (batch_id, topic, key, payload, headers)
        select ${batchId}, o.topic, o.key, o.payload, o.headers::jsonb
        from unnest(${arr(rows.map((r) => r.topic))}::text[], ${arr(rows.map((r) => r.key))}::text[],
          ${arr(rows.map((r) => r.payload))}::text[],
          ${arr(rows.map((r) => (r.headers ? JSON.stringify(r.headers) : null)))}::text[])
          with ordinality as o(topic, key, payload, headers, n)
        order by o.n`,
  );
}

import { sql } from 'drizzle-orm';
import { batchIdFor, type BatchMessage, type SettleBatchInput } from '@settlement/contracts';
import { accounts, ensureCursor, type Database } from '@settlement/db';

export interface TxSpec {
  id: string;
  debit: string;
  credit: string;
  amount: string;
  currency?: string;
  reference?: string;
}

export function txValue(t: TxSpec): string {
  return JSON.stringify({
    id: t.id,
    debitAccount: t.debit,
    creditAccount: t.credit,
    amount: t.amount,
    currency: t.currency ?? 'EUR',
    occurredAt: '2026-11-25T10:00:00Z',
    ...(t.reference ? { reference: t.reference } : {}),
  });
}

export function message(offset: number, t: TxSpec): BatchMessage {
  return { offset: String(offset), key: t.debit, value: txValue(t), timestamp: '1764064800000' };
}

/** A batch over [from, from + specs.length) with one message per offset. */
export function batch(
  topic: string,
  partition: number,
  from: number,
  specs: TxSpec[],
  extra: Partial<SettleBatchInput> = {},
): SettleBatchInput {
  const fromOffset = String(from);
  const nextOffset = String(from + specs.length);
  return {
    batchId: batchIdFor(topic, partition, fromOffset, nextOffset),
    topic,
    partition,
    fromOffset,
    nextOffset,
    messages: specs.map((s, i) => message(from + i, s)),
    deadLettered: 0,
    closedAt: Date.now(),
    ...extra,
  };
}

export async function openAccounts(
  db: Database,
  // No opening balances: money only enters through postings (fund from an account with a limit).
  specs: { id: string; currency?: string; overdraftLimit?: bigint }[],
): Promise<void> {
  await db.insert(accounts).values(
    specs.map((s) => ({
      id: s.id,
      currency: s.currency ?? 'EUR',
      overdraftLimit: s.overdraftLimit ?? 0n,
    })),
  );
}

export async function startPartition(
  db: Database,
  topic: string,
  partition: number,
  at = 0,
): Promise<void> {
  await ensureCursor(db, topic, partition, String(at));
}

export async function balanceOf(db: Database, id: string): Promise<bigint> {
  const rows = await db.execute<{ balance: string }>(
    sql`select balance::text from accounts where id = ${id}`,
  );
  return BigInt(rows[0].balance);
}

/** Invariant 4: per currency postings sum to zero, and every balance equals its postings. */
export async function assertConservation(db: Database): Promise<void> {
  const sums = await db.execute<{ currency: string; total: string }>(
    sql`select currency, sum(amount)::text as total from postings group by currency`,
  );
  for (const s of sums)
    expect({ currency: s.currency, total: s.total }).toEqual({ currency: s.currency, total: '0' });
  const drift = await db.execute<{ id: string }>(sql`
    select a.id from accounts a
    left join (select account_id, sum(amount) as total from postings group by account_id) p on p.account_id = a.id
    where a.balance <> coalesce(p.total, 0)`);
  expect(drift.map((d) => d.id)).toEqual([]);
}

export async function count(db: Database, table: string, where = sql`true`): Promise<number> {
  const rows = await db.execute<{ n: string }>(
    sql`select count(*)::text as n from ${sql.identifier(table)} where ${where}`,
  );
  return Number(rows[0].n);
}

/** Messages waiting in (or sent from) the outbox, over its one-row-per-batch-and-topic rows. */
export async function outboxMessages(db: Database, where = sql`true`): Promise<number> {
  const rows = await db.execute<{ n: string }>(
    sql`select coalesce(sum(message_count), 0)::text as n from outbox where ${where}`,
  );
  return Number(rows[0].n);
}

import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import type { Database } from './client';
import type { OutboxMessage } from './ledger-store';
import { outbox } from './schema';
import { dbNow } from './sql-fragments';

type OutboxTableRow = typeof outbox.$inferSelect;

/** An outbox row with its records parsed (the column holds them as JSON text). */
export type PendingOutboxRow = Pick<OutboxTableRow, 'id' | 'topic'> & { messages: OutboxMessage[] };

/** A batch's outbox rows not yet published, in writing order. */
export async function loadUnpublishedOutbox(
  db: Pick<Database, 'select'>,
  batchId: string,
): Promise<PendingOutboxRow[]> {
  const rows = await db
    .select({ id: outbox.id, topic: outbox.topic, messages: outbox.messages })
    .from(outbox)
    .where(and(eq(outbox.batchId, batchId), isNull(outbox.publishedAt)))
    .orderBy(asc(outbox.id));
  return rows.map((r) => ({ ...r, messages: JSON.parse(r.messages) as OutboxMessage[] }));
}

/** A batch's outbox row without its records: enough to tell whether memory holds them all. */
export type OutboxRowSummary = Pick<OutboxTableRow, 'id' | 'topic' | 'messageCount'>;

/** A batch's outbox rows not yet published, in writing order, without reading their records. */
export async function listUnpublishedOutbox(
  db: Pick<Database, 'select'>,
  batchId: string,
): Promise<OutboxRowSummary[]> {
  return db
    .select({ id: outbox.id, topic: outbox.topic, messageCount: outbox.messageCount })
    .from(outbox)
    .where(and(eq(outbox.batchId, batchId), isNull(outbox.publishedAt)))
    .orderBy(asc(outbox.id));
}

export async function markOutboxPublished(
  db: Pick<Database, 'update'>,
  ids: readonly bigint[],
): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(outbox)
    .set({ publishedAt: dbNow() })
    .where(inArray(outbox.id, [...ids]));
}

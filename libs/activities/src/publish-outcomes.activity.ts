import { sql } from 'drizzle-orm';
import type { Producer, Message } from 'kafkajs';
import { pgArray, type Database } from '@settlement/db';

export interface PublishDeps {
  db: Database;
  producer: Producer;
}

/**
 * Publishes a batch's outbox rows (outcomes to `settlements`, conflicts to the DLQ) and marks
 * them published. A crash between send and mark republishes the same events: consumers
 * dedupe by transaction id, so no consumer sees a second outcome.
 */
export async function publishOutcomes(
  deps: PublishDeps,
  batchId: string,
): Promise<{ published: number }> {
  const rows = await deps.db.execute<{
    id: string;
    topic: string;
    key: string | null;
    payload: string;
    headers: Record<string, string> | null;
  }>(
    sql`select id::text, topic, key, payload, headers from outbox
        where batch_id = ${batchId} and published_at is null order by id`,
  );
  if (rows.length === 0) return { published: 0 };
  const byTopic = new Map<string, Message[]>();
  for (const r of rows) {
    const messages = byTopic.get(r.topic) ?? [];
    messages.push({ key: r.key, value: r.payload, headers: r.headers ?? undefined });
    byTopic.set(r.topic, messages);
  }
  await deps.producer.sendBatch({
    acks: -1,
    topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
  });
  await deps.db.execute(
    sql`update outbox set published_at = now() where id = any(${pgArray(rows.map((r) => r.id))}::bigint[])`,
  );
  return { published: rows.length };
}

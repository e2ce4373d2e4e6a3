import { sql } from 'drizzle-orm';
import type { Producer } from 'kafkajs';
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
  const rows = await deps.db.execute<{ id: string; topic: string; messages: string }>(
    sql`select id::text, topic, messages from outbox
        where batch_id = ${batchId} and published_at is null order by id`,
  );
  if (rows.length === 0) return { published: 0 };
  const topicMessages = rows.map((r) => ({
    topic: r.topic,
    messages: (JSON.parse(r.messages) as OutboxMessage[]).map((m) => ({
      key: m.key,
      value: m.value,
      headers: m.headers ?? undefined,
    })),
  }));
  await deps.producer.sendBatch({ acks: -1, topicMessages });
  await deps.db.execute(
    sql`update outbox set published_at = now() where id = any(${pgArray(rows.map((r) => r.id))}::bigint[])`,
  );
  return { published: topicMessages.reduce((n, t) => n + t.messages.length, 0) };
}

interface OutboxMessage {
  key: string | null;
  value: string;
  headers: Record<string, string> | null;
}

import { eq } from 'drizzle-orm';
import type { Database } from './client';
import { consumerControls } from './schema';
import { dbNow } from './sql-fragments';

/**
 * Durable pause/resume of live consumption, per consumer group. The admin API writes it;
 * every ingest instance polls `isConsumptionPaused` every few seconds and pauses or resumes
 * its Kafka consumer accordingly. A group without a row is not paused.
 */
export type ConsumerControl = typeof consumerControls.$inferSelect;

type Executor = Pick<Database, 'select' | 'insert'>;

export async function getConsumerControl(
  db: Executor,
  groupId: string,
): Promise<ConsumerControl | undefined> {
  const rows = await db
    .select()
    .from(consumerControls)
    .where(eq(consumerControls.groupId, groupId))
    .limit(1);
  return rows[0];
}

export async function isConsumptionPaused(db: Executor, groupId: string): Promise<boolean> {
  return (await getConsumerControl(db, groupId))?.paused ?? false;
}

/** Upserts the group's state; works inside a transaction (pass `tx`). Returns the new row. */
export async function setConsumptionPaused(
  db: Executor,
  groupId: string,
  paused: boolean,
  options: { reason?: string | null; updatedBy?: string | null } = {},
): Promise<ConsumerControl> {
  const values = {
    groupId,
    paused,
    reason: options.reason ?? null,
    updatedBy: options.updatedBy ?? null,
    updatedAt: dbNow(),
  };
  const rows = await db
    .insert(consumerControls)
    .values(values)
    .onConflictDoUpdate({
      target: consumerControls.groupId,
      set: { paused, reason: values.reason, updatedBy: values.updatedBy, updatedAt: dbNow() },
    })
    .returning();
  return rows[0];
}

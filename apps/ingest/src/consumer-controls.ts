import { eq } from 'drizzle-orm';
import { consumerControls, type Database } from '@settlement/db';

/**
 * Operator pause (POST /admin/consumers/pause): one durable row per consumer group in
 * `consumer_controls`, written by admin, polled here. No row means running.
 */
export async function isPaused(db: Database, groupId: string): Promise<boolean> {
  const rows = await db
    .select({ paused: consumerControls.paused })
    .from(consumerControls)
    .where(eq(consumerControls.groupId, groupId));
  return rows[0]?.paused ?? false;
}

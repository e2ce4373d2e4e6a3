import type { Admin } from 'kafkajs';

/**
 * The first offset of each partition at or after `ms` (epoch milliseconds; -1 where no message
 * is that recent), through ListOffsets. Kafka 4 reads a timestamp below -2 as one of its newer
 * markers (-3 max timestamp, -4 earliest local, -5 latest tiered) and answers kafkajs's
 * ListOffsets v3 with UNSUPPORTED_VERSION ("The version of API is not supported"); a time
 * before the epoch means "from the start", so it asks for the earliest offsets instead.
 */
export async function offsetsAtTime(
  admin: Pick<Admin, 'fetchTopicOffsetsByTimestamp' | 'fetchTopicOffsets'>,
  topic: string,
  ms: number,
): Promise<{ partition: number; offset: string }[]> {
  if (!Number.isFinite(ms)) throw new Error(`not a time: ${ms}`);
  if (ms >= 0) return admin.fetchTopicOffsetsByTimestamp(topic, Math.floor(ms));
  return (await admin.fetchTopicOffsets(topic)).map((o) => ({
    partition: o.partition,
    offset: o.low,
  }));
}

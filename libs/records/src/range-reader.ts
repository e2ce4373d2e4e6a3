import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { SourceRecord } from './dead-letter';
import { sourceOfKafka } from './kafka-record';

/** A message of the range as read: the source record and its broker timestamp. */
export interface RawMessage extends SourceRecord {
  timestamp: string;
}

/**
 * Reads the messages of [from, to) of one partition. A throwaway consumer group of its own
 * (never the live group, never committing) seeks to `from` and stops at `to`; the live
 * consumer's offsets are untouched. Gaps in the log (compaction, transaction markers) end the
 * read once the partition's high watermark shows nothing more can arrive below `to`.
 * When `signal` aborts (the activity was cancelled) the read stops with the signal's reason
 * and the consumer leaves its group: nothing is kept reading for a chunk no one waits for.
 */
export async function readPartitionRange(
  kafka: Kafka,
  topic: string,
  partition: number,
  from: bigint,
  to: bigint,
  timeoutMs = 60_000,
  signal?: AbortSignal,
): Promise<RawMessage[]> {
  if (to <= from) return [];
  signal?.throwIfAborted();
  const consumer = kafka.consumer({
    groupId: `replay-reader-${randomBytes(8).toString('hex')}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 250,
    sessionTimeout: 10_000,
    retry: { retries: 3 },
  });
  const byOffset = new Map<string, RawMessage>();
  await consumer.connect();
  try {
    signal?.throwIfAborted();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const cancel = () => finish(signal?.reason);
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', cancel);
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve();
      };
      const timer = setTimeout(
        () =>
          finish(
            new Error(
              `reading ${topic}/${partition} [${from}, ${to}) timed out after ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      if (signal?.aborted) return cancel();
      signal?.addEventListener('abort', cancel, { once: true });
      let seeked = false;
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const assigned = payload.memberAssignment[topic] ?? [];
        const others = assigned.filter((p) => p !== partition);
        if (others.length) consumer.pause([{ topic, partitions: others }]);
        if (!seeked) {
          seeked = true;
          consumer.seek({ topic, partition, offset: from.toString() });
        }
      });
      consumer
        .run({
          autoCommit: false,
          eachBatchAutoResolve: true,
          eachBatch: async ({ batch }) => {
            if (batch.partition !== partition || settled) return;
            let last = -1n;
            for (const m of batch.messages) {
              const off = BigInt(m.offset);
              last = off;
              if (off < from || off >= to) continue;
              byOffset.set(m.offset, {
                ...sourceOfKafka(topic, partition, m),
                timestamp: m.timestamp,
              });
            }
            const high = BigInt(batch.highWatermark);
            if (last >= to - 1n) finish();
            else if (high < to && last + 1n >= high) {
              // Everything up to the log end was read and the end lies before `to`.
              finish(new Error(`${topic}/${partition} ends at ${high}, before ${to}`));
            }
          },
        })
        .catch(finish);
    });
  } finally {
    await consumer.disconnect();
  }
  return [...byOffset.values()].sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
}

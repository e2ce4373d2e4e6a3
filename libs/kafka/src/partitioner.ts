import { randomInt } from 'node:crypto';
import type { ICustomPartitioner } from 'kafkajs';

/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`, which places keyed records for every
 * Kafka client that follows it) on the key's UTF-8 bytes, in 32-bit arithmetic. kafkajs's
 * own does the same with a 64-bit Long object per step: ~50 objects per 30-byte key, the
 * worker's largest source of garbage after the outcomes' encoding (allocation-profiled).
 */
export function murmur2(key: string | Buffer): number {
  const data = typeof key === 'string' ? asciiOrUtf8(key) : key;
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      byteAt(data, i4) |
      (byteAt(data, i4 + 1) << 8) |
      (byteAt(data, i4 + 2) << 16) |
      (byteAt(data, i4 + 3) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The last 1-3 bytes (the Java code's fall-through switch).
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= byteAt(data, tail + 2) << 16;
  if (rest >= 2) h ^= byteAt(data, tail + 1) << 8;
  if (rest >= 1) {
    h ^= byteAt(data, tail);
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** A printable-ASCII string is its own UTF-8: read its char codes instead of encoding it. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
type Bytes = string | Buffer;
const asciiOrUtf8 = (s: string): Bytes => (PRINTABLE_ASCII.test(s) ? s : Buffer.from(s, 'utf8'));
const byteAt = (data: Bytes, i: number): number =>
  typeof data === 'string' ? data.charCodeAt(i) : data[i];

const toPositive = (x: number) => x & 0x7fffffff;

/**
 * kafkajs's DefaultPartitioner (Java-compatible) without its per-record garbage: a given
 * partition wins, a key is hashed with murmur2 over all partitions, a record without either
 * goes round-robin over the partitions that have a leader. Same partition for the same key
 * as kafkajs and the Java client (partitioner.spec.ts compares them).
 */
export const KeyHashPartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const numPartitions = partitionMetadata.length;
    if (message.key !== null && message.key !== undefined) {
      return toPositive(murmur2(message.key)) % numPartitions;
    }
    const counter = (counters.get(topic) ?? randomInt(2 ** 31)) + 1;
    counters.set(topic, counter);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    if (available.length > 0) return available[toPositive(counter) % available.length].partitionId;
    return toPositive(counter) % numPartitions;
  };
};

import type { KafkaMessage, Message } from 'kafkajs';
import { DEDUPE_KEY_HEADER } from '@settlement/contracts';
import type { OutboxMessage } from '@settlement/db';
import { REFUSED_BATCH_HEADER, refusedBatchOf } from '@settlement/kafka';
import { parseTransactionRecord, type ParseResult } from '@settlement/ledger';
import type { SourceRecord } from './dead-letter';
import { headersFromKafka, headersToKafka, loadHeaders, type HeaderList } from './headers';

/**
 * Validation's verdict on a record read from the topic. A stand-in for a record of a compressed
 * batch refused for its decompressed size (libs/kafka refused-batch.ts) is TOO_LARGE, and its
 * marker header is left out of the record the dead letter keeps.
 */
export function judgeRecord<T extends SourceRecord>(source: T): { source: T; parsed: ParseResult } {
  const refused = refusedBatchOf(source.headers);
  if (!refused) return { source, parsed: parseTransactionRecord(source.key, source.value) };
  return {
    source: { ...source, headers: source.headers.filter(([key]) => key !== REFUSED_BATCH_HEADER) },
    parsed: {
      ok: false,
      reason: 'TOO_LARGE',
      field: '$',
      message: `its ${refused.codec} record batch (${refused.records} records, ${refused.compressedBytes} bytes compressed) decompresses beyond ${refused.limit} bytes; not inflated`,
    },
  };
}

/** A consumed message as the source record every reader of the topic works with. */
export function sourceOfKafka(topic: string, partition: number, m: KafkaMessage): SourceRecord {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ?? null,
    value: m.value ?? null,
    headers: headersFromKafka(m.headers),
  };
}

/**
 * The Kafka record of an outbox message, with the dedupe-key header (the dead letter's
 * source position, or the outcome's transaction id).
 */
export function outboxToKafka(m: OutboxMessage): Message {
  const base64 = m.encoding === 'base64';
  const headers: HeaderList = loadHeaders(m.headers);
  const dedupeKey = m.dedupeKey ?? m.key;
  if (dedupeKey !== null && dedupeKey !== undefined)
    headers.push([DEDUPE_KEY_HEADER, Buffer.from(dedupeKey, 'utf8')]);
  return {
    key: m.key === null ? null : base64 ? Buffer.from(m.key, 'base64') : m.key,
    value: base64 ? Buffer.from(m.value, 'base64') : m.value,
    headers: headersToKafka(headers),
  };
}

/** Bytes a record adds to a produce request (key, value, headers and framing). */
export function recordSize(m: Message): number {
  let n = 64;
  if (m.key) n += typeof m.key === 'string' ? Buffer.byteLength(m.key) : m.key.length;
  if (m.value) n += typeof m.value === 'string' ? Buffer.byteLength(m.value) : m.value.length;
  // Counted in place rather than through headersFromKafka: this runs for every outcome
  // record, and the list it builds was garbage at once.
  const headers = m.headers;
  if (headers) {
    for (const key of Object.keys(headers)) {
      const value = headers[key];
      for (const one of Array.isArray(value) ? value : [value]) {
        if (one === undefined || one === null) continue;
        const bytes = Buffer.isBuffer(one) ? one.length : Buffer.byteLength(String(one));
        n += Buffer.byteLength(key) + bytes + 8;
      }
    }
  }
  return n;
}

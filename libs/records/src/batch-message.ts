import type { BatchMessage } from '@settlement/contracts';
import { loadHeaders, storeHeaders } from './headers';
import type { SourceRecord } from './dead-letter';

/**
 * A valid message as it travels to the settle activity (staged or inline). Valid messages
 * are UTF-8 JSON, so key and value travel as text; headers as [key, base64] pairs.
 */
export function toBatchMessage(source: SourceRecord, timestamp: string): BatchMessage {
  const message: BatchMessage = {
    offset: source.offset,
    key: source.key ? source.key.toString('utf8') : null,
    value: (source.value ?? Buffer.alloc(0)).toString('utf8'),
    timestamp,
  };
  if (source.headers.length) message.headers = storeHeaders(source.headers);
  return message;
}

/** The source record back from a batch message (for dead letters found at settlement). */
export function sourceOfBatchMessage(
  topic: string,
  partition: number,
  m: BatchMessage,
): SourceRecord {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key === null ? null : Buffer.from(m.key, 'utf8'),
    value: Buffer.from(m.value, 'utf8'),
    headers: loadHeaders(m.headers),
  };
}

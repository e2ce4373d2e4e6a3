/**
 * Headers every dead letter carries on the DLQ topic, beside the original key, value and
 * headers, so an operator can find the source message and the reason without the database.
 * docs/ingest.md ("Dead letters on the DLQ topic") documents each one for consumers.
 */
export interface DeadLetterSource {
  topic: string;
  partition: number;
  offset: string;
  reason: string;
  field?: string | null;
  message: string;
}

export const DLQ_HEADERS = {
  reason: 'dlq-reason',
  message: 'dlq-message',
  field: 'dlq-field',
  sourceTopic: 'dlq-source-topic',
  sourcePartition: 'dlq-source-partition',
  sourceOffset: 'dlq-source-offset',
  /** Set ("true") when the record carries only a prefix of the original value. */
  valueTruncated: 'dlq-value-truncated',
  /** The original value's size in bytes and its sha256 (hex), when truncated. */
  valueSize: 'dlq-value-size',
  valueSha256: 'dlq-value-sha256',
  /** The same for a key too large to carry whole. */
  keyTruncated: 'dlq-key-truncated',
  keySize: 'dlq-key-size',
  keySha256: 'dlq-key-sha256',
  /** How many original headers were left out because together they were too large. */
  headersOmitted: 'dlq-headers-omitted',
} as const;

/**
 * Every record the system publishes (outcomes and dead letters) carries this header: a key
 * that is the same for every copy of the same event, so consumers drop repeats by it. An
 * outcome's is its transaction id; a dead letter's is `<topic>/<partition>/<offset>` of the
 * source message.
 */
export const DEDUPE_KEY_HEADER = 'dedupe-key';

/**
 * What a DLQ record carries whole; beyond these the database keeps the original whole and
 * the record a prefix, the size and a sha256, so it always fits the broker's message limit
 * (1 MiB by default), also many to one produce request.
 */
export const DLQ_LIMITS = {
  valueBytes: 16 * 1024,
  keyBytes: 1024,
  headerBytes: 16 * 1024,
} as const;

export function deadLetterDedupeKey(source: {
  topic: string;
  partition: number;
  offset: string;
}): string {
  return `${source.topic}/${source.partition}/${source.offset}`;
}

export function deadLetterHeaders(source: DeadLetterSource): Record<string, string> {
  const headers: Record<string, string> = {
    [DLQ_HEADERS.reason]: source.reason,
    [DLQ_HEADERS.message]: source.message,
    [DLQ_HEADERS.sourceTopic]: source.topic,
    [DLQ_HEADERS.sourcePartition]: String(source.partition),
    [DLQ_HEADERS.sourceOffset]: source.offset,
  };
  if (source.field) headers[DLQ_HEADERS.field] = source.field;
  return headers;
}

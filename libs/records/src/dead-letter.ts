import { createHash } from 'node:crypto';
import {
  DLQ_HEADERS,
  DLQ_LIMITS,
  deadLetterDedupeKey,
  deadLetterHeaders,
} from '@settlement/contracts';
import type { DeadLetterWrite } from '@settlement/db';
import { headersAsText, headersSize, storeHeaders, type HeaderList } from './headers';

/** A message of the source topic as read, whoever read it (ingest, replay, settlement). */
export interface SourceRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: HeaderList;
}

/** Why the message is a dead letter. */
export interface DeadLetterVerdict {
  reason: string;
  field: string | null;
  message: string;
  /** The transaction id, when the message parsed (DUPLICATE_CONFLICT). */
  transactionId?: string | null;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * The one way to write a dead letter: the database row keeps the original whole (value
 * base64, key, headers); the DLQ record carries the original key, value and headers plus the
 * dlq-* headers, each part cut to a prefix (with its size and sha256) when it is larger than
 * DLQ_LIMITS, so a record always fits the broker's message limit.
 */
export function buildDeadLetter(
  source: SourceRecord,
  verdict: DeadLetterVerdict,
  batchId: string | null,
): DeadLetterWrite {
  const value = source.value ?? Buffer.alloc(0);
  const row = {
    topic: source.topic,
    partition: source.partition,
    offset: source.offset,
    key: source.key ? source.key.toString('utf8') : null,
    value: value.toString('base64'),
    headers: headersAsText(source.headers),
    reason: verdict.reason,
    field: verdict.field,
    message: verdict.message,
    transactionId: verdict.transactionId ?? null,
    batchId,
  };

  const dlq: HeaderList = [];
  let key = source.key;
  if (key && key.length > DLQ_LIMITS.keyBytes) {
    dlq.push(...bounded('key', key));
    key = key.subarray(0, DLQ_LIMITS.keyBytes);
  }
  let carriedValue = value;
  if (value.length > DLQ_LIMITS.valueBytes) {
    dlq.push(...bounded('value', value));
    carriedValue = value.subarray(0, DLQ_LIMITS.valueBytes);
  }
  let original = source.headers;
  if (headersSize(original) > DLQ_LIMITS.headerBytes) {
    dlq.push([DLQ_HEADERS.headersOmitted, Buffer.from(String(original.length))]);
    original = [];
  }
  const named = deadLetterHeaders({ ...verdict, ...source });
  for (const name of Object.keys(named)) dlq.push([name, Buffer.from(named[name], 'utf8')]);

  return {
    row,
    record: {
      encoding: 'base64',
      key: key ? key.toString('base64') : null,
      value: carriedValue.toString('base64'),
      headers: storeHeaders([...original, ...dlq]),
      dedupeKey: deadLetterDedupeKey(source),
    },
  };
}

function bounded(part: 'key' | 'value', bytes: Buffer): HeaderList {
  const names =
    part === 'key'
      ? [DLQ_HEADERS.keyTruncated, DLQ_HEADERS.keySize, DLQ_HEADERS.keySha256]
      : [DLQ_HEADERS.valueTruncated, DLQ_HEADERS.valueSize, DLQ_HEADERS.valueSha256];
  return [
    [names[0], Buffer.from('true')],
    [names[1], Buffer.from(String(bytes.length))],
    [names[2], Buffer.from(sha256(bytes))],
  ];
}

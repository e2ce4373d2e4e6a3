import type { IHeaders, KafkaMessage } from 'kafkajs';
import {
  batchIdFor,
  deadLetterHeaders,
  type BatchMessage,
  type SettleBatchInput,
} from '@settlement/contracts';
import type { DeadLetterRow } from '@settlement/db';
import { parseTransactionRecord } from '@settlement/ledger';

/** A message as read, with its cost in the workflow input (for the size cap). */
export interface Buffered {
  message: KafkaMessage;
  bytes: number;
}

/** Bytes one message adds to a batch (value, key, offset, timestamp, JSON), for the byte cap. */
export function messageCost(m: KafkaMessage): number {
  return (m.value?.length ?? 0) * 1.1 + (m.key?.length ?? 0) + 96;
}

export function headersToStrings(
  headers: IHeaders | undefined,
): Record<string, string> | undefined {
  if (!headers) return undefined;
  const out: Record<string, string> = {};
  let any = false;
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[v.length - 1] : v;
    if (first === undefined) continue;
    out[k] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
    any = true;
  }
  return any ? out : undefined;
}

export interface DeadLetterOut {
  row: DeadLetterRow;
  /** The DLQ record: original key, value bytes and headers plus the dlq-* headers. */
  record: { key: Buffer | null; value: Buffer | null; headers: Record<string, string | Buffer> };
}

export interface FormedBatch {
  input: SettleBatchInput;
  deadLetters: DeadLetterOut[];
}

/**
 * Turns the messages of one closed micro-batch into the settleBatch input: valid messages
 * as UTF-8 strings (staged in the batch row or inline in the input, as BATCH_PAYLOAD says),
 * invalid ones as dead letters. The range is [fromOffset, last + 1).
 */
export function formBatch(
  topic: string,
  partition: number,
  fromOffset: bigint,
  messages: readonly KafkaMessage[],
  closedAt: number,
): FormedBatch {
  const last = messages[messages.length - 1];
  const nextOffset = (BigInt(last.offset) + 1n).toString();
  const from = fromOffset.toString();
  const batchId = batchIdFor(topic, partition, from, nextOffset);
  const valid: BatchMessage[] = [];
  const deadLetters: DeadLetterOut[] = [];
  for (const m of messages) {
    const parsed = parseTransactionRecord(m.key, m.value);
    const headers = headersToStrings(m.headers);
    if (parsed.ok) {
      const bm: BatchMessage = {
        offset: m.offset,
        key: m.key ? m.key.toString('utf8') : null,
        value: (m.value as Buffer).toString('utf8'),
        timestamp: m.timestamp,
      };
      if (headers) bm.headers = headers;
      valid.push(bm);
      continue;
    }
    const source = {
      topic,
      partition,
      offset: m.offset,
      reason: parsed.reason,
      field: parsed.field,
      message: parsed.message,
    };
    deadLetters.push({
      row: {
        topic,
        partition,
        offset: m.offset,
        key: m.key ? m.key.toString('utf8') : null,
        value: (m.value ?? Buffer.alloc(0)).toString('base64'),
        headers: headers ?? null,
        reason: parsed.reason,
        field: parsed.field,
        message: parsed.message,
        transactionId: null,
        batchId,
      },
      record: {
        key: m.key,
        value: m.value,
        headers: { ...rawHeaders(m.headers), ...deadLetterHeaders(source) },
      },
    });
  }
  return {
    input: {
      batchId,
      topic,
      partition,
      fromOffset: from,
      nextOffset,
      messages: valid,
      deadLettered: deadLetters.length,
      closedAt,
    },
    deadLetters,
  };
}

function rawHeaders(headers: IHeaders | undefined): Record<string, string | Buffer> {
  const out: Record<string, string | Buffer> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[v.length - 1] : v;
    if (first !== undefined) out[k] = first;
  }
  return out;
}

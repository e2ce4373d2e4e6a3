import type { KafkaMessage } from 'kafkajs';
import {
  batchIdFor,
  countReasons,
  type BatchMessage,
  type SettleBatchInput,
} from '@settlement/contracts';
import type { DeadLetterWrite } from '@settlement/db';
import { buildDeadLetter, judgeRecord, sourceOfKafka, toBatchMessage } from '@settlement/records';

/** Bytes one message adds to a batch (value, key, offset, timestamp, JSON), for the byte cap. */
export function messageCost(m: KafkaMessage): number {
  return (m.value?.length ?? 0) * 1.1 + (m.key?.length ?? 0) + 96;
}

export interface FormedBatch {
  input: SettleBatchInput;
  deadLetters: DeadLetterWrite[];
}

/**
 * Turns the messages of one closed micro-batch into the settleBatch input: valid messages
 * as UTF-8 strings (staged in the batch row or inline in the input, as BATCH_PAYLOAD says),
 * invalid ones as dead letters (libs/records). The range is [fromOffset, last + 1).
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
  const deadLetters: DeadLetterWrite[] = [];
  for (const m of messages) {
    const { source, parsed } = judgeRecord(sourceOfKafka(topic, partition, m));
    if (parsed.ok) valid.push(toBatchMessage(source, m.timestamp));
    else deadLetters.push(buildDeadLetter(source, parsed, batchId));
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
      deadLetterReasons: countReasons(deadLetters.map((d) => d.row.reason)),
      closedAt: new Date(closedAt).toISOString(),
    },
    deadLetters,
  };
}

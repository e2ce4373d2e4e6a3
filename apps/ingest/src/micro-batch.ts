import type { KafkaMessage } from 'kafkajs';
import {
  batchIdFor,
  countReasons,
  type BatchMessage,
  type SettleBatchInput,
} from '@settlement/contracts';
import type { DeadLetterWrite } from '@settlement/db';
import {
  buildDeadLetter,
  judgeRecord,
  sourceOfKafka,
  toBatchMessage,
  type DeadLetterVerdict,
  type SourceRecord,
} from '@settlement/records';

/** Bytes one message adds to a batch (value, key, offset, timestamp, JSON), for the byte cap. */
export function messageCost(m: KafkaMessage): number {
  return (m.value?.length ?? 0) * 1.1 + (m.key?.length ?? 0) + 96;
}

/**
 * A consumed message judged at arrival and reduced to what its batch needs: a valid one to
 * its staged JSON (one string), a refused one to its source and verdict. A partition's
 * batch in hand then holds one string per message instead of kafkajs's message, buffers and
 * headers (about eight objects, and the fetch response they are views of): the heap and its
 * collector stay small while batches wait for the partition's turn (docs/benchmarks.md).
 */
export interface ArrivedMessage {
  offset: string;
  /** {@link messageCost}: for the byte cap. */
  cost: number;
  /** A valid message: its BatchMessage as JSON, an element of the staged payload. */
  staged?: string;
  /** A refused message, whole, for its dead letter. */
  refused?: { source: SourceRecord; verdict: DeadLetterVerdict };
  /** W3C trace context (text) when the message carries one: a batch continues its first's. */
  trace?: { traceparent?: string; tracestate?: string };
}

export function arrive(topic: string, partition: number, m: KafkaMessage): ArrivedMessage {
  const { source, parsed } = judgeRecord(sourceOfKafka(topic, partition, m));
  const arrived: ArrivedMessage = { offset: m.offset, cost: messageCost(m) };
  if (parsed.ok) arrived.staged = JSON.stringify(toBatchMessage(source, m.timestamp));
  else arrived.refused = { source, verdict: parsed };
  const traceparent = headerText(m, 'traceparent');
  if (traceparent !== undefined) {
    arrived.trace = { traceparent, tracestate: headerText(m, 'tracestate') };
  }
  return arrived;
}

/** Messages as they arrive, judged and reduced ({@link arrive}). */
export function* arrivals(
  topic: string,
  partition: number,
  messages: Iterable<KafkaMessage>,
): Iterable<ArrivedMessage> {
  for (const m of messages) yield arrive(topic, partition, m);
}

export interface FormedBatch {
  input: SettleBatchInput;
  deadLetters: DeadLetterWrite[];
}

/**
 * Turns the messages of one closed micro-batch into the settleBatch input: valid messages
 * as their staged JSON (`stagedMessages`, and as objects in the input when `inline`), refused
 * ones as dead letters (libs/records). The range is [fromOffset, last + 1).
 */
export function formArrivedBatch(
  topic: string,
  partition: number,
  fromOffset: bigint,
  messages: readonly ArrivedMessage[],
  closedAt: number,
  { inline }: { inline: boolean },
): FormedBatch & { stagedMessages: string } {
  const range = rangeOf(topic, partition, fromOffset, messages);
  const valid: string[] = [];
  const deadLetters: DeadLetterWrite[] = [];
  for (const m of messages) {
    if (m.staged !== undefined) valid.push(m.staged);
    else if (m.refused) {
      deadLetters.push(buildDeadLetter(m.refused.source, m.refused.verdict, range.batchId));
    }
  }
  const stagedMessages = `[${valid.join(',')}]`;
  const input = batchInput(range, deadLetters, closedAt);
  if (inline) input.messages = JSON.parse(stagedMessages) as BatchMessage[];
  return { input, stagedMessages, deadLetters };
}

/** {@link formArrivedBatch} straight from kafkajs messages, with the messages in the input. */
export function formBatch(
  topic: string,
  partition: number,
  fromOffset: bigint,
  messages: readonly KafkaMessage[],
  closedAt: number,
): FormedBatch {
  const range = rangeOf(topic, partition, fromOffset, messages);
  const valid: BatchMessage[] = [];
  const deadLetters: DeadLetterWrite[] = [];
  for (const m of messages) {
    const { source, parsed } = judgeRecord(sourceOfKafka(topic, partition, m));
    if (parsed.ok) valid.push(toBatchMessage(source, m.timestamp));
    else deadLetters.push(buildDeadLetter(source, parsed, range.batchId));
  }
  return { input: { ...batchInput(range, deadLetters, closedAt), messages: valid }, deadLetters };
}

interface BatchRange {
  topic: string;
  partition: number;
  fromOffset: string;
  nextOffset: string;
  batchId: string;
}

function rangeOf(
  topic: string,
  partition: number,
  fromOffset: bigint,
  messages: readonly { offset: string }[],
): BatchRange {
  const nextOffset = (BigInt(messages[messages.length - 1].offset) + 1n).toString();
  const from = fromOffset.toString();
  return {
    topic,
    partition,
    fromOffset: from,
    nextOffset,
    batchId: batchIdFor(topic, partition, from, nextOffset),
  };
}

function batchInput(
  { batchId, topic, partition, fromOffset, nextOffset }: BatchRange,
  deadLetters: readonly DeadLetterWrite[],
  closedAt: number,
): SettleBatchInput {
  return {
    batchId,
    topic,
    partition,
    fromOffset,
    nextOffset,
    deadLettered: deadLetters.length,
    deadLetterReasons: countReasons(deadLetters.map((d) => d.row.reason)),
    closedAt: new Date(closedAt).toISOString(),
  };
}

function headerText(m: KafkaMessage, name: string): string | undefined {
  const v = m.headers?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

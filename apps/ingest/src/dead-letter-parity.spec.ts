import type { KafkaMessage } from 'kafkajs';
import { formReplayChunk, type RawMessage } from '@settlement/activities';
import { outboxToKafka, sourceOfKafka } from '@settlement/records';
import { formBatch } from './micro-batch';

/** Bytes that are not UTF-8 in the value, the key and a header; a `__proto__` header. */
const message = (): KafkaMessage => {
  const headers = Object.create(null) as Record<string, Buffer | Buffer[]>;
  headers['__proto__'] = Buffer.from('kept');
  headers.trace = [Buffer.from([0xc3, 0x28]), Buffer.from('second')];
  return {
    offset: '7',
    key: Buffer.from([0x61, 0xff]),
    value: Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x80]),
    timestamp: '1764064800000',
    attributes: 0,
    headers,
  } as unknown as KafkaMessage;
};

describe('a dead letter is the same from ingest and from replay', () => {
  it('publishes byte-identical DLQ records for a non-UTF-8 message', () => {
    const m = message();
    const fromIngest = formBatch('transactions', 2, 7n, [m], 0).deadLetters[0];
    const raw: RawMessage = { ...sourceOfKafka('transactions', 2, m), timestamp: m.timestamp };
    const fromReplay = formReplayChunk(
      {
        replayId: 'r1',
        topic: 'transactions',
        partition: 2,
        fromOffset: '7',
        toOffset: '8',
        mode: 'settle',
      },
      [raw],
      0,
    ).deadLetters[0];

    // As stored in the outbox (JSON) and as sent to Kafka.
    const ingestRecord = outboxToKafka(JSON.parse(JSON.stringify(fromIngest.record)));
    const replayRecord = outboxToKafka(JSON.parse(JSON.stringify(fromReplay.record)));
    expect(ingestRecord.value).toEqual(m.value);
    expect(ingestRecord.key).toEqual(m.key);
    expect(replayRecord.value).toEqual(ingestRecord.value);
    expect(replayRecord.key).toEqual(ingestRecord.key);
    const entries = (r: typeof ingestRecord) =>
      Object.keys(r.headers ?? {}).map((k) => [k, r.headers![k]]);
    expect(entries(replayRecord)).toEqual(entries(ingestRecord));
    expect(Object.keys(ingestRecord.headers ?? {})).toContain('__proto__');
    expect(ingestRecord.headers?.trace).toEqual([Buffer.from([0xc3, 0x28]), Buffer.from('second')]);
    // The rows agree except for the batch each was recorded under.
    expect({ ...fromReplay.row, batchId: null }).toEqual({ ...fromIngest.row, batchId: null });
    expect(JSON.parse(JSON.stringify(fromIngest.row.headers))).toEqual(
      JSON.parse('{"__proto__":"kept","trace":["\\ufffd(","second"]}'),
    );
  });
});

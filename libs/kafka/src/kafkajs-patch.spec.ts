import fc from 'fast-check';

// patches/kafkajs+2.2.4.patch (applied by `npm ci`'s postinstall) makes kafkajs's producer
// write varints in place, take unzeroed pooled buffers, group records per partition in linear
// time and compute CRC-32C eight bytes at a time; these tests hold it to the bytes of the
// original algorithms and to a round trip through kafkajs's own decoder.
/* eslint-disable @typescript-eslint/no-require-imports */
const Encoder = require('kafkajs/src/protocol/encoder') as EncoderClass;
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => {
  offset: number;
  readInt16(): number;
  readInt32(): number;
  readString(): string;
  readVarLong(): { toString(): string };
};
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;
const Long = require('kafkajs/src/utils/long') as { fromValue(v: number | string): unknown };
const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request') as (args: {
  acks: number;
  timeout: number;
  compression: number;
  topicData: { topic: string; partitions: { partition: number; messages: Message[] }[] }[];
}) => { encode(): Promise<{ buffer: Buffer }> };
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  d: unknown,
) => Promise<{ records: { key: Buffer; value: Buffer; headers: Record<string, Buffer> }[] }>;
const groupMessagesPerPartition =
  require('kafkajs/src/producer/groupMessagesPerPartition') as (args: {
    topic: string;
    partitionMetadata: unknown[];
    messages: Message[];
    partitioner: (args: { message: Message }) => number;
  }) => Record<string, Message[]>;
/* eslint-enable @typescript-eslint/no-require-imports */

interface EncoderInstance {
  buffer: Buffer;
  writeVarInt(v: number): EncoderInstance;
  writeUVarInt(v: number): EncoderInstance;
  writeVarLong(v: unknown): EncoderInstance;
}
interface EncoderClass {
  new (): EncoderInstance;
  sizeOfVarLong(v: unknown): number;
}
interface Message {
  key: string;
  value: string;
  headers?: Record<string, string>;
}

/** kafkajs 2.2.4's unsigned varint, as it was before the patch. */
function referenceUVarInt(value: number): Buffer {
  const bytes: number[] = [];
  while ((value & 0xffffff80) !== 0) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value & 0x7f);
  return Buffer.from(bytes);
}

describe('kafkajs patch (patches/kafkajs+2.2.4.patch)', () => {
  it('is applied (npm ci runs patch-package)', () => {
    expect(String(Encoder.prototype.writeUVarInt)).toContain('In place');
  });

  it('writes unsigned varints with the bytes of the original algorithm', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
        expect(new Encoder().writeUVarInt(v).buffer).toEqual(referenceUVarInt(v));
      }),
      { numRuns: 5000 },
    );
  });

  it('writes small varlongs from numbers as the Long path does, and they decode back', () => {
    const edges = [0, 1, -1, 63, -64, 64, -65, 2 ** 30 - 1, -(2 ** 30), 2 ** 30, -(2 ** 30) - 1];
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...edges), fc.integer()), (v) => {
        const fast = new Encoder().writeVarLong(v).buffer;
        expect(fast).toEqual(new Encoder().writeVarLong(Long.fromValue(v)).buffer);
        expect(fast.length).toBe(Encoder.sizeOfVarLong(Long.fromValue(v)));
        expect(Encoder.sizeOfVarLong(v)).toBe(fast.length);
        expect(new Decoder(fast).readVarLong().toString()).toBe(String(v));
      }),
      { numRuns: 5000 },
    );
  });

  it('encodes a produce request whose records decode to what was sent', async () => {
    const messages: Message[] = Array.from({ length: 300 }, (_, i) => ({
      key: `tx-${i}-é`,
      value: JSON.stringify({ id: `tx-${i}`, status: 'SETTLED', pad: 'x'.repeat(i * 7) }),
      headers: { 'dedupe-key': `settlements:tx-${i}:SETTLED` },
    }));
    const { buffer } = await produceV3({
      acks: -1,
      timeout: 30_000,
      compression: 0,
      topicData: [{ topic: 'settlements', partitions: [{ partition: 3, messages }] }],
    }).encode();
    // The request: transactional id, acks, timeout, [topic, [partition, size, record batch]].
    const d = new Decoder(buffer);
    d.readString();
    d.readInt16();
    d.readInt32();
    expect(d.readInt32()).toBe(1);
    expect(d.readString()).toBe('settlements');
    expect(d.readInt32()).toBe(1);
    expect(d.readInt32()).toBe(3);
    const size = d.readInt32();
    const batchBytes = buffer.subarray(d.offset, d.offset + size);
    // The broker checks the CRC-32C of everything after the crc field (offset 17 on).
    expect(batchBytes.readUInt32BE(17)).toBe(crc32C(batchBytes.subarray(21)));
    const batch = await decodeRecordBatch(new Decoder(batchBytes));
    expect(batch.records).toHaveLength(messages.length);
    expect(batch.records.map((r) => r.key.toString())).toEqual(messages.map((m) => m.key));
    expect(batch.records.map((r) => r.value.toString())).toEqual(messages.map((m) => m.value));
    expect(batch.records.map((r) => r.headers['dedupe-key'].toString())).toEqual(
      messages.map((m) => m.headers!['dedupe-key']),
    );
  });

  it("groups a request's messages per partition in their order (linear, no copy per message)", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 7 }), { maxLength: 300 }), (partitions) => {
        const messages = partitions.map((p, i) => ({ key: String(p), value: String(i) }));
        const grouped = groupMessagesPerPartition({
          topic: 't',
          partitionMetadata: [{}],
          messages,
          partitioner: ({ message }) => Number(message.key),
        });
        const expected: Record<string, Message[]> = {};
        for (const m of messages) (expected[m.key] ??= []).push(m);
        expect(grouped).toEqual(expected);
        expect(Object.keys(grouped)).toEqual(Object.keys(expected));
      }),
    );
  });

  it('computes CRC-32C eight bytes at a time with the values of the byte-wise algorithm', () => {
    expect(crc32C(Buffer.from('123456789'))).toBe(0xe3069283); // the standard check value
    const reference = (b: Buffer) => {
      let crc = -1;
      for (const byte of b) {
        crc ^= byte;
        for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
      }
      return (crc ^ -1) >>> 0;
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(crc32C(Buffer.from(bytes))).toBe(reference(Buffer.from(bytes)));
      }),
      { numRuns: 3000 },
    );
  });
});

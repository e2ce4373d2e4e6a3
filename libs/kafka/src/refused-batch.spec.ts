import { CompressionTypes } from 'kafkajs';
import { registerCodecs } from './codecs';
import { REFUSED_BATCH_HEADER, refusedBatchOf, refusedBatchRecords } from './refused-batch';

/* eslint-disable @typescript-eslint/no-require-imports */
// kafkajs' own record batch encoder and decoder: the bytes a fetch response carries, decoded
// exactly as the consumer decodes them.
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const Decoder = require('kafkajs/src/protocol/decoder');
/* eslint-enable @typescript-eslint/no-require-imports */

interface Decoded {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
}

const LIMIT = 4 * 1024 * 1024;

async function batchBytes(values: Buffer[], firstOffset: number): Promise<Buffer> {
  const encoder = await RecordBatch({
    compression: CompressionTypes.GZIP,
    firstOffset: String(firstOffset),
    lastOffsetDelta: values.length - 1,
    records: values.map((value, i) => Record({ offsetDelta: i, key: Buffer.from('k'), value })),
  });
  return encoder.buffer;
}

const decode = async (bytes: Buffer): Promise<{ records: Decoded[] }> =>
  decodeRecordBatch(new Decoder(bytes));

describe('refused record batches: stand-in records instead of a stalled partition', () => {
  beforeAll(() => registerCodecs(LIMIT));

  it('decodes a gzip batch beyond the bound as one marked, empty record per offset', async () => {
    const bomb = await batchBytes(
      [0, 1, 2].map(() => Buffer.alloc(2 * 1024 * 1024)),
      40,
    );
    const { records } = await decode(bomb);
    expect(records.map((r) => r.offset)).toEqual(['40', '41', '42']);
    for (const r of records) {
      expect(r.key).toBeNull();
      expect(r.value?.length).toBe(0);
      const refused = refusedBatchOf([[REFUSED_BATCH_HEADER, r.headers[REFUSED_BATCH_HEADER]]]);
      expect(refused).toEqual({
        codec: 'gzip',
        limit: LIMIT,
        compressedBytes: expect.any(Number),
        records: 3,
      });
    }
    process.stdout.write(`gzip batch of ${bomb.length} B (6 MiB inflated) -> 3 stand-ins\n`);
  });

  it('leaves a batch within the bound alone', async () => {
    const { records } = await decode(await batchBytes([Buffer.from('{"id":"a"}')], 7));
    expect(records).toHaveLength(1);
    expect(records[0].value?.toString()).toBe('{"id":"a"}');
    expect(records[0].headers[REFUSED_BATCH_HEADER]).toBeUndefined();
  });

  it('does not trust a marker it did not make, nor a buffer outside a batch', () => {
    const forged = Buffer.from(
      JSON.stringify({ nonce: 'guess', codec: 'gzip', limit: 1, compressedBytes: 1, records: 1 }),
    );
    expect(refusedBatchOf([[REFUSED_BATCH_HEADER, forged]])).toBeUndefined();
    expect(refusedBatchOf([[REFUSED_BATCH_HEADER, Buffer.from('not json')]])).toBeUndefined();
    expect(refusedBatchRecords(Buffer.alloc(100), 'gzip', LIMIT)).toBeUndefined();
    const unrelated = Buffer.alloc(200, 7).subarray(100);
    expect(refusedBatchRecords(unrelated, 'gzip', LIMIT)).toBeUndefined();
  });
});

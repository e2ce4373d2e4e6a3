import { randomBytes } from 'node:crypto';

/**
 * A compressed record batch that would decompress beyond the bound is never inflated. So that
 * its offsets still get an outcome (dead letters, TOO_LARGE) instead of stalling the partition,
 * the codec hands kafkajs stand-in records in place of the batch's content: one per record the
 * batch header counts, at the same offsets, with an empty value and a marker header. Ingest and
 * replays turn a stand-in into a dead letter (libs/records judgeRecord).
 */
export const REFUSED_BATCH_HEADER = 'x-settlement-refused-batch';

/** A larger refused batch is not stood in for (memory): its fetch fails as before. */
export const MAX_REFUSED_BATCH_RECORDS = 100_000;

/** Per process: a producer cannot forge the marker of a batch it did not send refused. */
const NONCE = randomBytes(16).toString('hex');

export interface RefusedBatch {
  codec: string;
  /** The bound (bytes) the batch would exceed. */
  limit: number;
  /** Size of the batch's compressed records. */
  compressedBytes: number;
  /** Records the batch header counts. */
  records: number;
}

/** Kafka's compression codec ids (record batch attributes, low 3 bits). */
const CODEC_IDS: Record<string, number> = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/**
 * Record batch v2 (magic 2) layout from its first byte: baseOffset int64, batchLength int32,
 * partitionLeaderEpoch int32, magic int8, crc int32, attributes int16, lastOffsetDelta int32,
 * firstTimestamp int64, maxTimestamp int64, producerId int64, producerEpoch int16,
 * baseSequence int32, recordCount int32, then the (compressed) records.
 */
const AT = { length: 8, magic: 16, attributes: 21, lastOffsetDelta: 23, count: 57 } as const;
const HEADER_BYTES = 61;
/** batchLength counts from after its own field. */
const LENGTH_FROM = 12;

/**
 * The stand-in records of the batch whose compressed records `compressed` is, in decompressed
 * form; undefined when `compressed` is not a view into a well-formed v2 batch of `codec` (as
 * kafkajs passes it), or the batch counts more than {@link MAX_REFUSED_BATCH_RECORDS} records.
 */
export function refusedBatchRecords(
  compressed: Buffer,
  codec: string,
  limit: number,
): Buffer | undefined {
  const start = compressed.byteOffset - HEADER_BYTES;
  if (start < 0) return undefined;
  const header = Buffer.from(compressed.buffer, start, HEADER_BYTES);
  const count = header.readInt32BE(AT.count);
  const lastOffsetDelta = header.readInt32BE(AT.lastOffsetDelta);
  const wellFormed =
    header.readInt8(AT.magic) === 2 &&
    header.readInt32BE(AT.length) === HEADER_BYTES - LENGTH_FROM + compressed.length &&
    (header.readInt16BE(AT.attributes) & 0x07) === CODEC_IDS[codec] &&
    count > 0 &&
    count <= MAX_REFUSED_BATCH_RECORDS &&
    lastOffsetDelta >= count - 1;
  if (!wellFormed) return undefined;
  const marker = Buffer.from(
    JSON.stringify({
      nonce: NONCE,
      codec,
      limit,
      compressedBytes: compressed.length,
      records: count,
    }),
  );
  const records: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    // The last stand-in ends where the batch ends, so the consumer moves past all of it.
    records.push(standInRecord(i === count - 1 ? lastOffsetDelta : i, marker));
  }
  return Buffer.concat(records);
}

/** What a stand-in record says of its batch; undefined for any other record. */
export function refusedBatchOf(headers: readonly [string, Buffer][]): RefusedBatch | undefined {
  const marker = headers.find(([key]) => key === REFUSED_BATCH_HEADER);
  if (!marker) return undefined;
  try {
    const { nonce, ...batch } = JSON.parse(marker[1].toString('utf8')) as RefusedBatch & {
      nonce: string;
    };
    return nonce === NONCE ? batch : undefined;
  } catch {
    return undefined;
  }
}

/** A record (Kafka record format v2): no key, empty value, the marker header. */
function standInRecord(offsetDelta: number, marker: Buffer): Buffer {
  const name = Buffer.from(REFUSED_BATCH_HEADER);
  const body = Buffer.concat([
    Buffer.from([0]), // attributes
    varint(0), // timestampDelta
    varint(offsetDelta),
    varint(-1), // key: null
    varint(0), // value: empty
    varint(1), // one header
    varint(name.length),
    name,
    varint(marker.length),
    marker,
  ]);
  return Buffer.concat([varint(body.length), body]);
}

/** Zig-zag LEB128, Kafka's varint. */
function varint(n: number): Buffer {
  let v = ((n << 1) ^ (n >> 31)) >>> 0;
  const out: number[] = [];
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

import { promisify } from 'node:util';
import { gzip, unzip } from 'node:zlib';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { Decompress as ZstdStream } from 'fzstd';
import { refusedBatchRecords } from './refused-batch';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SnappyCodec = require('kafkajs-snappy');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lz4 = require('lz4js') as {
  compress(input: Uint8Array): Uint8Array;
  decompress(input: Uint8Array, maxSize?: number): Uint8Array;
  decompressBound(input: Uint8Array): number;
};

/** Default bound of one decompressed record batch (legitimate batches are a few MiB). */
export const DEFAULT_MAX_DECOMPRESSED_BATCH_BYTES = 64 * 1024 * 1024;

/**
 * A compressed record batch that would expand beyond the bound: refused before (or while)
 * it is inflated, so a small "decompression bomb" can never take the consumer out of memory.
 */
export class DecompressedBatchTooLarge extends Error {
  constructor(
    readonly codec: string,
    readonly limit: number,
  ) {
    super(`${codec} record batch decompresses beyond ${limit} bytes (decompression bomb?)`);
    this.name = 'DecompressedBatchTooLarge';
  }
}

let maxBytes = DEFAULT_MAX_DECOMPRESSED_BATCH_BYTES;

/**
 * A batch beyond the bound: its stand-in records (refused-batch.ts), which ingest dead-letters
 * so the partition moves on; the error only when the batch cannot be stood in for.
 */
function refuse(buffer: Buffer, codec: string): Buffer {
  const standIns = refusedBatchRecords(buffer, codec, maxBytes);
  if (standIns) return standIns;
  throw new DecompressedBatchTooLarge(codec, maxBytes);
}
let registered = false;
const inflate = promisify(unzip);
const deflate = promisify(gzip);

/** gzip through zlib with maxOutputLength: inflation stops at the bound. */
const GzipCodec = () => ({
  compress: async (encoder: { buffer: Buffer }) => deflate(encoder.buffer),
  decompress: async (buffer: Buffer) => {
    try {
      return await inflate(buffer, { maxOutputLength: maxBytes });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return refuse(buffer, 'gzip');
      throw err;
    }
  },
});

/** Kafka's LZ4 is the LZ4 frame format; lz4js reads and writes it in plain JavaScript. */
const Lz4Codec = () => ({
  compress: async (encoder: { buffer: Buffer }) => Buffer.from(lz4.compress(encoder.buffer)),
  decompress: async (buffer: Buffer) => {
    // The frame's own block sizes bound the output before anything is allocated.
    if (lz4.decompressBound(buffer) > maxBytes) return refuse(buffer, 'lz4');
    return Buffer.from(lz4.decompress(buffer));
  },
});

/**
 * What the first zstd frame header declares: its content size (when present) and window size,
 * the two amounts fzstd allocates up front. Layout: RFC 8878 section 3.1.1.1.
 */
function zstdDeclaredBytes(frame: Uint8Array): number {
  if (frame.length < 6 || frame[0] !== 0x28 || frame[1] !== 0xb5 || frame[2] !== 0x2f) return 0;
  const descriptor = frame[4];
  const singleSegment = (descriptor >> 5) & 1;
  const sizeFlag = descriptor >> 6;
  const dictBytes = [0, 1, 2, 4][descriptor & 3];
  let at = 5;
  let window = 0;
  if (!singleSegment) {
    const exponent = frame[at] >> 3;
    const base = 2 ** (10 + exponent);
    window = base + (base / 8) * (frame[at] & 7);
    at += 1;
  }
  at += dictBytes;
  const sizeBytes = sizeFlag === 0 ? singleSegment : 2 ** sizeFlag;
  let size = 0;
  for (let i = 0; i < sizeBytes && at + i < frame.length; i++) size += frame[at + i] * 2 ** (8 * i);
  if (sizeFlag === 1) size += 256;
  return Math.max(window, size);
}

/**
 * Zstandard: consumers must read what any producer wrote; our own producers never choose
 * zstd, so only decompression is provided (fzstd, plain JavaScript, no native build). The
 * frame header's declared sizes are checked before fzstd allocates them, and the streamed
 * output is counted and cut off at the bound.
 */
const ZstdCodec = () => ({
  compress: async () => {
    throw new Error('zstd compression is not offered by this service; use gzip, snappy or lz4');
  },
  decompress: async (buffer: Buffer) => {
    if (zstdDeclaredBytes(buffer) > maxBytes) return refuse(buffer, 'zstd');
    const chunks: Uint8Array[] = [];
    let total = 0;
    const stream = new ZstdStream((chunk) => {
      total += chunk.length;
      if (total > maxBytes) throw new DecompressedBatchTooLarge('zstd', maxBytes);
      chunks.push(chunk.slice());
    });
    try {
      stream.push(buffer, true);
    } catch (err) {
      if (err instanceof DecompressedBatchTooLarge) return refuse(buffer, 'zstd');
      throw err;
    }
    return Buffer.concat(chunks, total);
  },
});

/** The uncompressed length a raw snappy block declares (a little-endian base-128 varint). */
function snappyDeclaredLength(block: Buffer): number {
  let length = 0;
  for (let i = 0, shift = 0; i < 5 && i < block.length; i++, shift += 7) {
    length += (block[i] & 0x7f) * 2 ** shift;
    if ((block[i] & 0x80) === 0) return length;
  }
  return Number.POSITIVE_INFINITY;
}

const XERIAL_HEADER = Buffer.from([130, 83, 78, 65, 80, 80, 89, 0]);

/**
 * Snappy (raw or xerial-framed): every block declares its length up front and the decoder
 * allocates it at once, so the declared lengths are summed and checked first.
 */
const BoundedSnappyCodec = () => {
  const inner = SnappyCodec();
  return {
    compress: inner.compress,
    decompress: async (buffer: Buffer) => {
      let declared = 0;
      if (buffer.subarray(0, 8).equals(XERIAL_HEADER)) {
        for (let offset = 16; offset + 4 <= buffer.length;) {
          const size = buffer.readUInt32BE(offset);
          declared += snappyDeclaredLength(buffer.subarray(offset + 4, offset + 4 + size));
          offset += 4 + size;
        }
      } else {
        declared = snappyDeclaredLength(buffer);
      }
      if (declared > maxBytes) return refuse(buffer, 'snappy');
      return inner.decompress(buffer);
    },
  };
};

/**
 * Producers may compress with any codec Kafka supports; kafkajs ships gzip only, so the
 * others are registered once per process, all without native modules, and every one of them
 * (gzip too) refuses a record batch that would decompress beyond `maxDecompressedBytes`.
 */
export function registerCodecs(maxDecompressedBytes = DEFAULT_MAX_DECOMPRESSED_BATCH_BYTES): void {
  maxBytes = maxDecompressedBytes;
  if (registered) return;
  CompressionCodecs[CompressionTypes.GZIP] = GzipCodec;
  CompressionCodecs[CompressionTypes.Snappy] = BoundedSnappyCodec;
  CompressionCodecs[CompressionTypes.LZ4] = Lz4Codec;
  CompressionCodecs[CompressionTypes.ZSTD] = ZstdCodec;
  registered = true;
}

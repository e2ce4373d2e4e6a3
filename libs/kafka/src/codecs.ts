import { promisify } from 'node:util';
import { gzip, unzip } from 'node:zlib';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { decompress as zstdDecompress } from 'fzstd';
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
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new DecompressedBatchTooLarge('gzip', maxBytes);
      }
      throw err;
    }
  },
});

/** Kafka's LZ4 is the LZ4 frame format; lz4js reads and writes it in plain JavaScript. */
const Lz4Codec = () => ({
  compress: async (encoder: { buffer: Buffer }) => Buffer.from(lz4.compress(encoder.buffer)),
  decompress: async (buffer: Buffer) => {
    // The frame's own block sizes bound the output before anything is allocated.
    if (lz4.decompressBound(buffer) > maxBytes)
      throw new DecompressedBatchTooLarge('lz4', maxBytes);
    return Buffer.from(lz4.decompress(buffer));
  },
});

/**
 * Zstandard: consumers must read what any producer wrote; our own producers never choose
 * zstd, so only decompression is provided (fzstd, plain JavaScript, no native build). fzstd
 * writes into the buffer it is given and stops at (or throws a RangeError past) its end, so one byte more than the bound
 * tells a bomb apart; untouched pages of that buffer are never resident.
 */
const ZstdCodec = () => ({
  compress: async () => {
    throw new Error('zstd compression is not offered by this service; use gzip, snappy or lz4');
  },
  decompress: async (buffer: Buffer) => {
    let out: Uint8Array;
    try {
      out = zstdDecompress(buffer, new Uint8Array(maxBytes + 1));
    } catch (err) {
      // A copy past the end of the given buffer: the output would exceed it.
      if ((err as Error)?.name === 'RangeError')
        throw new DecompressedBatchTooLarge('zstd', maxBytes);
      throw err;
    }
    if (out.length > maxBytes) throw new DecompressedBatchTooLarge('zstd', maxBytes);
    return Buffer.from(out);
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
      if (declared > maxBytes) throw new DecompressedBatchTooLarge('snappy', maxBytes);
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

import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { decompress as zstdDecompress } from 'fzstd';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SnappyCodec = require('kafkajs-snappy');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lz4 = require('lz4js') as {
  compress(input: Uint8Array): Uint8Array;
  decompress(input: Uint8Array): Uint8Array;
};

let registered = false;

/** Kafka's LZ4 is the LZ4 frame format; lz4js reads and writes it in plain JavaScript. */
const Lz4Codec = () => ({
  compress: async (encoder: { buffer: Buffer }) => Buffer.from(lz4.compress(encoder.buffer)),
  decompress: async (buffer: Buffer) => Buffer.from(lz4.decompress(buffer)),
});

/**
 * Zstandard: consumers must read what any producer wrote; our own producers never choose
 * zstd, so only decompression is provided (fzstd, plain JavaScript, no native build).
 */
const ZstdCodec = () => ({
  compress: async () => {
    throw new Error('zstd compression is not offered by this service; use gzip, snappy or lz4');
  },
  decompress: async (buffer: Buffer) => Buffer.from(zstdDecompress(buffer)),
});

/**
 * Producers may compress with any codec Kafka supports; kafkajs ships gzip only, so the
 * others are registered once per process, all without native modules.
 */
export function registerCodecs(): void {
  if (registered) return;
  CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
  CompressionCodecs[CompressionTypes.LZ4] = Lz4Codec;
  CompressionCodecs[CompressionTypes.ZSTD] = ZstdCodec;
  registered = true;
}

import { CompressionCodecs, CompressionTypes } from 'kafkajs';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SnappyCodec = require('kafkajs-snappy');

let registered = false;

/**
 * Producers may compress with any codec Kafka supports; kafkajs ships gzip only, so the
 * others are registered once per process.
 */
export function registerCodecs(): void {
  if (registered) return;
  CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
  registered = true;
}

import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { DecompressedBatchTooLarge, registerCodecs } from './codecs';

const LIMIT = 4 * 1024 * 1024;
type Codec = { decompress(b: Buffer): Promise<Buffer> };
const codec = (type: CompressionTypes) =>
  (CompressionCodecs as unknown as Record<number, () => Codec>)[type]();

describe('bounded decompression of record batches', () => {
  beforeAll(() => registerCodecs(LIMIT));

  it('inflates a legitimate gzip batch and refuses a gzip bomb without inflating it', async () => {
    const ok = Buffer.alloc(LIMIT - 1, 'x');
    expect((await codec(CompressionTypes.GZIP).decompress(gzipSync(ok))).length).toBe(ok.length);
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const rssBefore = process.memoryUsage().rss;
    await expect(codec(CompressionTypes.GZIP).decompress(bomb)).rejects.toBeInstanceOf(
      DecompressedBatchTooLarge,
    );
    const grewMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    process.stdout.write(
      `gzip bomb ${bomb.length} B -> refused; rss grew ${grewMb.toFixed(1)} MiB\n`,
    );
    expect(grewMb).toBeLessThan(48);
  });

  it('refuses a zstd bomb (zstd CLI output, content size declared or not) with flat memory', async () => {
    // test/fixtures/bombs: 64 MiB of zeros by `zstd -19`, from a file (frame declares its size) and from a pipe (it does not).
    for (const file of ['zeros-64MiB.zst', 'zeros-64MiB-no-size.zst']) {
      const bomb = readFileSync(join(__dirname, '../../../test/fixtures/bombs', file));
      const rssBefore = process.memoryUsage().rss;
      await expect(codec(CompressionTypes.ZSTD).decompress(bomb)).rejects.toBeInstanceOf(
        DecompressedBatchTooLarge,
      );
      const grewMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
      process.stdout.write(
        `zstd bomb ${bomb.length} B (${file}) -> refused; rss grew ${grewMb.toFixed(1)} MiB\n`,
      );
      expect(grewMb).toBeLessThan(48);
    }
  });

  it('refuses snappy blocks that declare more than the bound before allocating them', async () => {
    // A raw snappy block declaring 4 GiB (varint ff ff ff ff 0f) followed by nothing.
    const declared = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    await expect(codec(CompressionTypes.Snappy).decompress(declared)).rejects.toBeInstanceOf(
      DecompressedBatchTooLarge,
    );
  });
});

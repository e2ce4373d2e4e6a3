import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { KeyHashPartitioner, murmur2 } from './partitioner';

// kafkajs's own (Long-based) implementation is the reference: the same hash places a key on
// the same partition as every Java-compatible client.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const reference = require('kafkajs/src/producer/partitioners/default/murmur2') as (
  key: string | Buffer,
) => number;

const metadata = (n: number, leaderless: number[] = []): PartitionerArgs['partitionMetadata'] =>
  Array.from({ length: n }, (_, i) => ({
    partitionId: i,
    leader: leaderless.includes(i) ? -1 : 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));

describe('murmur2', () => {
  it("matches Kafka's values for known keys", () => {
    // Values of org.apache.kafka.common.utils.Utils.murmur2 (the Java client's tests).
    expect(murmur2('21')).toBe(-973932308);
    expect(murmur2('foobar')).toBe(-790332482);
    expect(murmur2('a-little-bit-long-string')).toBe(-985981536);
    expect(murmur2('a-little-bit-longer-string')).toBe(-1486304829);
    expect(murmur2('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')).toBe(-58897971);
    expect(murmur2('abc')).toBe(479470107);
  });

  it("equals kafkajs's murmur2 on any string or bytes", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.uint8Array()), (k) => {
        const key = typeof k === 'string' ? k : Buffer.from(k);
        expect(murmur2(key)).toBe(reference(key));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('KeyHashPartitioner', () => {
  it("places keyed records where kafkajs's DefaultPartitioner does", () => {
    const ours = KeyHashPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (const n of [1, 3, 8, 12]) {
      for (let i = 0; i < 500; i++) {
        const message = { key: randomBytes(1 + (i % 40)).toString('base64'), value: 'v' };
        const args = { topic: 't', partitionMetadata: metadata(n), message };
        expect(ours(args)).toBe(theirs(args));
      }
    }
  });

  it('keeps a given partition, and spreads keyless records over partitions with a leader', () => {
    const partition = KeyHashPartitioner();
    const partitionMetadata = metadata(4, [2]);
    expect(
      partition({ topic: 't', partitionMetadata, message: { value: 'v', partition: 2 } }),
    ).toBe(2);
    const seen = new Set<number>();
    for (let i = 0; i < 12; i++)
      seen.add(partition({ topic: 't', partitionMetadata, message: { key: null, value: 'v' } }));
    expect([...seen].sort()).toEqual([0, 1, 3]);
  });
});

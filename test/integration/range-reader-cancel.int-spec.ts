import { randomBytes } from 'node:crypto';
import { AssignerProtocol, type Admin, type Kafka } from 'kafkajs';
import { readPartitionRange } from '@settlement/records';
import { waitFor } from './support/apps';
import { testKafka } from './support/kafka';

/**
 * The replay's range reader cancelled on the real broker (the replay activity passes it the
 * activity's cancellation signal): it stops with the signal's reason and its consumer leaves
 * its throwaway group, instead of reading on for a chunk no one waits for.
 */
const hex = () => randomBytes(4).toString('hex');

/**
 * Whether a member's metadata subscribes it to `topic`. Other users of a shared broker have
 * groups mid-rebalance (empty metadata) or of other protocols: not ours, never an error.
 */
function subscribesTo(memberMetadata: Buffer, topic: string): boolean {
  try {
    return AssignerProtocol.MemberMetadata.decode(memberMetadata)?.topics.includes(topic) ?? false;
  } catch {
    return false;
  }
}

/** The reader groups with a member subscribed to `topic` (each test has its own topic). */
async function readersOf(admin: Admin, topic: string): Promise<string[]> {
  const ids = (await admin.listGroups()).groups
    .map((g) => g.groupId)
    .filter((id) => id.startsWith('replay-reader-'));
  if (ids.length === 0) return [];
  const { groups } = await admin.describeGroups(ids);
  return groups
    .filter((g) => g.members.some((m) => subscribesTo(m.memberMetadata, topic)))
    .map((g) => g.groupId);
}

describe('the partition range reader, cancelled, on the real broker', () => {
  let kafka: Kafka;
  let admin: Admin;
  const topic = `it-range-cancel-${hex()}`;

  beforeAll(async () => {
    kafka = testKafka('range-reader-cancel');
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [0, 1, 2, 3, 4].map((i) => ({ partition: 0, key: 'k', value: `m${i}` })),
    });
    await producer.disconnect();
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('stops a read waiting at an open transaction, with the reason, and leaves its group', async () => {
    // Offsets 5-7 sit in a transaction left open: a read-committed reader of [0, 8) waits there.
    const transactional = kafka.producer({
      transactionalId: `it-range-cancel-${hex()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await transactional.connect();
    const open = await transactional.transaction();
    try {
      await open.send({
        topic,
        messages: [5, 6, 7].map((i) => ({ partition: 0, key: 'k', value: `m${i}` })),
      });
      const cancel = new AbortController();
      const reason = new Error('chunk cancelled');
      const started = Date.now();
      const reading = readPartitionRange(kafka, topic, 0, 0n, 8n, 60_000, cancel.signal);
      reading.catch(() => undefined); // observed below
      await waitFor('the reader to join its group', async () =>
        (await readersOf(admin, topic)).length > 0 ? true : undefined,
      );
      cancel.abort(reason);
      await expect(reading).rejects.toBe(reason);
      const stoppedMs = Date.now() - started;
      process.stdout.write(`the cancelled read stopped ${stoppedMs} ms after it started\n`);
      expect(stoppedMs).toBeLessThan(50_000); // its own timeout is 60 s
      expect(await readersOf(admin, topic)).toEqual([]);
    } finally {
      await open.abort();
      await transactional.disconnect();
    }
  });

  it('a read cancelled before it starts joins no group', async () => {
    const cancel = new AbortController();
    const reason = new Error('cancelled before the read');
    cancel.abort(reason);
    await expect(readPartitionRange(kafka, topic, 0, 0n, 5n, 60_000, cancel.signal)).rejects.toBe(
      reason,
    );
    expect(await readersOf(admin, topic)).toEqual([]);
  });
});

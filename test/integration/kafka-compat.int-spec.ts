// kafkajs 2.2.4 against the real Kafka 4.x broker of `npm run stack:up`.
// Kafka 4.0 removed old protocol versions (KIP-896); these checks pin down that every API the
// ingest, admin and replay code relies on still negotiates. Findings: docs/kafka-client.md.
import { randomUUID } from 'node:crypto';
import {
  Admin,
  CompressionTypes,
  Consumer,
  EachBatchPayload,
  Kafka,
  logLevel,
  Producer,
} from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

describe('kafkajs 2.2.4 against Kafka 4 (KIP-896)', () => {
  const kafka = new Kafka({ clientId: 'kafka-compat-test', brokers, logLevel: logLevel.NOTHING });
  const run = randomUUID().slice(0, 8);
  const topic = `compat-${run}`;
  const groupId = `compat-group-${run}`;
  let admin: Admin;
  let producer: Producer;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
  });

  afterAll(async () => {
    for (const c of consumers) await c.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await admin?.deleteGroups([groupId]).catch(() => undefined);
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
  });

  it('admin: describes the cluster and creates a topic with partitions', async () => {
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.length).toBeGreaterThanOrEqual(1);
    expect(
      await admin.createTopics({
        topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
        waitForLeaders: true,
      }),
    ).toBe(true);
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]?.partitions).toHaveLength(3);
  });

  it('produces plain and gzip-compressed batches with keys and headers', async () => {
    const batch = (codec: string) =>
      Array.from({ length: 50 }, (_, i) => ({
        key: `acct-${i % 5}`,
        value: JSON.stringify({ id: `${codec}-${i}`, amount: String(i + 1) }),
        headers: { codec, seq: String(i) },
      }));
    const plain = await producer.send({ topic, acks: -1, messages: batch('none') });
    const gzip = await producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: batch('gzip'),
    });
    expect(plain.every((r) => r.errorCode === 0)).toBe(true);
    expect(gzip.every((r) => r.errorCode === 0)).toBe(true);
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(100);
  });

  it('joins a consumer group, reads every message in order per key, and commits offsets manually', async () => {
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: { key: string; codec: string; seq: number }[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset, heartbeat }: EachBatchPayload) => {
            for (const m of batch.messages) {
              seen.push({
                key: m.key?.toString() ?? '',
                codec: m.headers?.codec?.toString() ?? '',
                seq: Number(m.headers?.seq?.toString()),
              });
              resolveOffset(m.offset);
            }
            const last = batch.messages[batch.messages.length - 1];
            if (last) {
              await consumer.commitOffsets([
                {
                  topic,
                  partition: batch.partition,
                  offset: (BigInt(last.offset) + 1n).toString(),
                },
              ]);
            }
            await heartbeat();
            if (seen.length >= 100) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.stop();

    expect(seen).toHaveLength(100);
    expect(seen.filter((s) => s.codec === 'gzip')).toHaveLength(50);
    // Order per key: within each codec run, the sequence numbers of one key only increase.
    for (const codec of ['none', 'gzip']) {
      for (let k = 0; k < 5; k++) {
        const seqs = seen
          .filter((s) => s.codec === codec && s.key === `acct-${k}`)
          .map((s) => s.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
    }

    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const total = committed[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    expect(total).toBe(100);
    const end = await admin.fetchTopicOffsets(topic);
    const lag = end.reduce((sum, p) => {
      const c = committed[0]?.partitions.find((x) => x.partition === p.partition);
      return sum + Number(p.high) - Number(c?.offset ?? 0);
    }, 0);
    expect(lag).toBe(0);
  });

  it('admin: describes the group, resets its offsets and looks offsets up by timestamp', async () => {
    const groups = await admin.describeGroups([groupId]);
    expect(groups.groups[0]?.groupId).toBe(groupId);
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '0' }] });
    const after = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(after[0]?.partitions.find((p) => p.partition === 0)?.offset).toBe('0');
    const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - 60 * 60 * 1000);
    expect(byTime).toHaveLength(3);
    expect(byTime.every((p) => p.offset === '0')).toBe(true);
  });

  it('a consumer that seeks re-reads from an explicit offset (replay path)', async () => {
    const consumer = kafka.consumer({ groupId: `${groupId}-seek` });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    let count = 0;
    const done = new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async () => {
            count++;
            if (count >= 1) resolve();
          },
        })
        .catch(reject);
    });
    for (const p of [0, 1, 2]) consumer.seek({ topic, partition: p, offset: '0' });
    await done;
    await consumer.stop();
    await admin.deleteGroups([`${groupId}-seek`]).catch(() => undefined);
    expect(count).toBeGreaterThanOrEqual(1);
  });

  it('idempotent producer (InitProducerId) works', async () => {
    const idem = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await idem.connect();
    try {
      const res = await idem.send({
        topic,
        acks: -1,
        messages: [{ key: 'acct-0', value: 'idempotent' }],
      });
      expect(res[0]?.errorCode).toBe(0);
    } finally {
      await idem.disconnect();
    }
  });
});

import type { Admin } from 'kafkajs';
import { createTopics, javaProduce, readTopic, testKafka } from './support/kafka';

describe('messages compressed by a Java producer with every codec Kafka supports', () => {
  const kafka = testKafka('codec-test');
  let admin: Admin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(() => admin.disconnect());

  it.each(['gzip', 'snappy', 'lz4', 'zstd'])('reads %s batches byte for byte', async (codec) => {
    const { transactions: topic } = await createTopics(admin, `codec-${codec}`);
    const values = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({
        id: `${codec}-${i}`,
        debitAccount: `acct-${i % 7}`,
        amount: String(i + 1),
        reference: 'é€😀',
      }),
    );
    javaProduce(
      topic,
      codec,
      values.map((v, i) => `acct-${i % 7}|${v}`),
    );
    const read = await readTopic(kafka, topic, values.length);
    expect(read.map((m) => m.value).sort()).toEqual([...values].sort());
    expect(read.every((m) => m.key === JSON.parse(m.value).debitAccount)).toBe(true);
  });
});

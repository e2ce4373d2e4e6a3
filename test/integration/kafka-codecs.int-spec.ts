import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { Admin } from 'kafkajs';
import { createTopics, KAFKA_BROKERS, readTopic, testKafka } from './support/kafka';

// The same jars `npm run stack:up` runs the broker from (scripts/stack/lib.sh).
const KAFKA_LIBS = path.join(
  process.env.SETTLEMENT_CACHE ?? path.join(os.homedir(), '.cache/settlement-stack'),
  `kafka-${process.env.STACK_KAFKA_VERSION ?? '4.1.1'}`,
  'libs',
);

/** Produces with Apache Kafka's own Java producer, compressed with the given codec. */
function javaProduce(topic: string, codec: string, lines: string[]): void {
  execFileSync(
    'java',
    [
      '-Xmx256m',
      '-cp',
      `${KAFKA_LIBS}/*`,
      'org.apache.kafka.tools.ConsoleProducer',
      '--bootstrap-server',
      KAFKA_BROKERS[0],
      '--topic',
      topic,
      '--compression-codec',
      codec,
      '--property',
      'parse.key=true',
      '--property',
      'key.separator=|',
    ],
    { input: lines.join('\n') + '\n', timeout: 60_000, stdio: ['pipe', 'ignore', 'pipe'] },
  );
}

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

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { registerCodecs } from '@settlement/kafka';

export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

export function testKafka(clientId = 'integration-test'): Kafka {
  registerCodecs();
  return new Kafka({ clientId, brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
}

// The same jars `npm run stack:up` runs the broker from (scripts/stack/lib.sh).
const KAFKA_LIBS = path.join(
  process.env.SETTLEMENT_CACHE ?? path.join(os.homedir(), '.cache/settlement-stack'),
  `kafka-${process.env.STACK_KAFKA_VERSION ?? '4.1.1'}`,
  'libs',
);

/**
 * Produces `key|value` lines with Apache Kafka's own Java producer (not kafkajs), compressed
 * with the given codec; `producerProperties` are producer configs (e.g. size limits).
 */
export function javaProduce(
  topic: string,
  codec: string,
  lines: string[],
  options: { producerProperties?: Record<string, string>; heapMb?: number } = {},
): void {
  const properties = Object.entries(options.producerProperties ?? {}).flatMap(([k, v]) => [
    '--producer-property',
    `${k}=${v}`,
  ]);
  execFileSync(
    'java',
    [
      `-Xmx${options.heapMb ?? 256}m`,
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
      ...properties,
    ],
    {
      input: lines.join('\n') + '\n',
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
      stdio: ['pipe', 'ignore', 'pipe'],
    },
  );
}

/** Topics of the test's own on the real broker, so tests never read each other's messages. */
export async function createTopics(
  admin: Admin,
  label: string,
  partitions = 1,
): Promise<{ transactions: string; outcomes: string; deadLetters: string }> {
  const suffix = `${label}-${randomBytes(4).toString('hex')}`;
  const topics = {
    transactions: `it-transactions-${suffix}`,
    outcomes: `it-settlements-${suffix}`,
    deadLetters: `it-dlq-${suffix}`,
  };
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.values(topics).map((topic) => ({
      topic,
      numPartitions: partitions,
      replicationFactor: 1,
    })),
  });
  return topics;
}

/** Reads every message of a topic from the beginning until `count` arrived or the time is up. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<{ key: string | null; value: string; headers: Record<string, string> }[]> {
  const consumer = kafka.consumer({ groupId: `reader-${randomBytes(4).toString('hex')}` });
  const out: { key: string | null; value: string; headers: Record<string, string> }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    void consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        out.push({
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? '',
          headers,
        });
        if (out.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
}

#!/usr/bin/env node
// Kafka health check used by scripts/stack/up.sh: ensures the topics exist, then does a real
// produce -> consume round trip (fresh consumer group, committed offset) through kafkajs.
// Usage: node scripts/stack/kafka-check.js <broker> [topic:partitions ...]
// Exit 0 = healthy; 2 = kafkajs not installed (caller falls back to the Java tools); 1 = failure.
'use strict';

let kafkajs;
try {
  kafkajs = require('kafkajs');
} catch {
  process.exit(2);
}
const { Kafka, logLevel } = kafkajs;

const broker = process.argv[2] || '127.0.0.1:9092';
const topics = process.argv.slice(3).map((t) => {
  const [topic, n] = t.split(':');
  return { topic, numPartitions: Number(n || 1), replicationFactor: 1 };
});
const HEALTH_TOPIC = '_stack_health';
const deadline = setTimeout(() => {
  process.stderr.write('kafka-check: timed out after 45s\n');
  process.exit(1);
}, 45_000);

async function main() {
  const kafka = new Kafka({
    clientId: 'stack-health',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 3, initialRetryTime: 200 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = [...topics, { topic: HEALTH_TOPIC, numPartitions: 1, replicationFactor: 1 }];
    const missing = wanted.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin.createTopics({ topics: missing, waitForLeaders: true });
      process.stdout.write(
        `created topics: ${missing.map((t) => `${t.topic}(${t.numPartitions})`).join(', ')}\n`,
      );
    }
  } finally {
    await admin.disconnect();
  }

  const marker = `ping-${process.pid}-${Date.now()}`;
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({
    topic: HEALTH_TOPIC,
    acks: -1,
    messages: [{ key: 'health', value: marker }],
  });
  await producer.disconnect();

  const groupId = `stack-health-${process.pid}-${Date.now()}`;
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000 });
  await consumer.connect();
  await consumer.subscribe({ topic: HEALTH_TOPIC, fromBeginning: true });
  await new Promise((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          if (message.value && message.value.toString() === marker) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.stop();
  await consumer.disconnect();
  // Leave no trace of the throwaway group.
  const admin2 = kafka.admin();
  await admin2.connect();
  await admin2.deleteGroups([groupId]).catch(() => undefined);
  await admin2.disconnect();
}

main().then(
  () => {
    clearTimeout(deadline);
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`kafka-check: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);

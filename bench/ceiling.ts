/* Bench only: the ledger-ceiling scenario. One process reads the topic with kafkajs, forms
 * and validates micro-batches with ingest's formBatch, settles each with the production
 * settleBatch (same set-based statements, same partition cursor) and publishes its outcomes,
 * then commits the offsets: the settlement pipeline without Temporal, staging or a second
 * process. What micro-batch costs beyond this is orchestration. */
import 'reflect-metadata';
import { type KafkaMessage } from 'kafkajs';
import { loadConfig } from '@settlement/config';
import { createDatabase, ensureCursor, recordDeadLetters } from '@settlement/db';
import { createKafka, KeyHashPartitioner } from '@settlement/kafka';
import { createLogger } from '@settlement/observability';
import { publishOutcomes, settleBatch } from '@settlement/activities';
import { formBatch } from '../apps/ingest/src/micro-batch';

async function main(): Promise<void> {
  const config = loadConfig(['kafka', 'database', 'ingest']);
  const logger = createLogger('bench-ceiling', 'warn');
  const database = createDatabase({ url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX });
  const db = database.db;
  const kafka = createKafka(config, logger, 'bench-ceiling');
  const producer = kafka.producer({ createPartitioner: KeyHashPartitioner });
  await producer.connect();
  const admin = kafka.admin();
  await admin.connect();
  const meta = await admin.fetchTopicMetadata({ topics: [config.KAFKA_TOPIC] });
  await admin.disconnect();
  const topics = { outcomes: config.KAFKA_OUTCOME_TOPIC, deadLetters: config.KAFKA_DLQ_TOPIC };
  const cursors = new Map<number, bigint>();
  const consumer = kafka.consumer({
    groupId: config.KAFKA_GROUP_ID,
    maxBytesPerPartition: config.INGEST_MAX_BYTES_PER_PARTITION,
    maxBytes: config.INGEST_MAX_BYTES,
    maxWaitTimeInMs: Math.min(config.BATCH_MAX_WAIT_MS, 500),
  });

  const settleChunk = async (topic: string, partition: number, messages: KafkaMessage[]) => {
    let from = cursors.get(partition);
    if (from === undefined) {
      from = BigInt(messages[0].offset);
      await ensureCursor(db, topic, partition, from.toString());
    }
    const { input, deadLetters } = formBatch(topic, partition, from, messages, Date.now());
    // Dead letters go through the outbox like in ingest; publishOutcomes sends them.
    await recordDeadLetters(db, input.batchId, config.KAFKA_DLQ_TOPIC, deadLetters);
    await settleBatch({ db, topics }, input, `ceiling-${input.batchId}`);
    await publishOutcomes({ db, producer }, input.batchId);
    cursors.set(partition, BigInt(input.nextOffset));
    return input.nextOffset;
  };

  await consumer.connect();
  await consumer.subscribe({ topics: [config.KAFKA_TOPIC], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: meta.topics[0]?.partitions.length ?? 1,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      const size = config.BATCH_MAX_SIZE;
      for (let i = 0; i < batch.messages.length; i += size) {
        const chunk = batch.messages.slice(i, i + size);
        const next = await settleChunk(batch.topic, batch.partition, chunk);
        resolveOffset(chunk[chunk.length - 1].offset);
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: next },
        ]);
        await heartbeat();
      }
    },
  });
  const stop = async () => {
    await consumer.disconnect();
    await producer.disconnect();
    await database.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});

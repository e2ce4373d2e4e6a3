/* Bench only: reads the topic and starts one settleTransaction workflow per message
 * (workflow id = topic-partition-offset), committing offsets after the starts. */
import { loadConfig } from '@settlement/config';
import { createKafka } from '@settlement/kafka';
import { createLogger } from '@settlement/observability';
import { createTemporalClient } from '@settlement/temporal';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';

async function main(): Promise<void> {
  const config = loadConfig(['kafka', 'temporal']);
  const kafka = createKafka(config, createLogger('bench-per-tx-ingest', 'warn'), 'bench-ingest');
  const client = await createTemporalClient(config);
  const consumer = kafka.consumer({ groupId: config.KAFKA_GROUP_ID });
  await consumer.connect();
  await consumer.subscribe({ topics: [config.KAFKA_TOPIC], fromBeginning: true });
  const concurrency = Number(process.env.PER_TX_START_CONCURRENCY ?? 64);
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 8,
    eachBatch: async ({ batch, heartbeat }) => {
      const msgs = batch.messages;
      for (let i = 0; i < msgs.length; i += concurrency) {
        await Promise.all(
          msgs.slice(i, i + concurrency).map(async (m) => {
            try {
              await client.workflow.start('settleTransaction', {
                taskQueue: config.TEMPORAL_TASK_QUEUE,
                workflowId: `tx-${batch.topic}-${batch.partition}-${m.offset}`,
                args: [
                  {
                    topic: batch.topic,
                    partition: batch.partition,
                    message: {
                      offset: m.offset,
                      key: m.key?.toString() ?? null,
                      value: m.value?.toString() ?? '',
                      timestamp: m.timestamp,
                    },
                  },
                ],
              });
            } catch (err) {
              if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
            }
          }),
        );
        await heartbeat();
      }
      if (msgs.length) {
        const next = (BigInt(msgs[msgs.length - 1].offset) + 1n).toString();
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: next },
        ]);
      }
    },
  });
  process.on('SIGTERM', () => {
    void consumer.disconnect().then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});

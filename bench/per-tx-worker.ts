/* Bench only: a Temporal worker for settleTransaction (one workflow per message). Its
 * activity settles the one message through the production ledger code (settleBatch with a
 * one-message batch, replay mode: no partition cursor) and publishes its outcome. */
import 'reflect-metadata';
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { loadConfig } from '@settlement/config';
import { createDatabase } from '@settlement/db';
import { createKafka, KeyHashPartitioner } from '@settlement/kafka';
import { createLogger } from '@settlement/observability';
import { publishOutcomes, settleBatch } from '@settlement/activities';
import { connectionOptions } from '@settlement/temporal';
import type { PerTxActivities } from './per-tx-workflows';

async function main(): Promise<void> {
  const config = loadConfig(['kafka', 'temporal', 'database', 'worker']);
  const logger = createLogger('bench-per-tx-worker', 'warn');
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const database = createDatabase({ url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX });
  const producer = createKafka(config, logger, 'bench-worker').producer({
    createPartitioner: KeyHashPartitioner,
  });
  await producer.connect();
  const topics = { outcomes: config.KAFKA_OUTCOME_TOPIC, deadLetters: config.KAFKA_DLQ_TOPIC };
  const activities: PerTxActivities = {
    async settleOne({ topic, partition, message }) {
      const next = (BigInt(message.offset) + 1n).toString();
      const batchId = `tx-${topic}-${partition}-${message.offset}`;
      await settleBatch(
        { db: database.db, topics },
        {
          batchId,
          topic,
          partition,
          fromOffset: message.offset,
          nextOffset: next,
          messages: [message],
          deadLettered: 0,
          closedAt: Date.now(),
          replayId: 'bench-per-tx',
        },
        batchId,
      );
      await publishOutcomes({ db: database.db, producer }, batchId);
    },
  };
  const connection = await NativeConnection.connect(connectionOptions(config));
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowsPath: require.resolve('./per-tx-workflows'),
    activities,
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
  });
  process.on('SIGTERM', () => worker.shutdown());
  await worker.run();
  await producer.disconnect();
  await database.close();
  await connection.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});

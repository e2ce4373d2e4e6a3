import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import type { Producer } from 'kafkajs';
import { createActivities } from '@settlement/activities';
import type { Database } from '@settlement/db';
import { createLogger } from '@settlement/observability';

export const TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
export const WORKFLOWS_PATH = require.resolve('../../../libs/workflows/src');

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
}

export function uniqueTaskQueue(label: string): string {
  return `it-${label}-${randomBytes(4).toString('hex')}`;
}

export async function temporalClient(): Promise<Client> {
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  return new Client({ connection, namespace: 'default' });
}

/**
 * A real Temporal worker in this process, against the stack's dev server, serving the
 * production workflows and activities on a task queue of the test's own.
 */
export async function startWorker(options: {
  taskQueue: string;
  db: Database;
  producer: Producer;
  topics: { outcomes: string; deadLetters: string };
}): Promise<{ worker: Worker; stop: () => Promise<void> }> {
  quietRuntime();
  const connection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: options.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({
      db: options.db,
      producer: options.producer,
      topics: options.topics,
      logger: createLogger('test-worker', 'warn'),
    }),
  });
  const running = worker.run();
  return {
    worker,
    stop: async () => {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

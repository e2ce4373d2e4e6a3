import { createServer, type AddressInfo } from 'node:net';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogLevel,
} from '@temporalio/worker';
import { type Kafka, type Producer } from 'kafkajs';
import type {
  CyclesConfig,
  DatabaseConfig,
  KafkaConfig,
  TemporalConfig,
  WorkerConfig,
} from '@settlement/config';
import { PartitionTurns, type DatabaseHandle } from '@settlement/db';
import { createActivities } from '@settlement/activities';
import { connectionOptions, tracingWorkerOptions } from '@settlement/temporal';
import { addMetricsSource, recordColdStart, tracingActive } from '@settlement/observability';
import { WORKFLOW_BUNDLE_PATHS, workflowBundle } from './workflow-bundle';
import { CONFIG, DATABASE, KAFKA, LOGGER, type Logger } from '@settlement/platform';
import { KeyHashPartitioner } from '@settlement/kafka';

type Config = KafkaConfig &
  TemporalConfig &
  DatabaseConfig &
  WorkerConfig &
  CyclesConfig & { LOG_LEVEL: string };

export { WORKFLOWS_PATH } from './workflow-bundle';

let runtimeInstalled = false;

/**
 * Runs the Temporal worker inside the Nest lifecycle: started after bootstrap, drained on
 * SIGTERM (in-flight activities finish) before the connections close.
 */
@Injectable()
export class TemporalWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private worker?: Worker;
  private running?: Promise<void>;
  private producer?: Producer;
  private connection?: NativeConnection;
  private unlisten?: () => Promise<void>;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    @Inject(KAFKA) private readonly kafka: Kafka,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await installRuntime(this.logger, this.config.LOG_LEVEL);
    // murmur2 over the key like the Java client, without kafkajs's per-record garbage.
    this.producer = this.kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: KeyHashPartitioner,
    });
    await this.producer.connect();
    // One listening connection: a batch waiting for its predecessor wakes at that commit.
    const { turns, unlisten } = await PartitionTurns.listen(this.database.client);
    this.unlisten = unlisten;
    this.connection = await NativeConnection.connect(connectionOptions(this.config));
    const traced = tracingActive();
    this.worker = await Worker.create({
      connection: this.connection,
      namespace: this.config.TEMPORAL_NAMESPACE,
      taskQueue: this.config.TEMPORAL_TASK_QUEUE,
      workflowBundle: workflowBundle(WORKFLOW_BUNDLE_PATHS[traced ? 'traced' : 'plain']),
      activities: createActivities({
        db: this.database.db,
        producer: this.producer,
        topics: {
          outcomes: this.config.KAFKA_OUTCOME_TOPIC,
          deadLetters: this.config.KAFKA_DLQ_TOPIC,
        },
        logger: this.logger,
        kafka: this.kafka,
        turns,
        cycles: {
          topic: this.config.KAFKA_CYCLE_TOPIC,
          graceMs: this.config.SETTLEMENT_CYCLE_GRACE_SECONDS * 1000,
        },
      }),
      maxConcurrentActivityTaskExecutions: this.config.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTaskExecutions: this.config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      // A SIGTERM lets in-flight settle transactions commit before the pod goes away.
      shutdownGraceTime: '30s',
      // After a worker dies, the next task of a workflow it last ran waits this long on its
      // (dead) sticky queue before any worker gets it: 1 s instead of the default 10 s (a busy live
      // worker missing it costs a replay of a short history elsewhere).
      stickyQueueScheduleToStartTimeout: '1s',
      // Interceptors only when traced: with tracing off they made no-op spans per activity.
      ...(traced ? tracingWorkerOptions() : {}),
    });
    this.running = this.worker.run();
    this.watchFirstPoll(this.worker);
    this.running.catch((err: unknown) => {
      this.logger.fatal({ err }, 'temporal worker stopped unexpectedly');
      process.exit(1);
    });
    this.logger.info({ taskQueue: this.config.TEMPORAL_TASK_QUEUE }, 'temporal worker running');
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.worker && this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.running;
    await this.unlisten?.();
    await this.producer?.disconnect();
    await this.connection?.close();
  }

  /** Cold-start metric: the first workflow-task poll is in flight a few ms after run(). */
  private watchFirstPoll(worker: Worker): void {
    const timer = setInterval(() => {
      const status = worker.getStatus();
      if (status.hasOutstandingWorkflowPoll || status.numInFlightWorkflowActivations > 0) {
        recordColdStart('worker_first_poll');
        clearInterval(timer);
      } else if (status.runState !== 'RUNNING' && status.runState !== 'INITIALIZED') {
        clearInterval(timer);
      }
    }, 2);
    timer.unref();
  }

  state(): string {
    return this.worker?.getState() ?? 'INITIALIZED';
  }
}

async function installRuntime(logger: Logger, level: string): Promise<void> {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const temporalLevel = (
    ['trace', 'debug', 'info', 'warn', 'error'].includes(level) ? level.toUpperCase() : 'WARN'
  ) as LogLevel;
  // The SDK's own metrics (slots, schedule-to-start, poll errors...) on a loopback port of
  // our choosing, served again by this process's /metrics: one scrape target for both.
  const sdkMetricsPort = await freeLoopbackPort();
  Runtime.install({
    // Nest owns the signals; the worker is shut down from its hooks.
    shutdownSignals: [],
    logger: new DefaultLogger(temporalLevel, (entry) => {
      const method =
        entry.level === 'TRACE'
          ? 'trace'
          : (entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
      logger[method]({ ...entry.meta, temporal: true }, entry.message);
    }),
    telemetryOptions: {
      metrics: {
        metricPrefix: 'temporal_',
        prometheus: {
          bindAddress: `127.0.0.1:${sdkMetricsPort}`,
          countersTotalSuffix: true,
          useSecondsForDurations: true,
          unitSuffix: true,
        },
      },
    },
  });
  addMetricsSource(async () => {
    const res = await fetch(`http://127.0.0.1:${sdkMetricsPort}/metrics`, {
      signal: AbortSignal.timeout(2000),
    });
    return res.ok ? res.text() : '';
  });
}

/** A port the kernel says is free on loopback now (the SDK binds it a moment later). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

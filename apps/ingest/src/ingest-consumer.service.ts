import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Client } from '@temporalio/client';
import type { DatabaseHandle } from '@settlement/db';
import { metrics } from '@settlement/observability';
import {
  CONFIG,
  DATABASE,
  KAFKA,
  LOGGER,
  TEMPORAL_CLIENT,
  type Logger,
} from '@settlement/platform';
import { BatchDispatcher } from './batch-dispatcher';
import type { IngestAppConfig } from './config';
import { FlowControl } from './flow-control';
import { messageCost } from './micro-batch';
import { OrphanSweeper } from './orphan-sweeper';
import { whileLive } from './partition-batcher';
import { Partitions } from './partition-state';
import { consumerConfig } from './consumer-config';
import { PartitionOwnership } from './sticky-assigner';

/** Inline batches must also fit Temporal's payload limit (2 MB): they close at 768 KiB. */
const INLINE_BATCH_MAX_BYTES = 768 * 1024;

/**
 * A PENDING batch older than this is checked by the orphan sweep (every ORPHAN_SWEEP_MS), so
 * an orphan is started or abandoned within ~40 s; a live batch is started within
 * milliseconds of being recorded, and a second start of it is refused harmlessly.
 */
const ORPHAN_AFTER_MS = 30_000;
const ORPHAN_SWEEP_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The Kafka side of ingest: the consumer's lifecycle, assignment epochs, and handing read
 * messages to each partition's batcher. Closing rules live in PartitionBatcher, dispatch
 * (record, start, commit, retry) in BatchDispatcher, backpressure, operator pause and lag in
 * FlowControl.
 */
@Injectable()
export class IngestConsumerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: Consumer;
  private admin?: Admin;
  private dispatcher?: BatchDispatcher;
  private readonly partitions: Partitions;
  private readonly flow: FlowControl;
  private stopping = false;
  private activeBatches = 0;
  private isRunning = false;
  private timers: NodeJS.Timeout[] = [];
  private stopSweeping?: () => void;
  private rebalanceStartedAt?: number;
  private readonly topic: string;
  private readonly batchMaxBytes: number;
  private readonly ownership = new PartitionOwnership();

  constructor(
    @Inject(CONFIG) private readonly config: IngestAppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
  ) {
    this.topic = config.KAFKA_TOPIC;
    this.batchMaxBytes =
      config.BATCH_PAYLOAD === 'inline'
        ? Math.min(config.INGEST_BATCH_MAX_BYTES, INLINE_BATCH_MAX_BYTES)
        : config.INGEST_BATCH_MAX_BYTES;
    this.partitions = new Partitions(
      {
        maxMessages: config.BATCH_MAX_SIZE,
        maxBytes: this.batchMaxBytes,
        maxWaitMs: config.BATCH_MAX_WAIT_MS,
      },
      messageCost,
      (s, closed) => this.dispatcher?.enqueue(s, closed),
      // Nothing queued and room in flight: a batch due by time can start at once.
      (s) => s.queue.length === 0 && this.flow.hasCapacity(s),
    );
    this.flow = new FlowControl(config, this.topic, this.partitions, database.db, logger);
  }

  running(): boolean {
    return this.isRunning;
  }

  async onApplicationBootstrap(): Promise<void> {
    const c = this.config;
    const admin = (this.admin = this.kafka.admin());
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [this.topic] });
    const partitionCount = meta.topics[0]?.partitions.length ?? 1;
    await this.flow.initOperatorPause();
    const consumer = (this.consumer = this.kafka.consumer(consumerConfig(c, this.ownership)));
    this.dispatcher = new BatchDispatcher({
      config: c,
      db: this.database.db,
      temporal: this.temporal,
      admin,
      consumer,
      flow: this.flow,
      logger: this.logger,
      stopping: () => this.stopping,
    });
    const { GROUP_JOIN, REBALANCING, CRASH, STOP } = consumer.events;
    consumer.on(REBALANCING, () => {
      this.rebalanceStartedAt = Date.now();
      this.logger.info('consumer group rebalancing');
    });
    consumer.on(GROUP_JOIN, (e) => {
      this.ownership.update(e.payload.memberAssignment);
      this.onAssignment(e.payload.memberAssignment, e.payload.duration, e.payload.groupProtocol);
    });
    consumer.on(CRASH, (e) => {
      this.logger.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
      if (!e.payload.restart && !this.stopping) process.exit(1);
    });
    consumer.on(STOP, () => (this.isRunning = false));
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: partitionCount,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.isRunning = true;
    this.flow.attach(consumer);
    void this.flow.reconcile();
    this.timers.push(
      setInterval(() => void this.flow.pollOperatorPause(), c.INGEST_CONTROL_POLL_MS),
      setInterval(() => void this.flow.reportLag(admin), c.INGEST_LAG_INTERVAL_MS),
    );
    const orphans = new OrphanSweeper(this.database.db, this.temporal, this.logger, {
      topic: this.topic,
      taskQueue: c.TEMPORAL_TASK_QUEUE,
      orphanAfterMs: ORPHAN_AFTER_MS,
    });
    this.stopSweeping = orphans.schedule(ORPHAN_SWEEP_MS);
    this.logger.info(
      {
        topic: this.topic,
        groupId: c.KAFKA_GROUP_ID,
        partitions: partitionCount,
        batchMaxSize: c.BATCH_MAX_SIZE,
        batchMaxWaitMs: c.BATCH_MAX_WAIT_MS,
        batchMaxBytes: this.batchMaxBytes,
        taskQueue: c.TEMPORAL_TASK_QUEUE,
      },
      'ingest consuming',
    );
  }

  /** SIGTERM: stop reading, start what is in hand, commit it, leave the group. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.stopSweeping?.();
    this.flow.stop();
    const started = Date.now();
    // Stay a group member until the batches in hand are started and committed: pause the
    // fetches, let in-progress eachBatch calls put their messages in the buffers, close them.
    const mine = this.partitions.assigned().map((s) => s.partition);
    try {
      if (mine.length) this.consumer?.pause([{ topic: this.topic, partitions: mine }]);
    } catch (err) {
      this.logger.warn({ err }, 'pause on shutdown failed');
    }
    for (let i = 0; i < 50 && this.activeBatches > 0; i++) await sleep(100);
    for (const s of this.partitions.assigned()) s.batcher.close();
    await Promise.race([
      Promise.all([...this.partitions.values()].map((s) => s.chain)),
      sleep(25_000),
    ]);
    await this.consumer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.logger.info(
      { ms: Date.now() - started },
      'ingest stopped; in-hand batches handed to Temporal',
    );
  }

  /**
   * After every join kafkajs fetches again from the committed offsets, so whatever this
   * instance read but did not start is dropped here and read again (by it or the new owner).
   */
  private onAssignment(
    assignment: Record<string, number[]>,
    joinMs: number,
    protocol?: string,
  ): void {
    const mine = new Set(assignment[this.topic] ?? []);
    this.partitions.reassign(mine);
    const pausedMs = this.rebalanceStartedAt ? Date.now() - this.rebalanceStartedAt : undefined;
    this.rebalanceStartedAt = undefined;
    this.logger.info(
      {
        partitions: [...mine].sort((a, b) => a - b),
        joinMs,
        rebalancePausedMs: pausedMs,
        protocol,
      },
      'partitions assigned',
    );
    this.flow.onAssignment();
  }

  private async onBatch({ batch, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const s = this.partitions.of(batch.partition);
    if (!s.assigned || this.stopping) return;
    this.activeBatches++;
    try {
      s.batcher.add(whileLive(batch.messages, () => isRunning() && !isStale()));
    } finally {
      this.activeBatches--;
    }
    metrics.ingestMessages.inc(
      { topic: batch.topic, partition: String(batch.partition) },
      batch.messages.length,
    );
  }
}

import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  PartitionAssigners,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type KafkaMessage,
} from 'kafkajs';
import type { Client } from '@temporalio/client';
import { settleBatchWorkflowId } from '@settlement/contracts';
import { startSettleBatch } from '@settlement/temporal';
import { ensureCursor, recordPendingBatch, type DatabaseHandle } from '@settlement/db';
import { metrics, recordColdStart } from '@settlement/observability';
import {
  CONFIG,
  DATABASE,
  KAFKA,
  LOGGER,
  TEMPORAL_CLIENT,
  type Logger,
} from '@settlement/platform';
import type { IngestAppConfig } from './config';
import { isPaused } from './consumer-controls';
import { formBatch, messageCost } from './micro-batch';
import { PartitionOwnership, stickyAssigner } from './sticky-assigner';

interface ClosedBatch {
  epoch: number;
  messages: KafkaMessage[];
  firstAt: number;
  closedAt: number;
}

/** Everything this instance knows about one partition; survives rebalances (epoch changes). */
interface PartitionState {
  partition: number;
  /** Bumped on every (re)assignment: work formed in an older epoch is handed over. */
  epoch: number;
  assigned: boolean;
  buffer: KafkaMessage[];
  bufferBytes: number;
  firstAt: number;
  timer?: NodeJS.Timeout;
  queue: ClosedBatch[];
  /** Serialises dispatch per partition, so batches start and commit in offset order. */
  chain: Promise<void>;
  /** Where the next batch starts; undefined until the first dispatch of an epoch. */
  nextOffset?: bigint;
  inFlight: number;
}

const INLINE_BATCH_MAX_BYTES = 768 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Kafka -> micro-batches -> one settleBatch workflow each. Offsets are committed only after
 * Temporal accepted the start; per partition, batches chain [from, next) exactly.
 */
@Injectable()
export class IngestConsumerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: Consumer;
  private admin?: Admin;
  private readonly partitions = new Map<number, PartitionState>();
  private totalInFlight = 0;
  private operatorPaused = false;
  private readonly pausedNow = new Set<number>();
  private stopping = false;
  private activeBatches = 0;
  private isRunning = false;
  private capacityWaiters: (() => void)[] = [];
  private timers: NodeJS.Timeout[] = [];
  private rebalanceStartedAt?: number;
  private readonly topic: string;
  /** Inline batches must also fit Temporal's payload limit (2 MB): they close at 768 KiB. */
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
  }

  running(): boolean {
    return this.isRunning;
  }

  async onApplicationBootstrap(): Promise<void> {
    const c = this.config;
    this.admin = this.kafka.admin();
    await this.admin.connect();
    const meta = await this.admin.fetchTopicMetadata({ topics: [this.topic] });
    const partitionCount = meta.topics[0]?.partitions.length ?? 1;
    this.operatorPaused = await this.readPaused();
    this.consumer = this.kafka.consumer({
      groupId: c.KAFKA_GROUP_ID,
      maxBytesPerPartition: c.INGEST_MAX_BYTES_PER_PARTITION,
      maxBytes: c.INGEST_MAX_BYTES,
      maxWaitTimeInMs: Math.min(c.BATCH_MAX_WAIT_MS, 500),
      sessionTimeout: c.INGEST_SESSION_TIMEOUT_MS,
      heartbeatInterval: Math.min(3_000, Math.floor(c.INGEST_SESSION_TIMEOUT_MS / 3)),
      rebalanceTimeout: 60_000,
      // Sticky first, round-robin as the fallback while a rolling deploy mixes versions.
      partitionAssigners: [stickyAssigner(this.ownership), PartitionAssigners.roundRobin],
    });
    const { GROUP_JOIN, REBALANCING, CRASH, STOP } = this.consumer.events;
    this.consumer.on(REBALANCING, () => {
      this.rebalanceStartedAt = Date.now();
      this.logger.info('consumer group rebalancing');
    });
    this.consumer.on(GROUP_JOIN, (e) => {
      this.ownership.update(e.payload.memberAssignment);
      this.onAssignment(e.payload.memberAssignment, e.payload.duration, e.payload.groupProtocol);
    });
    this.consumer.on(CRASH, (e) => {
      this.logger.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
      if (!e.payload.restart && !this.stopping) process.exit(1);
    });
    this.consumer.on(STOP, () => (this.isRunning = false));
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: partitionCount,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.isRunning = true;
    this.timers.push(setInterval(() => void this.pollControls(), c.INGEST_CONTROL_POLL_MS));
    this.timers.push(setInterval(() => void this.reportLag(), c.INGEST_LAG_INTERVAL_MS));
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
    this.wakeCapacityWaiters();
    const started = Date.now();
    // Stay a group member until the batches in hand are started and committed: pause the
    // fetches, let in-progress eachBatch calls put their messages in the buffers, close them.
    const mine = [...this.partitions.values()].filter((s) => s.assigned).map((s) => s.partition);
    try {
      if (mine.length) this.consumer?.pause([{ topic: this.topic, partitions: mine }]);
    } catch (err) {
      this.logger.warn({ err }, 'pause on shutdown failed');
    }
    for (let i = 0; i < 50 && this.activeBatches > 0; i++) await sleep(100);
    for (const s of this.partitions.values()) if (s.assigned) this.close(s);
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

  // ------------------------------------------------------------------ assignment

  private state(partition: number): PartitionState {
    let s = this.partitions.get(partition);
    if (!s) {
      s = {
        partition,
        epoch: 0,
        assigned: false,
        buffer: [],
        bufferBytes: 0,
        firstAt: 0,
        queue: [],
        chain: Promise.resolve(),
        inFlight: 0,
      };
      this.partitions.set(partition, s);
    }
    return s;
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
    for (const p of mine) this.state(p);
    for (const s of this.partitions.values()) {
      s.epoch++;
      s.assigned = mine.has(s.partition);
      this.clearBuffer(s);
      s.queue = [];
      s.nextOffset = undefined;
    }
    this.pausedNow.clear();
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
    void this.reconcilePause();
  }

  // ------------------------------------------------------------------ batching

  private async onBatch({ batch, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const s = this.state(batch.partition);
    if (!s.assigned || this.stopping) return;
    this.activeBatches++;
    try {
      this.buffer(s, batch.messages, isRunning, isStale);
    } finally {
      this.activeBatches--;
    }
    metrics.ingestMessages.inc(
      { topic: batch.topic, partition: String(batch.partition) },
      batch.messages.length,
    );
  }

  private buffer(
    s: PartitionState,
    messages: KafkaMessage[],
    isRunning: () => boolean,
    isStale: () => boolean,
  ): void {
    for (const m of messages) {
      if (!isRunning() || isStale()) break;
      if (s.buffer.length === 0) s.firstAt = Date.now();
      s.buffer.push(m);
      s.bufferBytes += messageCost(m);
      if (s.buffer.length >= this.config.BATCH_MAX_SIZE || s.bufferBytes >= this.batchMaxBytes) {
        this.close(s);
      }
    }
    if (s.buffer.length > 0 && !s.timer) {
      const wait = Math.max(0, s.firstAt + this.config.BATCH_MAX_WAIT_MS - Date.now());
      s.timer = setTimeout(() => this.close(s), wait);
    }
  }

  private clearBuffer(s: PartitionState): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    s.buffer = [];
    s.bufferBytes = 0;
  }

  /** Closes the partition's open micro-batch and queues it for dispatch. */
  private close(s: PartitionState): void {
    if (s.buffer.length === 0) {
      this.clearBuffer(s);
      return;
    }
    const closed: ClosedBatch = {
      epoch: s.epoch,
      messages: s.buffer,
      firstAt: s.firstAt,
      closedAt: Date.now(),
    };
    this.clearBuffer(s);
    s.queue.push(closed);
    void this.reconcilePause();
    s.chain = s.chain
      .then(() => this.dispatchNext(s))
      .catch((err: unknown) => {
        this.logger.error({ err, partition: s.partition }, 'dispatch failed');
      });
  }

  private stale(s: PartitionState, epoch: number): boolean {
    return s.epoch !== epoch || !s.assigned;
  }

  private async dispatchNext(s: PartitionState): Promise<void> {
    const closed = s.queue[0];
    if (!closed) return;
    if (this.stale(s, closed.epoch)) {
      s.queue.shift();
      return;
    }
    // Backpressure: wait for settled batches (the partition is paused meanwhile).
    while (!this.stopping && !this.hasCapacity(s)) {
      await new Promise<void>((r) => this.capacityWaiters.push(r));
      if (this.stale(s, closed.epoch)) return;
    }
    try {
      await this.dispatch(s, closed);
    } finally {
      if (s.queue[0] === closed) s.queue.shift();
      void this.reconcilePause();
    }
  }

  private hasCapacity(s: PartitionState): boolean {
    return (
      s.inFlight < this.config.MAX_IN_FLIGHT_BATCHES_PER_PARTITION &&
      this.totalInFlight < this.config.MAX_IN_FLIGHT_BATCHES
    );
  }

  private async dispatch(s: PartitionState, closed: ClosedBatch): Promise<void> {
    const { topic } = this;
    const db = this.database.db;
    let from = s.nextOffset;
    if (from === undefined) {
      const committed = await this.committedOffset(s.partition);
      from = committed ?? BigInt(closed.messages[0].offset);
      // The settle activity needs the cursor row before the partition's first batch.
      await ensureCursor(db, topic, s.partition, from.toString());
    }
    const start = from;
    const messages = closed.messages.filter((m) => BigInt(m.offset) >= start);
    if (messages.length === 0) return;
    const { input, deadLetters } = formBatch(topic, s.partition, start, messages, closed.closedAt);
    const workflowId = settleBatchWorkflowId(input.batchId);
    // Staged: the workflow input is a reference, the messages wait in the batch row.
    const staged = this.config.BATCH_PAYLOAD === 'database';

    // One transaction: the dead letters, their DLQ records in the outbox (the batch's
    // workflow publishes them) and the PENDING batch row.
    const recorded = await this.retry(s, closed.epoch, 'batch row', async () => {
      await recordPendingBatch(db, input, workflowId, {
        messageCount: messages.length,
        staged,
        deadLetters: { topic: this.config.KAFKA_DLQ_TOPIC, items: deadLetters },
      });
      return true;
    });
    if (!recorded) return;
    for (const d of deadLetters) metrics.deadLetters.inc({ reason: d.row.reason });

    const stopTimer = metrics.workflowStartLatency.startTimer();
    let started;
    try {
      started = await this.retry(s, closed.epoch, 'workflow start', () =>
        // A redelivered batch is refused by Temporal (alreadyStarted), which is what we need.
        startSettleBatch(
          this.temporal,
          this.config.TEMPORAL_TASK_QUEUE,
          staged ? { ...input, messages: undefined } : input,
        ),
      );
    } finally {
      stopTimer();
    }
    if (!started) return;
    recordColdStart('ingest_first_workflow_start');
    metrics.batchSize.observe(messages.length);
    metrics.batchAge.observe((closed.closedAt - closed.firstAt) / 1000);
    s.nextOffset = BigInt(input.nextOffset);
    this.track(s, started.result(), input.batchId);

    // Durable in Temporal: now the offsets may move.
    if (!this.stale(s, closed.epoch) || this.stopping) {
      try {
        await this.consumer!.commitOffsets([
          { topic, partition: s.partition, offset: input.nextOffset },
        ]);
      } catch (err) {
        // A rebalance took the partition: the next owner re-reads from the older commit and
        // the settle activity skips what this batch already applied.
        this.logger.warn({ err, batchId: input.batchId }, 'offset commit failed');
      }
    }
    this.logger.debug(
      { batchId: input.batchId, messages: messages.length, deadLettered: input.deadLettered },
      'batch started',
    );
  }

  /** Retries transient failures until success, or gives the work up when the partition left. */
  private async retry<T>(
    s: PartitionState,
    epoch: number,
    what: string,
    fn: () => Promise<T>,
  ): Promise<T | undefined> {
    let delay = 100;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (this.stale(s, epoch) && !this.stopping) return undefined;
        if (this.stopping && delay > 3200) throw err;
        this.logger.warn({ err, partition: s.partition, what }, 'retrying');
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private track(s: PartitionState, result: Promise<unknown>, batchId: string): void {
    s.inFlight++;
    this.totalInFlight++;
    metrics.inFlightBatches.set({ topic: this.topic, partition: String(s.partition) }, s.inFlight);
    result
      .catch((err: unknown) => this.logger.error({ err, batchId }, 'settleBatch workflow failed'))
      .finally(() => {
        s.inFlight--;
        this.totalInFlight--;
        metrics.inFlightBatches.set(
          { topic: this.topic, partition: String(s.partition) },
          s.inFlight,
        );
        this.wakeCapacityWaiters();
        void this.reconcilePause();
      });
  }

  private wakeCapacityWaiters(): void {
    const waiters = this.capacityWaiters;
    this.capacityWaiters = [];
    for (const w of waiters) w();
  }

  private async committedOffset(partition: number): Promise<bigint | undefined> {
    const res = await this.admin!.fetchOffsets({
      groupId: this.config.KAFKA_GROUP_ID,
      topics: [this.topic],
    });
    const p = res[0]?.partitions.find((x) => x.partition === partition);
    if (!p || p.offset === '-1' || p.offset === '') return undefined;
    return BigInt(p.offset);
  }

  // ------------------------------------------------------------------ pause and resume

  private async reconcilePause(): Promise<void> {
    if (!this.consumer || !this.isRunning || this.stopping) return;
    const pause: number[] = [];
    const resume: number[] = [];
    const totalBacklog =
      this.totalInFlight + [...this.partitions.values()].reduce((n, s) => n + s.queue.length, 0);
    for (const s of this.partitions.values()) {
      if (!s.assigned) continue;
      const want =
        this.operatorPaused ||
        s.inFlight + s.queue.length >= this.config.MAX_IN_FLIGHT_BATCHES_PER_PARTITION ||
        totalBacklog >= this.config.MAX_IN_FLIGHT_BATCHES;
      if (want && !this.pausedNow.has(s.partition)) pause.push(s.partition);
      if (!want && this.pausedNow.has(s.partition)) resume.push(s.partition);
    }
    try {
      if (pause.length) {
        this.consumer.pause([{ topic: this.topic, partitions: pause }]);
        for (const p of pause) this.pausedNow.add(p);
      }
      if (resume.length) {
        this.consumer.resume([{ topic: this.topic, partitions: resume }]);
        for (const p of resume) this.pausedNow.delete(p);
      }
    } catch (err) {
      this.logger.warn({ err }, 'pause/resume failed');
    }
  }

  private async readPaused(): Promise<boolean> {
    try {
      return await isPaused(this.database.db, this.config.KAFKA_GROUP_ID);
    } catch (err) {
      this.logger.warn({ err }, 'cannot read consumer_controls; keeping the last state');
      return this.operatorPaused;
    }
  }

  private async pollControls(): Promise<void> {
    const paused = await this.readPaused();
    if (paused !== this.operatorPaused) {
      this.logger.info({ paused }, paused ? 'paused by operator' : 'resumed by operator');
      this.operatorPaused = paused;
      void this.reconcilePause();
    }
    metrics.pausedPartitions.set(paused ? 1 : 0);
  }

  private async reportLag(): Promise<void> {
    try {
      const mine = [...this.partitions.values()].filter((s) => s.assigned).map((s) => s.partition);
      if (mine.length === 0 || !this.admin) return;
      const [ends, committed] = await Promise.all([
        this.admin.fetchTopicOffsets(this.topic),
        this.admin.fetchOffsets({ groupId: this.config.KAFKA_GROUP_ID, topics: [this.topic] }),
      ]);
      for (const p of mine) {
        const end = ends.find((e) => e.partition === p);
        const c = committed[0]?.partitions.find((x) => x.partition === p);
        if (!end) continue;
        const at = c && c.offset !== '-1' ? BigInt(c.offset) : BigInt(end.low);
        const lag = BigInt(end.high) - at;
        metrics.consumerLag.set({ topic: this.topic, partition: String(p) }, Number(lag));
      }
    } catch (err) {
      this.logger.debug({ err }, 'lag report failed');
    }
  }
}

import type { Admin, Consumer } from 'kafkajs';
import { isConsumptionPaused, type Database } from '@settlement/db';
import { metrics } from '@settlement/observability';
import type { Logger } from '@settlement/platform';
import type { IngestAppConfig } from './config';
import type { PartitionState } from './partition-state';

type Config = Pick<
  IngestAppConfig,
  'MAX_IN_FLIGHT_BATCHES' | 'MAX_IN_FLIGHT_BATCHES_PER_PARTITION' | 'KAFKA_GROUP_ID'
>;

/**
 * Flow control: backpressure (a partition pauses while a closed batch waits and its
 * started-and-unsettled plus closed-and-unstarted batches reach the per-partition cap, every
 * partition at the total cap; at the cap with nothing closed waiting, it keeps filling its
 * open batch), the operator pause (consumer_controls, polled) and the lag gauge.
 */
export class FlowControl {
  private totalInFlight = 0;
  private operatorPaused = false;
  private capacityWaiters: (() => void)[] = [];
  private consumer?: Consumer;
  private stopped = false;

  constructor(
    private readonly config: Config,
    private readonly topic: string,
    private readonly partitions: ReadonlyMap<number, PartitionState>,
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  /** Starts steering `consumer` (after it runs). */
  attach(consumer: Consumer): void {
    this.consumer = consumer;
  }

  stop(): void {
    this.stopped = true;
    this.wake();
  }

  /**
   * A new assignment: kafkajs keeps a partition's pause across rebalances (also one paused
   * before it was revoked and assigned again), so reconcile reads the consumer's own state.
   */
  onAssignment(): void {
    void this.reconcile();
  }

  hasCapacity(s: PartitionState): boolean {
    return (
      s.inFlight < this.config.MAX_IN_FLIGHT_BATCHES_PER_PARTITION &&
      this.totalInFlight < this.config.MAX_IN_FLIGHT_BATCHES
    );
  }

  /** Resolves when a started batch settles (or on shutdown). */
  waitForCapacity(): Promise<void> {
    return new Promise<void>((r) => this.capacityWaiters.push(r));
  }

  /** Counts a started batch in flight until its workflow ends. */
  track(s: PartitionState, result: Promise<unknown>, batchId: string): void {
    s.inFlight++;
    this.totalInFlight++;
    this.gauge(s);
    result
      .catch((err: unknown) => this.logger.error({ err, batchId }, 'settleBatch workflow failed'))
      .finally(() => {
        s.inFlight--;
        this.totalInFlight--;
        this.gauge(s);
        this.wake();
        void this.reconcile();
      });
  }

  /** Pauses or resumes each assigned partition as backpressure and the operator say. */
  async reconcile(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer || this.stopped) return;
    const pause: number[] = [];
    const resume: number[] = [];
    // A batch held open for capacity closes now if the partition can take it.
    for (const s of this.partitions.values()) if (s.assigned) s.batcher.poke();
    const all = [...this.partitions.values()];
    const backlog = this.totalInFlight + all.reduce((n, s) => n + s.queue.length, 0);
    // The consumer's pause state, not a copy of it: a copy forgotten at a rebalance left
    // partitions paused for good (kafkajs does not resume them on reassignment).
    const pausedNow = new Set(
      consumer
        .paused()
        .filter((t) => t.topic === this.topic)
        .flatMap((t) => t.partitions),
    );
    for (const s of all) {
      if (!s.assigned) continue;
      // At the in-flight cap the partition keeps reading into its open batch (which grows
      // up to the batch caps); it pauses once a closed batch has to wait as well.
      const want =
        this.operatorPaused ||
        (s.queue.length > 0 &&
          s.inFlight + s.queue.length >= this.config.MAX_IN_FLIGHT_BATCHES_PER_PARTITION) ||
        backlog >= this.config.MAX_IN_FLIGHT_BATCHES;
      if (want && !pausedNow.has(s.partition)) pause.push(s.partition);
      if (!want && pausedNow.has(s.partition)) resume.push(s.partition);
    }
    try {
      if (pause.length) consumer.pause([{ topic: this.topic, partitions: pause }]);
      if (resume.length) consumer.resume([{ topic: this.topic, partitions: resume }]);
    } catch (err) {
      this.logger.warn({ err }, 'pause/resume failed');
    }
  }

  /** Reads the operator pause (consumer_controls); keeps the last state when unreadable. */
  async readOperatorPause(): Promise<boolean> {
    try {
      return await isConsumptionPaused(this.db, this.config.KAFKA_GROUP_ID);
    } catch (err) {
      this.logger.warn({ err }, 'cannot read consumer_controls; keeping the last state');
      return this.operatorPaused;
    }
  }

  async pollOperatorPause(): Promise<void> {
    const paused = await this.readOperatorPause();
    if (paused !== this.operatorPaused) {
      this.logger.info({ paused }, paused ? 'paused by operator' : 'resumed by operator');
      this.operatorPaused = paused;
      void this.reconcile();
    }
    metrics.pausedPartitions.set(paused ? 1 : 0);
  }

  /** Before the consumer runs: start paused if the operator said so. */
  async initOperatorPause(): Promise<void> {
    this.operatorPaused = await this.readOperatorPause();
  }

  /** Lag gauge: end offset minus committed offset of each assigned partition. */
  async reportLag(admin: Admin): Promise<void> {
    try {
      const mine = [...this.partitions.values()].filter((s) => s.assigned).map((s) => s.partition);
      if (mine.length === 0) return;
      const [ends, committed] = await Promise.all([
        admin.fetchTopicOffsets(this.topic),
        admin.fetchOffsets({ groupId: this.config.KAFKA_GROUP_ID, topics: [this.topic] }),
      ]);
      for (const p of mine) {
        const end = ends.find((e) => e.partition === p);
        const c = committed[0]?.partitions.find((x) => x.partition === p);
        if (!end) continue;
        const at = c && c.offset !== '-1' ? BigInt(c.offset) : BigInt(end.low);
        metrics.consumerLag.set(
          { topic: this.topic, partition: String(p) },
          Number(BigInt(end.high) - at),
        );
      }
    } catch (err) {
      this.logger.debug({ err }, 'lag report failed');
    }
  }

  private wake(): void {
    const waiters = this.capacityWaiters;
    this.capacityWaiters = [];
    for (const w of waiters) w();
  }

  private gauge(s: PartitionState): void {
    metrics.inFlightBatches.set({ topic: this.topic, partition: String(s.partition) }, s.inFlight);
  }
}

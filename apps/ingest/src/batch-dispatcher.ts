import type { Admin, Consumer, KafkaMessage } from 'kafkajs';
import type { Client } from '@temporalio/client';
import { settleBatchWorkflowId } from '@settlement/contracts';
import { ensureCursor, recordPendingBatch, type Database } from '@settlement/db';
import { contextFromHeaders, inSpan, metrics, recordColdStart } from '@settlement/observability';
import type { Logger } from '@settlement/platform';
import { startSettleBatch } from '@settlement/temporal';
import type { IngestAppConfig } from './config';
import type { FlowControl } from './flow-control';
import { formBatch } from './micro-batch';
import { isStale, type EpochBatch, type PartitionState } from './partition-state';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DispatchDeps {
  config: IngestAppConfig;
  db: Database;
  temporal: Client;
  admin: Admin;
  consumer: Consumer;
  flow: FlowControl;
  logger: Logger;
  /** True once SIGTERM arrived: work in hand is still started and committed. */
  stopping: () => boolean;
}

/**
 * Dispatch of closed batches, strictly in order per partition: range, dead letters and
 * PENDING row (one transaction), workflow start, then the offset commit. Transient failures
 * are retried; the work is given up only when the partition left this instance.
 */
export class BatchDispatcher {
  constructor(private readonly deps: DispatchDeps) {}

  /** Queues a closed batch behind the partition's earlier ones. */
  enqueue(s: PartitionState, closed: EpochBatch): void {
    s.queue.push(closed);
    void this.deps.flow.reconcile();
    s.chain = s.chain
      .then(() => this.dispatchNext(s))
      .catch((err: unknown) => {
        this.deps.logger.error({ err, partition: s.partition }, 'dispatch failed');
      });
  }

  private async dispatchNext(s: PartitionState): Promise<void> {
    const closed = s.queue[0];
    if (!closed) return;
    if (isStale(s, closed.epoch)) {
      s.queue.shift();
      return;
    }
    // Backpressure: wait for settled batches (the partition is paused meanwhile).
    while (!this.deps.stopping() && !this.deps.flow.hasCapacity(s)) {
      await this.deps.flow.waitForCapacity();
      if (isStale(s, closed.epoch)) return;
    }
    try {
      await this.dispatch(s, closed);
    } finally {
      if (s.queue[0] === closed) s.queue.shift();
      void this.deps.flow.reconcile();
    }
  }

  private async dispatch(s: PartitionState, closed: EpochBatch): Promise<void> {
    const { config, db } = this.deps;
    const topic = config.KAFKA_TOPIC;
    const from = s.nextOffset ?? (await this.firstOffset(s, closed));
    const messages = closed.messages.filter((m) => BigInt(m.offset) >= from);
    if (messages.length === 0) return;
    const { input, deadLetters } = formBatch(topic, s.partition, from, messages, closed.closedAt);
    const workflowId = settleBatchWorkflowId(input.batchId);
    // Staged: the workflow input is a reference, the messages wait in the batch row.
    const staged = config.BATCH_PAYLOAD === 'database';

    // One transaction: the dead letters, their DLQ records in the outbox (the batch's
    // workflow publishes them) and the PENDING batch row.
    const recorded = await this.retry(s, closed.epoch, 'batch row', async () => {
      await recordPendingBatch(db, input, workflowId, {
        messageCount: messages.length,
        staged,
        deadLetters: { topic: config.KAFKA_DLQ_TOPIC, items: deadLetters },
      });
      return true;
    });
    if (!recorded) return;
    for (const d of deadLetters) metrics.deadLetters.inc({ reason: d.row.reason });

    const stopTimer = metrics.workflowStartLatency.startTimer();
    let started;
    try {
      // One trace per batch from here (continuing the producer's, when its first message
      // carries one) through the workflow start to the workflow, its activities and commit.
      started = await inSpan(
        'ingest batch',
        { 'settlement.batch_id': input.batchId, 'messaging.batch.message_count': messages.length },
        () =>
          this.retry(s, closed.epoch, 'workflow start', () =>
            // A redelivered batch is refused by Temporal (alreadyStarted), which is what we need.
            startSettleBatch(
              this.deps.temporal,
              config.TEMPORAL_TASK_QUEUE,
              staged ? { ...input, messages: undefined } : input,
              messages.length - input.deadLettered,
            ),
          ),
        contextFromHeaders(traceHeaders(messages[0])),
      );
    } finally {
      stopTimer();
    }
    if (!started) return;
    recordColdStart('ingest_first_workflow_start');
    metrics.batchSize.observe(messages.length);
    metrics.batchAge.observe((closed.closedAt - closed.firstAt) / 1000);
    s.nextOffset = BigInt(input.nextOffset);
    this.deps.flow.track(s, started.result(), input.batchId);
    await this.commit(s, closed.epoch, input.nextOffset, input.batchId);
    this.deps.logger.debug(
      { batchId: input.batchId, messages: messages.length, deadLettered: input.deadLettered },
      'batch started',
    );
  }

  /**
   * The first batch of an epoch starts at the group's committed offset (or its first
   * message); the settle activity needs the cursor row before it.
   */
  private async firstOffset(s: PartitionState, closed: EpochBatch): Promise<bigint> {
    const committed = await this.committedOffset(s.partition);
    const from = committed ?? BigInt(closed.messages[0].offset);
    await ensureCursor(this.deps.db, this.deps.config.KAFKA_TOPIC, s.partition, from.toString());
    return from;
  }

  /** Durable in Temporal: now the offsets may move. */
  private async commit(s: PartitionState, epoch: number, offset: string, batchId: string) {
    if (isStale(s, epoch) && !this.deps.stopping()) return;
    try {
      await this.deps.consumer.commitOffsets([
        { topic: this.deps.config.KAFKA_TOPIC, partition: s.partition, offset },
      ]);
    } catch (err) {
      // A rebalance took the partition: the next owner re-reads from the older commit and
      // the settle activity skips what this batch already applied.
      this.deps.logger.warn({ err, batchId }, 'offset commit failed');
    }
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
        const stopping = this.deps.stopping();
        if (isStale(s, epoch) && !stopping) return undefined;
        if (stopping && delay > 3200) throw err;
        this.deps.logger.warn({ err, partition: s.partition, what }, 'retrying');
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private async committedOffset(partition: number): Promise<bigint | undefined> {
    const res = await this.deps.admin.fetchOffsets({
      groupId: this.deps.config.KAFKA_GROUP_ID,
      topics: [this.deps.config.KAFKA_TOPIC],
    });
    const p = res[0]?.partitions.find((x) => x.partition === partition);
    if (!p || p.offset === '-1' || p.offset === '') return undefined;
    return BigInt(p.offset);
  }
}

/** The W3C trace headers of a Kafka message as text. */
function traceHeaders(m: KafkaMessage | undefined): Record<string, string | undefined> {
  const text = (name: string) => {
    const v = m?.headers?.[name];
    const first = Array.isArray(v) ? v[0] : v;
    return first === undefined ? undefined : first.toString();
  };
  return { traceparent: text('traceparent'), tracestate: text('tracestate') };
}

import type { Client } from '@temporalio/client';
import { abandonBatch, findPendingBatchesBefore, type Database } from '@settlement/db';
import type { Logger } from '@settlement/platform';
import { startSettleBatch } from '@settlement/temporal';

export interface OrphanSweepOptions {
  topic: string;
  taskQueue: string;
  /** A PENDING batch this old is checked (started or abandoned). */
  orphanAfterMs: number;
  /** How many batches one sweep looks at. */
  limit?: number;
}

/** Workflow states after which a still PENDING batch will never settle. */
const CLOSED_UNSETTLED = new Set(['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED']);

/**
 * Orphans: an instance that died between recording a batch (PENDING, staged messages, dead
 * letters in the outbox) and starting its workflow leaves the row behind; the range itself
 * is re-formed and settled by the next owner. Every ingest instance sweeps now and then:
 * it starts the workflow of each old PENDING batch under its deterministic id (a running or
 * finished one is refused by Temporal, so this is safe to repeat and to race); the workflow
 * either settles the batch or finds it applied by the re-formed range and marks it SETTLED
 * with zero counts, freeing the staged payload and publishing its dead letters. A batch
 * whose workflow closed without settling is marked FAILED ("abandoned") and freed.
 */
export class OrphanSweeper {
  constructor(
    private readonly db: Database,
    private readonly temporal: Client,
    private readonly logger: Logger,
    private readonly options: OrphanSweepOptions,
  ) {}

  async sweep(now = Date.now()): Promise<{ started: number; abandoned: number }> {
    const { topic, taskQueue, orphanAfterMs, limit = 100 } = this.options;
    const pending = await findPendingBatchesBefore(
      this.db,
      topic,
      new Date(now - orphanAfterMs),
      limit,
    );
    let started = 0;
    let abandoned = 0;
    for (const b of pending) {
      const start = await startSettleBatch(this.temporal, taskQueue, {
        batchId: b.id,
        topic: b.topic,
        partition: b.partition,
        fromOffset: b.fromOffset.toString(),
        nextOffset: b.nextOffset.toString(),
        deadLettered: b.deadLettered,
        closedAt: b.closedAt?.getTime() ?? now,
      });
      if (!start.alreadyStarted) {
        started++;
        this.logger.info({ batchId: b.id }, 'orphaned batch started');
        continue;
      }
      const status = (await this.temporal.workflow.getHandle(start.workflowId).describe()).status
        .name;
      if (CLOSED_UNSETTLED.has(status)) {
        const reason = `abandoned: workflow ${start.workflowId} ended ${status} without settling`;
        if (await abandonBatch(this.db, b.id, reason)) {
          abandoned++;
          this.logger.warn({ batchId: b.id, status }, 'orphaned batch abandoned');
        }
      }
    }
    return { started, abandoned };
  }

  /** Sweeps every `everyMs` until the returned stop function is called. */
  schedule(everyMs: number): () => void {
    const timer = setInterval(() => {
      this.sweep().catch((err: unknown) => this.logger.warn({ err }, 'orphan sweep failed'));
    }, everyMs);
    return () => clearInterval(timer);
  }
}

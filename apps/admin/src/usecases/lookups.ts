import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import {
  BATCH_STATUSES,
  findBatch,
  findPendingBatchOf,
  findTransactionOutcome,
  listBatches,
  type BatchListRow,
  type DatabaseHandle,
} from '@settlement/db';
import type { AdminConfig, TemporalConfig } from '@settlement/config';
import { CONFIG, DATABASE } from '@settlement/platform';
import { notFound } from '../http/errors';
import { decodeCursor, encodeCursor, limitSchema, type Page } from '../http/pagination';

export interface TransactionView {
  id: string;
  status: 'SETTLED' | 'REJECTED' | 'PENDING';
  reason?: string;
  batchId?: string;
  settledAt?: string;
  /** The batch that settled (or will settle) the transaction, with its workflow. */
  batch?: BatchView;
  workflowId?: string;
  /** The workflow's page in the Temporal Web UI. */
  workflowUrl?: string;
  debitAccount?: string;
  creditAccount?: string;
  amount?: string;
  currency?: string;
  topic?: string;
  partition?: number;
  offset?: string;
}

export const listBatchesSchema = z.object({
  status: z
    .enum(BATCH_STATUSES, { message: `status must be one of ${BATCH_STATUSES.join(', ')}` })
    .optional(),
  limit: limitSchema,
  cursor: z.string().optional(),
});
export type ListBatchesQuery = z.infer<typeof listBatchesSchema>;

const batchCursor = z.tuple([z.string().min(1), z.string()]);

/** The workflow's page in the Temporal Web UI (the same path on Temporal Cloud). */
export function workflowUrl(
  ui: { baseUrl: string; namespace: string },
  workflowId: string,
): string {
  return `${ui.baseUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

function batchView(r: BatchListRow, ui: { baseUrl: string; namespace: string }) {
  return {
    id: r.id,
    topic: r.topic,
    partition: r.partition,
    fromOffset: r.fromOffset.toString(),
    nextOffset: r.nextOffset.toString(),
    workflowId: r.workflowId,
    workflowUrl: workflowUrl(ui, r.workflowId),
    status: r.status,
    counts: {
      messages: r.messageCount,
      settled: r.settled,
      rejected: r.rejected,
      duplicates: r.duplicates,
      deadLettered: r.deadLettered,
    },
    replayId: r.replayId,
    error: r.error,
    createdAt: r.createdAt,
    closedAt: r.closedAt,
    settledAt: r.settledAt,
  };
}
export type BatchView = ReturnType<typeof batchView>;

@Injectable()
export class LookupUseCases {
  private readonly ui: { baseUrl: string; namespace: string };

  constructor(
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    @Inject(CONFIG) config: AdminConfig & TemporalConfig,
  ) {
    this.ui = { baseUrl: config.TEMPORAL_WEB_URL, namespace: config.TEMPORAL_NAMESPACE };
  }

  /** The transaction's batch, its workflow id and Web UI link, when the batch row exists. */
  private async withBatch(view: TransactionView): Promise<TransactionView> {
    if (!view.batchId) return view;
    const row = await findBatch(this.database.db, view.batchId);
    if (!row) return view;
    const batch = batchView(row, this.ui);
    return { ...view, batch, workflowId: batch.workflowId, workflowUrl: batch.workflowUrl };
  }

  /**
   * SETTLED/REJECTED come from the ledger's transactions table, written in the same database
   * transaction as the postings. An id not settled yet but in a batch that ingest staged and
   * started is PENDING (with its batch); any other id is 404.
   */
  async transaction(id: string): Promise<TransactionView> {
    const r = await findTransactionOutcome(this.database.db, id);
    if (!r) {
      const pendingBatch = await findPendingBatchOf(this.database.db, id);
      if (pendingBatch) return this.withBatch({ id, status: 'PENDING', batchId: pendingBatch });
      throw notFound(`transaction ${id} not found`);
    }
    return this.withBatch({
      id: r.id,
      status: r.status,
      ...(r.reason ? { reason: r.reason } : {}),
      batchId: r.batchId,
      settledAt: r.settledAt,
      debitAccount: r.debitAccount,
      creditAccount: r.creditAccount,
      amount: r.amount.toString(),
      currency: r.currency,
      topic: r.topic,
      partition: r.partition,
      offset: r.offset.toString(),
    });
  }

  async batch(id: string): Promise<BatchView> {
    const row = await findBatch(this.database.db, id);
    if (!row) throw notFound(`batch ${id} not found`);
    return batchView(row, this.ui);
  }

  /** Newest first, keyset on (created_at, id): index batches_status_idx serves the status filter. */
  async batches(q: ListBatchesQuery): Promise<Page<BatchView>> {
    const after = decodeCursor(q.cursor, batchCursor);
    const rows = await listBatches(
      this.database.db,
      { status: q.status, before: after },
      q.limit + 1,
    );
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => batchView(r, this.ui)),
      nextCursor: more && last ? encodeCursor([last.createdAtKey, last.id]) : null,
    };
  }
}

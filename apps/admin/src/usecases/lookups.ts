import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { BATCH_STATUSES, findPendingBatchOf, type DatabaseHandle } from '@settlement/db';
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

type BatchRow = {
  id: string;
  topic: string;
  partition: number;
  from_offset: string;
  next_offset: string;
  workflow_id: string;
  status: string;
  message_count: number;
  settled: number;
  rejected: number;
  duplicates: number;
  dead_lettered: number;
  replay_id: string | null;
  error: string | null;
  created_at: string;
  created_at_key: string;
  closed_at: string | null;
  settled_at: string | null;
};

const batchColumns = sql`id, topic, partition, from_offset::text, next_offset::text, workflow_id, status, message_count,
  settled, rejected, duplicates, dead_lettered, replay_id, error,
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at,
  created_at::text as created_at_key,
  to_char(closed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as closed_at,
  to_char(settled_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as settled_at`;

/** The workflow's page in the Temporal Web UI (the same path on Temporal Cloud). */
export function workflowUrl(
  ui: { baseUrl: string; namespace: string },
  workflowId: string,
): string {
  return `${ui.baseUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

function batchView(r: BatchRow, ui: { baseUrl: string; namespace: string }) {
  return {
    id: r.id,
    topic: r.topic,
    partition: r.partition,
    fromOffset: r.from_offset,
    nextOffset: r.next_offset,
    workflowId: r.workflow_id,
    workflowUrl: workflowUrl(ui, r.workflow_id),
    status: r.status,
    counts: {
      messages: r.message_count,
      settled: r.settled,
      rejected: r.rejected,
      duplicates: r.duplicates,
      deadLettered: r.dead_lettered,
    },
    replayId: r.replay_id,
    error: r.error,
    createdAt: r.created_at,
    closedAt: r.closed_at,
    settledAt: r.settled_at,
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
    const rows = await this.database.db.execute<BatchRow>(
      sql`select ${batchColumns} from batches where id = ${view.batchId}`,
    );
    if (!rows[0]) return view;
    const batch = batchView(rows[0], this.ui);
    return { ...view, batch, workflowId: batch.workflowId, workflowUrl: batch.workflowUrl };
  }

  /**
   * SETTLED/REJECTED come from the ledger's transactions table, written in the same database
   * transaction as the postings. An id not settled yet but in a batch that ingest staged and
   * started is PENDING (with its batch); any other id is 404.
   */
  async transaction(id: string): Promise<TransactionView> {
    const rows = await this.database.db.execute<{
      id: string;
      status: 'SETTLED' | 'REJECTED';
      reason: string | null;
      batch_id: string;
      settled_at: string;
      debit_account: string;
      credit_account: string;
      amount: string;
      currency: string;
      topic: string;
      partition: number;
      offset: string;
    }>(sql`select id, status, reason, batch_id,
        to_char(settled_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as settled_at,
        debit_account, credit_account, amount::text, currency, topic, partition, "offset"::text
      from transactions where id = ${id}`);
    const r = rows[0];
    if (!r) {
      const pendingBatch = await findPendingBatchOf(this.database.db, id);
      if (pendingBatch) return this.withBatch({ id, status: 'PENDING', batchId: pendingBatch });
      throw notFound(`transaction ${id} not found`);
    }
    return this.withBatch({
      id: r.id,
      status: r.status,
      ...(r.reason ? { reason: r.reason } : {}),
      batchId: r.batch_id,
      settledAt: r.settled_at,
      debitAccount: r.debit_account,
      creditAccount: r.credit_account,
      amount: r.amount,
      currency: r.currency,
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
    });
  }

  async batch(id: string): Promise<BatchView> {
    const rows = await this.database.db.execute<BatchRow>(
      sql`select ${batchColumns} from batches where id = ${id}`,
    );
    if (!rows[0]) throw notFound(`batch ${id} not found`);
    return batchView(rows[0], this.ui);
  }

  /** Newest first, keyset on (created_at, id): index batches_status_idx serves the status filter. */
  async batches(q: ListBatchesQuery): Promise<Page<BatchView>> {
    const after = decodeCursor(q.cursor, batchCursor);
    const rows = await this.database.db.execute<BatchRow>(sql`
      select ${batchColumns} from batches
      where ${q.status ? sql`status = ${q.status}` : sql`true`}
        and ${after ? sql`(created_at, id) < (${after[0]}::timestamptz, ${after[1]})` : sql`true`}
      order by created_at desc, id desc
      limit ${q.limit + 1}`);
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => batchView(r, this.ui)),
      nextCursor: more && last ? encodeCursor([last.created_at_key, last.id]) : null,
    };
  }
}

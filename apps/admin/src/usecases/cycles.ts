import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { CyclesConfig, KafkaConfig, TemporalConfig } from '@settlement/config';
import {
  cycleIdFor,
  isWholeSecond,
  type CycleReport,
  type CycleStatus,
  type CycleTotals,
} from '@settlement/contracts';
import type { DatabaseHandle } from '@settlement/db';
import { CONFIG, DATABASE, TEMPORAL_CLIENT } from '@settlement/platform';
import { startSettlementCycle } from '@settlement/temporal';
import { recordAudit } from '../audit';
import { conflict, notFound } from '../http/errors';
import { decodeCursor, encodeCursor, limitSchema, type Page } from '../http/pagination';
import type { Caller } from './context';

export const startCycleSchema = z
  .object({
    cutoff: z
      .string({ message: 'cutoff must be an RFC 3339 time, e.g. 2026-11-29T10:05:00Z' })
      .refine(
        (s) =>
          /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(s) &&
          !Number.isNaN(Date.parse(s)),
        'cutoff must be an RFC 3339 time, e.g. 2026-11-29T10:05:00Z',
      )
      .transform((s) => new Date(s))
      .refine(isWholeSecond, 'cutoff must be a whole second (cut-offs fall on whole seconds)')
      .refine((d) => d.getTime() <= Date.now(), 'cutoff must not be in the future'),
  })
  .strict();
export type StartCycleCommand = z.infer<typeof startCycleSchema>;

export const listCyclesSchema = z.object({ limit: limitSchema, cursor: z.string().optional() });
export type ListCyclesQuery = z.infer<typeof listCyclesSchema>;

export const listPositionsSchema = z.object({
  account: z.string().min(1, 'account must not be empty').max(64).optional(),
  limit: limitSchema,
  cursor: z.string().optional(),
});
export type ListPositionsQuery = z.infer<typeof listPositionsSchema>;

const cycleCursor = z.string().regex(/^\d{8}T\d{6}Z$/);
const positionCursor = z.tuple([z.string().min(1), z.string().length(3)]);

type CycleRow = {
  id: string;
  workflow_id: string;
  status: CycleStatus;
  window_start: string;
  cutoff: string;
  transactions: string | null;
  rejected: string | null;
  totals: CycleTotals | null;
  requested_by: string;
  error: string | null;
  created_at: string;
  completed_at: string | null;
};

const utc = (column: string) =>
  sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

const cycleColumns = sql`id, workflow_id, status, ${utc('window_start')} as window_start, ${utc('cutoff')} as cutoff,
  transactions::text, rejected::text, totals, requested_by, error, ${utc('created_at')} as created_at,
  ${utc('completed_at')} as completed_at`;

function cycleView(r: CycleRow): CycleReport {
  return {
    cycleId: r.id,
    workflowId: r.workflow_id,
    status: r.status,
    windowStart: r.window_start,
    cutoff: r.cutoff,
    transactions: Number(r.transactions ?? 0),
    rejected: Number(r.rejected ?? 0),
    totals: r.totals ?? {},
    requestedBy: r.requested_by,
    error: r.error,
    createdAt: r.created_at,
    completedAt: r.completed_at,
  };
}

export interface PositionView {
  account: string;
  currency: string;
  debits: string;
  credits: string;
  net: string;
}

type Config = KafkaConfig & TemporalConfig & CyclesConfig;

@Injectable()
export class CycleUseCases {
  constructor(
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
  ) {}

  /**
   * A cycle for the cut-off: the existing one when it already ran (or runs), otherwise a new
   * run under the cut-off's workflow id, which the Schedule's run for the same cut-off shares.
   * A cut-off inside the window of a cycle that already ran is refused (409): windows are
   * contiguous and never overlap.
   */
  async start(cmd: StartCycleCommand, caller: Caller) {
    const cycleId = cycleIdFor(cmd.cutoff);
    const db = this.database.db;
    const known = await db.execute<{ id: string; workflow_id: string; status: string }>(
      sql`select id, workflow_id, status from settlement_cycles where id = ${cycleId}`,
    );
    if (known[0] && known[0].status !== 'FAILED') {
      return { cycleId, workflowId: known[0].workflow_id, status: known[0].status, existing: true };
    }
    const later = await db.execute<{ id: string }>(
      sql`select id from settlement_cycles where cutoff > ${cmd.cutoff.toISOString()}::timestamptz
          order by cutoff limit 1`,
    );
    if (later[0]) {
      throw conflict(
        `cut-off ${cmd.cutoff.toISOString()} falls in the window of cycle ${later[0].id}, which already ran`,
      );
    }
    return db.transaction(async (tx) => {
      const started = await startSettlementCycle(
        this.temporal,
        { topic: this.config.KAFKA_TOPIC, taskQueue: this.config.TEMPORAL_TASK_QUEUE },
        cmd.cutoff,
        caller.principal.name,
      );
      await recordAudit(tx, {
        principal: caller.principal,
        action: caller.action,
        target: cycleId,
        details: { cutoff: cmd.cutoff.toISOString(), ...started },
        outcome: 'SUCCESS',
        statusCode: 202,
      });
      return { cycleId, workflowId: started.workflowId, existing: started.alreadyStarted };
    });
  }

  /** Newest first; the cursor is the last cycle id (ids sort by cut-off). */
  async list(query: ListCyclesQuery): Promise<Page<CycleReport>> {
    const after = decodeCursor(query.cursor, cycleCursor);
    const rows = await this.database.db.execute<CycleRow>(sql`
      select ${cycleColumns} from settlement_cycles
      ${after ? sql`where id < ${after}` : sql``}
      order by id desc limit ${query.limit + 1}`);
    const items = rows.slice(0, query.limit).map(cycleView);
    const more = rows.length > query.limit;
    return { items, nextCursor: more ? encodeCursor(items[items.length - 1].cycleId) : null };
  }

  async get(id: string): Promise<CycleReport> {
    const rows = await this.database.db.execute<CycleRow>(
      sql`select ${cycleColumns} from settlement_cycles where id = ${id}`,
    );
    if (!rows[0]) throw notFound(`cycle ${id} not found`);
    return cycleView(rows[0]);
  }

  /** A cycle's net positions by account then currency, keyset-paginated. */
  async positions(id: string, query: ListPositionsQuery): Promise<Page<PositionView>> {
    await this.get(id);
    const after = decodeCursor(query.cursor, positionCursor);
    const rows = await this.database.db.execute<{
      account_id: string;
      currency: string;
      debits: string;
      credits: string;
      net: string;
    }>(sql`
      select account_id, currency, debits::text, credits::text, net::text from cycle_positions
      where cycle_id = ${id}
        ${query.account ? sql`and account_id = ${query.account}` : sql``}
        ${after ? sql`and (account_id, currency) > (${after[0]}, ${after[1]})` : sql``}
      order by account_id, currency limit ${query.limit + 1}`);
    const items = rows.slice(0, query.limit).map((r) => ({
      account: r.account_id,
      currency: r.currency,
      debits: r.debits,
      credits: r.credits,
      net: r.net,
    }));
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > query.limit ? encodeCursor([last.account, last.currency]) : null,
    };
  }
}

/** RFC 4180 CSV of a page of positions (values are ids and integers: nothing to quote but ids). */
export function positionsCsv(items: readonly PositionView[]): string {
  const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = ['account,currency,debits,credits,net'];
  for (const p of items)
    lines.push([p.account, p.currency, p.debits, p.credits, p.net].map(cell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

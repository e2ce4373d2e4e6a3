import { Inject, Injectable } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { CyclesConfig, KafkaConfig, TemporalConfig } from '@settlement/config';
import { cycleIdFor, isWholeSecond, type CycleReport } from '@settlement/contracts';
import {
  findCycle,
  findCycleAfter,
  findCycleState,
  listCyclePositions,
  listCycles,
  type CycleListRow,
  type DatabaseHandle,
} from '@settlement/db';
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

function cycleView(r: CycleListRow): CycleReport {
  return {
    cycleId: r.id,
    workflowId: r.workflowId,
    status: r.status,
    windowStart: r.windowStart,
    cutoff: r.cutoff,
    transactions: Number(r.transactions ?? 0),
    rejected: Number(r.rejected ?? 0),
    totals: r.totals ?? {},
    requestedBy: r.requestedBy,
    error: r.error,
    createdAt: r.createdAt,
    completedAt: r.completedAt,
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
    const known = await findCycleState(db, cycleId);
    if (known && known.status !== 'FAILED') {
      return { cycleId, workflowId: known.workflowId, status: known.status, existing: true };
    }
    const later = await findCycleAfter(db, cmd.cutoff);
    if (later) {
      throw conflict(
        `cut-off ${cmd.cutoff.toISOString()} falls in the window of cycle ${later}, which already ran`,
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
    const rows = await listCycles(this.database.db, after, query.limit + 1);
    const items = rows.slice(0, query.limit).map(cycleView);
    const more = rows.length > query.limit;
    return { items, nextCursor: more ? encodeCursor(items[items.length - 1].cycleId) : null };
  }

  async get(id: string): Promise<CycleReport> {
    const row = await findCycle(this.database.db, id);
    if (!row) throw notFound(`cycle ${id} not found`);
    return cycleView(row);
  }

  /** A cycle's net positions by account then currency, keyset-paginated. */
  async positions(id: string, query: ListPositionsQuery): Promise<Page<PositionView>> {
    await this.get(id);
    const after = decodeCursor(query.cursor, positionCursor);
    const rows = await listCyclePositions(
      this.database.db,
      id,
      { account: query.account, after },
      query.limit + 1,
    );
    const items = rows.slice(0, query.limit).map((r) => ({
      account: r.accountId,
      currency: r.currency,
      debits: r.debits.toString(),
      credits: r.credits.toString(),
      net: r.net.toString(),
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

import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import {
  countRedriveMatches,
  existingOutcome,
  newestDeadLetterId,
  planRedrive,
  resubmissionMessage,
  type DeadLetterSourceRow,
  type RedriveFilter,
  type RedriveInput,
} from '@settlement/activities';
import type { AdminConfig, TemporalConfig } from '@settlement/config';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPES } from '@settlement/contracts';
import {
  DEAD_LETTER_REASONS,
  DEAD_LETTER_STATUSES,
  type DatabaseHandle,
  type DeadLetterStatus,
  type LedgerTx,
} from '@settlement/db';
import { decodeUtf8Strict, parseTransactionMessage } from '@settlement/ledger';
import { CONFIG, DATABASE, TEMPORAL_CLIENT } from '@settlement/platform';
import { recordAudit } from '../audit';
import { conflict, forbidden, notFound, unprocessable } from '../http/errors';
import { decodeCursor, encodeCursor, limitSchema, type Page } from '../http/pagination';
import { ResubmissionPublisher } from '../resubmission-publisher.service';
import { cancelRun } from './cancellation';
import type { Caller } from './context';

const rfc3339 = (what: string) =>
  z
    .string({ message: `${what} must be an RFC 3339 time` })
    .refine(
      (s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)),
      `${what} must be an RFC 3339 time`,
    );
const reason = z.enum(DEAD_LETTER_REASONS, {
  message: `reason must be one of ${DEAD_LETTER_REASONS.join(', ')}`,
});

export const listDeadLettersSchema = z.object({
  reason: reason.optional(),
  status: z
    .enum(DEAD_LETTER_STATUSES, {
      message: `status must be one of ${DEAD_LETTER_STATUSES.join(', ')}`,
    })
    .optional(),
  since: rfc3339('since').optional(),
  until: rfc3339('until').optional(),
  limit: limitSchema,
  cursor: z.string().optional(),
});
export type ListDeadLettersQuery = z.infer<typeof listDeadLettersSchema>;

/** A corrected message: the JSON object, or its text exactly as it should be published. */
export const resubmitSchema = z
  .object({
    correctedMessage: z
      .union(
        [
          z.string().max(4096, 'correctedMessage must be at most 4 KiB'),
          z.record(z.string(), z.unknown()),
        ],
        {
          message: 'correctedMessage must be the transaction message (an object or its JSON text)',
        },
      )
      .optional(),
  })
  .strict();
export type ResubmitCommand = z.infer<typeof resubmitSchema>;

export const approveSchema = z
  .object({ note: z.string().max(500, 'note must be at most 500 chars').optional() })
  .strict();
export type ApproveCommand = z.infer<typeof approveSchema>;

export const discardSchema = z
  .object({
    reason: z
      .string({ message: 'reason is required: why the dead letter is written off' })
      .trim()
      .min(1, 'reason must not be empty')
      .max(500, 'reason must be at most 500 chars'),
  })
  .strict();
export type DiscardCommand = z.infer<typeof discardSchema>;

export const redriveSchema = z
  .object({
    filter: z
      .object({
        reason: reason.optional(),
        since: rfc3339('filter.since').optional(),
        until: rfc3339('filter.until').optional(),
      })
      .strict(),
    dryRun: z.boolean({ message: 'dryRun must be true or false' }).default(false),
  })
  .strict();
export type RedriveCommand = z.infer<typeof redriveSchema>;

type DeadLetterRow = {
  id: string;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string;
  headers: Record<string, string | string[]> | null;
  reason: string;
  field: string | null;
  message: string;
  transaction_id: string | null;
  batch_id: string | null;
  created_at: string;
  status: DeadLetterStatus;
  corrected_value: string | null;
  proposed_by: string | null;
  proposed_at: string | null;
  approved_by: string | null;
  approved_at: string | null;
  resubmitted_by: string | null;
  resubmitted_at: string | null;
  redrive_id: string | null;
  discarded_by: string | null;
  discarded_at: string | null;
  discard_reason: string | null;
  message_key: string | null;
  message_value: string | null;
  resubmitted_transaction_id: string | null;
  published_at: string | null;
  published_partition: number | null;
  published_offset: string | null;
  outcome_status: string | null;
  outcome_reason: string | null;
  outcome_batch_id: string | null;
  outcome_settled_at: string | null;
  dead_lettered_again_as: string | null;
};

const iso = (column: string) =>
  sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);

/** Dead letters with their repair and, once the resubmitted message is settled, its outcome. */
const selectDeadLetters = sql`
  select d.id::text, d.topic, d.partition, d."offset"::text, d.key, d.value, d.headers, d.reason,
    d.field, d.message, d.transaction_id, d.batch_id, ${iso('d.created_at')} as created_at,
    coalesce(r.status, 'OPEN') as status, r.corrected_value, r.proposed_by, ${iso('r.proposed_at')} as proposed_at,
    r.approved_by, ${iso('r.approved_at')} as approved_at, r.resubmitted_by,
    ${iso('r.resubmitted_at')} as resubmitted_at, r.redrive_id, r.discarded_by,
    ${iso('r.discarded_at')} as discarded_at, r.discard_reason, r.message_key, r.message_value,
    r.transaction_id as resubmitted_transaction_id, ${iso('r.published_at')} as published_at,
    r.published_partition, r.published_offset::text,
    t.status as outcome_status, t.reason as outcome_reason, t.batch_id as outcome_batch_id,
    ${iso('t.settled_at')} as outcome_settled_at, c.id::text as dead_lettered_again_as
  from dead_letters d
  left join dead_letter_repairs r on r.dead_letter_id = d.id
  left join transactions t on t.id = r.transaction_id and r.status = 'RESUBMITTED'
  left join dead_letters c on c.topic = r.message_topic and c.partition = r.published_partition
    and c."offset" = r.published_offset`;

/** A payload for people: UTF-8 text when the bytes are valid UTF-8, otherwise hex. */
export function displayPayload(base64: string): { encoding: 'utf8' | 'hex'; text: string } {
  const bytes = Buffer.from(base64, 'base64');
  const text = decodeUtf8Strict(bytes);
  return text !== undefined
    ? { encoding: 'utf8', text }
    : { encoding: 'hex', text: bytes.toString('hex') };
}

function view(r: DeadLetterRow) {
  return {
    id: r.id,
    status: r.status,
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    key: r.key,
    /** The original bytes, base64. */
    value: r.value,
    payload: displayPayload(r.value),
    headers: r.headers,
    reason: r.reason,
    field: r.field,
    message: r.message,
    transactionId: r.transaction_id,
    batchId: r.batch_id,
    createdAt: r.created_at,
    proposal:
      r.proposed_by !== null
        ? {
            correctedMessage: r.corrected_value,
            proposedBy: r.proposed_by,
            proposedAt: r.proposed_at,
            approvedBy: r.approved_by,
            approvedAt: r.approved_at,
          }
        : null,
    resubmission:
      r.status === 'RESUBMITTED'
        ? {
            resubmittedBy: r.resubmitted_by,
            resubmittedAt: r.resubmitted_at,
            redriveId: r.redrive_id,
            corrected: r.corrected_value !== null,
            key: r.message_key,
            transactionId: r.resubmitted_transaction_id,
            publishedAt: r.published_at,
            partition: r.published_partition,
            offset: r.published_offset,
            outcome: r.outcome_status
              ? {
                  status: r.outcome_status,
                  ...(r.outcome_reason ? { reason: r.outcome_reason } : {}),
                  batchId: r.outcome_batch_id,
                  settledAt: r.outcome_settled_at,
                }
              : null,
            deadLetteredAgainAs: r.dead_lettered_again_as,
          }
        : null,
    discard:
      r.status === 'DISCARDED'
        ? { discardedBy: r.discarded_by, discardedAt: r.discarded_at, reason: r.discard_reason }
        : null,
  };
}
export type DeadLetterView = ReturnType<typeof view>;

const deadLetterCursor = z.string().regex(/^[0-9]{1,19}$/);
const DEAD_LETTER_ID = /^[1-9][0-9]{0,18}$/;

type Config = AdminConfig & TemporalConfig;

@Injectable()
export class DeadLetterUseCases {
  constructor(
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    private readonly publisher: ResubmissionPublisher,
  ) {}

  /** Newest first by id; filters by reason, lifecycle status and creation time. */
  async list(q: ListDeadLettersQuery): Promise<Page<DeadLetterView>> {
    const after = decodeCursor(q.cursor, deadLetterCursor);
    const rows = await this.database.db.execute<DeadLetterRow>(sql`
      ${selectDeadLetters}
      where ${q.reason ? sql`d.reason = ${q.reason}` : sql`true`}
        and ${q.status ? sql`coalesce(r.status, 'OPEN') = ${q.status}` : sql`true`}
        and ${q.since ? sql`d.created_at >= ${q.since}::timestamptz` : sql`true`}
        and ${q.until ? sql`d.created_at < ${q.until}::timestamptz` : sql`true`}
        and ${after ? sql`d.id < ${after}::bigint` : sql`true`}
      order by d.id desc
      limit ${q.limit + 1}`);
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return { items: page.map(view), nextCursor: more && last ? encodeCursor(last.id) : null };
  }

  async get(id: string): Promise<DeadLetterView> {
    if (!DEAD_LETTER_ID.test(id)) throw notFound(`dead letter ${id} not found`);
    const rows = await this.database.db.execute<DeadLetterRow>(
      sql`${selectDeadLetters} where d.id = ${id}::bigint`,
    );
    if (!rows[0]) throw notFound(`dead letter ${id} not found`);
    return view(rows[0]);
  }

  /**
   * As is: OPEN -> RESUBMITTED, its message written in the same transaction (the outbox
   * entry) and published after the commit. Corrected: OPEN -> PROPOSED, waiting for a
   * different operator's approval. 409 once it left OPEN, or when the transaction id
   * already has an outcome.
   */
  async resubmit(id: string, cmd: ResubmitCommand, caller: Caller) {
    const corrected =
      cmd.correctedMessage === undefined
        ? undefined
        : typeof cmd.correctedMessage === 'string'
          ? cmd.correctedMessage
          : JSON.stringify(cmd.correctedMessage);
    if (corrected !== undefined) checkCorrection(corrected);
    const result = await this.database.db.transaction(async (tx) => {
      const dl = await lockOpen(tx, id);
      if (corrected !== undefined) {
        await refuseTaken(tx, resubmissionMessage(dl, corrected).transactionId);
        await tx.execute(sql`
          insert into dead_letter_repairs (dead_letter_id, status, corrected_value, proposed_by, proposed_at)
          values (${id}::bigint, 'PROPOSED', ${corrected}, ${caller.principal.name}, now())`);
        await recordAudit(tx, {
          principal: caller.principal,
          action: caller.action,
          target: `dead-letter:${id}`,
          details: {
            transition: 'OPEN->PROPOSED',
            proposedBy: caller.principal.name,
            correctedMessage: corrected,
          },
          outcome: 'SUCCESS',
          statusCode: 202,
        });
        return { deadLetterId: id, status: 'PROPOSED' as const, proposedBy: caller.principal.name };
      }
      const message = resubmissionMessage(dl);
      await refuseTaken(tx, message.transactionId);
      await insertResubmitted(tx, id, message, caller.principal.name);
      await recordAudit(tx, {
        principal: caller.principal,
        action: caller.action,
        target: `dead-letter:${id}`,
        details: { transition: 'OPEN->RESUBMITTED', transactionId: message.transactionId },
        outcome: 'SUCCESS',
        statusCode: 202,
      });
      return {
        deadLetterId: id,
        status: 'RESUBMITTED' as const,
        resubmittedBy: caller.principal.name,
        transactionId: message.transactionId,
      };
    });
    if (result.status === 'RESUBMITTED') {
      return { ...result, published: await this.publisher.publish(id) };
    }
    return result;
  }

  /** PROPOSED -> RESUBMITTED by an operator other than the proposer (403 for the proposer). */
  async approve(id: string, cmd: ApproveCommand, caller: Caller) {
    const result = await this.database.db.transaction(async (tx) => {
      const dl = await lockDeadLetter(tx, id);
      if (dl.status !== 'PROPOSED') {
        throw conflict(
          `dead letter ${id} is ${dl.status}: only a PROPOSED correction can be approved`,
        );
      }
      if (dl.proposed_by === caller.principal.name) {
        throw forbidden(
          `four eyes: ${caller.principal.name} proposed this correction and cannot approve it; another operator must`,
        );
      }
      const message = resubmissionMessage(dl, dl.corrected_value);
      await refuseTaken(tx, message.transactionId);
      await tx.execute(sql`
        update dead_letter_repairs set approved_by = ${caller.principal.name}, approved_at = now(),
          resubmitted_by = ${caller.principal.name}, status = 'RESUBMITTED', resubmitted_at = now(),
          message_topic = ${message.topic}, message_key = ${message.key}, message_value = ${message.value},
          message_headers = ${JSON.stringify(message.headers)}::jsonb, transaction_id = ${message.transactionId},
          updated_at = now()
        where dead_letter_id = ${id}::bigint`);
      await recordAudit(tx, {
        principal: caller.principal,
        action: caller.action,
        target: `dead-letter:${id}`,
        details: {
          transition: 'PROPOSED->RESUBMITTED',
          proposedBy: dl.proposed_by,
          approvedBy: caller.principal.name,
          transactionId: message.transactionId,
          note: cmd.note ?? null,
        },
        outcome: 'SUCCESS',
        statusCode: 202,
      });
      return {
        deadLetterId: id,
        status: 'RESUBMITTED' as const,
        proposedBy: dl.proposed_by,
        approvedBy: caller.principal.name,
        transactionId: message.transactionId,
      };
    });
    return { ...result, published: await this.publisher.publish(id) };
  }

  /** OPEN or PROPOSED -> DISCARDED with a reason (a pending proposal is dropped with it). */
  async discard(id: string, cmd: DiscardCommand, caller: Caller) {
    return this.database.db.transaction(async (tx) => {
      const dl = await lockDeadLetter(tx, id);
      if (dl.status === 'RESUBMITTED' || dl.status === 'DISCARDED') {
        throw conflict(`dead letter ${id} is already ${dl.status}`);
      }
      await tx.execute(sql`
        insert into dead_letter_repairs (dead_letter_id, status, discarded_by, discarded_at, discard_reason)
        values (${id}::bigint, 'DISCARDED', ${caller.principal.name}, now(), ${cmd.reason})
        on conflict (dead_letter_id) do update set status = 'DISCARDED', discarded_by = excluded.discarded_by,
          discarded_at = excluded.discarded_at, discard_reason = excluded.discard_reason, updated_at = now()`);
      await recordAudit(tx, {
        principal: caller.principal,
        action: caller.action,
        target: `dead-letter:${id}`,
        details: { transition: `${dl.status}->DISCARDED`, reason: cmd.reason },
        outcome: 'SUCCESS',
        statusCode: 200,
      });
      return {
        deadLetterId: id,
        status: 'DISCARDED' as const,
        discardedBy: caller.principal.name,
        reason: cmd.reason,
      };
    });
  }

  /**
   * Dry run: 200 with what a re-drive would do now. Otherwise records the re-drive and starts
   * its workflow in one step (row, audit row and start succeed or fail together): 202.
   */
  async redrive(cmd: RedriveCommand, caller: Caller) {
    const filter: RedriveFilter = cmd.filter;
    if (cmd.dryRun) {
      return { dryRun: true as const, filter, ...(await planRedrive(this.database.db, filter)) };
    }
    const redriveId = `rdr-${randomBytes(8).toString('hex')}`;
    const workflowId = `dead-letter-redrive-${redriveId}`;
    return this.database.db.transaction(async (tx) => {
      const maxDeadLetterId = await newestDeadLetterId(tx);
      const matched = await countRedriveMatches(tx, filter, maxDeadLetterId);
      await tx.execute(sql`
        insert into dead_letter_redrives (id, workflow_id, filter, max_dead_letter_id, status, matched, requested_by)
        values (${redriveId}, ${workflowId}, ${JSON.stringify(filter)}::jsonb, ${maxDeadLetterId}::bigint,
          'RUNNING', ${matched}, ${caller.principal.name})`);
      await recordAudit(tx, {
        principal: caller.principal,
        action: caller.action,
        target: redriveId,
        details: { filter, matched, maxDeadLetterId },
        outcome: 'SUCCESS',
        statusCode: 202,
      });
      const input: RedriveInput = {
        redriveId,
        filter,
        maxDeadLetterId,
        chunkSize: 100,
        maxPerSecond: this.config.REDRIVE_MAX_PER_SECOND,
      };
      await this.temporal.workflow.start(WORKFLOW_TYPES.redriveDeadLetters, {
        taskQueue: this.config.TEMPORAL_TASK_QUEUE,
        workflowId,
        args: [input],
        typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.status, value: 'RUNNING' }],
        staticSummary: redriveSummary(redriveId, filter, matched),
        staticDetails: `requested by ${caller.principal.name}`,
      });
      return { redriveId, workflowId, filter, matched, maxDeadLetterId };
    });
  }

  async getRedrive(id: string) {
    const rows = await this.database.db.execute<{
      id: string;
      workflow_id: string;
      filter: RedriveFilter;
      max_dead_letter_id: string;
      status: string;
      cursor: string;
      matched: number;
      resubmitted: number;
      skipped: number;
      published: string;
      requested_by: string;
      error: string | null;
      created_at: string;
      finished_at: string | null;
    }>(sql`
      select g.id, g.workflow_id, g.filter, g.max_dead_letter_id::text, g.status, g.cursor::text,
        g.matched, g.resubmitted, g.skipped, g.requested_by, g.error, ${iso('g.created_at')} as created_at,
        ${iso('g.finished_at')} as finished_at,
        (select count(*) from dead_letter_repairs r where r.redrive_id = g.id and r.published_at is not null)::text as published
      from dead_letter_redrives g where g.id = ${id}`);
    const r = rows[0];
    if (!r) throw notFound(`re-drive ${id} not found`);
    return {
      redriveId: r.id,
      workflowId: r.workflow_id,
      status: r.status,
      filter: r.filter,
      maxDeadLetterId: r.max_dead_letter_id,
      cursor: r.cursor,
      counts: {
        matched: r.matched,
        resubmitted: r.resubmitted,
        skipped: r.skipped,
        published: Number(r.published),
      },
      requestedBy: r.requested_by,
      error: r.error,
      createdAt: r.created_at,
      finishedAt: r.finished_at,
    };
  }

  /** Requests cancellation; the workflow publishes the chunk in hand and records CANCELLED. */
  async cancelRedrive(id: string, caller: Caller) {
    return this.database.db.transaction(async (tx) => {
      const rows = await tx.execute<{ status: string; workflowId: string }>(
        sql`select status, workflow_id as "workflowId" from dead_letter_redrives where id = ${id} for update`,
      );
      return {
        redriveId: id,
        ...(await cancelRun(tx, this.temporal, caller, { what: 're-drive', id, row: rows[0] })),
      };
    });
  }
}

/** `re-drive rdr-1 of 12 OPEN dead letters (reason SCHEMA_VIOLATION, since ...)`. */
function redriveSummary(redriveId: string, filter: RedriveFilter, matched: number): string {
  const parts = [
    filter.reason ? `reason ${filter.reason}` : null,
    filter.since ? `since ${filter.since}` : null,
    filter.until ? `until ${filter.until}` : null,
  ].filter((p) => p !== null);
  return `re-drive ${redriveId} of ${matched} OPEN dead letters${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

type LockedDeadLetter = DeadLetterSourceRow & {
  status: DeadLetterStatus;
  corrected_value: string | null;
  proposed_by: string | null;
  resubmitted_by: string | null;
};

/** The dead letter and its repair state, its row locked: transitions of one dead letter serialise. */
async function lockDeadLetter(tx: LedgerTx, id: string): Promise<LockedDeadLetter> {
  if (!DEAD_LETTER_ID.test(id)) throw notFound(`dead letter ${id} not found`);
  const rows = await tx.execute<LockedDeadLetter>(sql`
    select d.id::text, d.topic, d.key, d.value, d.headers, coalesce(r.status, 'OPEN') as status,
      r.corrected_value, r.proposed_by, r.resubmitted_by
    from dead_letters d left join dead_letter_repairs r on r.dead_letter_id = d.id
    where d.id = ${id}::bigint for update of d`);
  if (!rows[0]) throw notFound(`dead letter ${id} not found`);
  return rows[0];
}

async function lockOpen(tx: LedgerTx, id: string): Promise<LockedDeadLetter> {
  const dl = await lockDeadLetter(tx, id);
  if (dl.status === 'RESUBMITTED') {
    throw conflict(`dead letter ${id} was already resubmitted (by ${dl.resubmitted_by})`);
  }
  if (dl.status === 'PROPOSED') {
    throw conflict(
      `dead letter ${id} has a correction proposed by ${dl.proposed_by} awaiting approval: approve or discard it`,
    );
  }
  if (dl.status === 'DISCARDED') throw conflict(`dead letter ${id} was discarded`);
  return dl;
}

/** 409 with the reason when the message's transaction id already has an outcome. */
async function refuseTaken(tx: LedgerTx, transactionId: string | null): Promise<void> {
  if (!transactionId) return;
  const taken = await existingOutcome(tx, transactionId);
  if (taken) throw conflict(taken);
}

async function insertResubmitted(
  tx: LedgerTx,
  id: string,
  message: ReturnType<typeof resubmissionMessage>,
  by: string,
): Promise<void> {
  await tx.execute(sql`
    insert into dead_letter_repairs (dead_letter_id, status, resubmitted_by, resubmitted_at,
      message_topic, message_key, message_value, message_headers, transaction_id)
    values (${id}::bigint, 'RESUBMITTED', ${by}, now(), ${message.topic}, ${message.key},
      ${message.value}, ${JSON.stringify(message.headers)}::jsonb, ${message.transactionId})`);
}

/**
 * A correction must be a valid transaction message by the contract's rules (the same
 * validation ingest applies), so a proposal cannot be approved into another dead letter.
 */
function checkCorrection(text: string): void {
  const parsed = parseTransactionMessage(Buffer.from(text, 'utf8'));
  if (!parsed.ok) {
    throw unprocessable(
      `the corrected message is not a valid transaction: ${parsed.reason}${parsed.field ? ` (field '${parsed.field}')` : ''}: ${parsed.message}`,
    );
  }
}

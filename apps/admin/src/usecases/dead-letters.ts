import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import {
  existingOutcome,
  planRedrive,
  repairMessage,
  resubmissionMessage,
  type DeadLetterSourceRow,
  type RedriveFilter,
  type RedriveInput,
} from '@settlement/activities';
import type { AdminConfig, TemporalConfig } from '@settlement/config';
import {
  approveCorrection,
  countRedriveMatches,
  DEAD_LETTER_REASONS,
  DEAD_LETTER_STATUSES,
  discardDeadLetter,
  findDeadLetter,
  findRedrive,
  insertRedrive,
  listDeadLetters,
  lockDeadLetterForRepair,
  lockRedrive,
  newestDeadLetterId,
  proposeCorrection,
  resubmitAsIs,
  type DatabaseHandle,
  type DeadLetterStatus,
  type DeadLetterWithRepair,
  type LedgerTx,
} from '@settlement/db';
import { decodeUtf8Strict, parseTransactionMessage } from '@settlement/ledger';
import { CONFIG, DATABASE, TEMPORAL_CLIENT } from '@settlement/platform';
import { redriveWorkflowId, startRedrive } from '@settlement/temporal';
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

/** A payload for people: UTF-8 text when the bytes are valid UTF-8, otherwise hex. */
export function displayPayload(base64: string): { encoding: 'utf8' | 'hex'; text: string } {
  const bytes = Buffer.from(base64, 'base64');
  const text = decodeUtf8Strict(bytes);
  return text !== undefined
    ? { encoding: 'utf8', text }
    : { encoding: 'hex', text: bytes.toString('hex') };
}

function view(r: DeadLetterWithRepair) {
  return {
    id: r.id.toString(),
    status: r.status,
    topic: r.topic,
    partition: r.partition,
    offset: r.offset.toString(),
    key: r.key,
    /** The original bytes, base64. */
    value: r.value,
    payload: displayPayload(r.value),
    headers: r.headers,
    reason: r.reason,
    field: r.field,
    message: r.message,
    transactionId: r.transactionId,
    batchId: r.batchId,
    createdAt: r.createdAt,
    proposal:
      r.proposedBy !== null
        ? {
            correctedMessage: r.correctedValue,
            proposedBy: r.proposedBy,
            proposedAt: r.proposedAt,
            approvedBy: r.approvedBy,
            approvedAt: r.approvedAt,
          }
        : null,
    resubmission:
      r.status === 'RESUBMITTED'
        ? {
            resubmittedBy: r.resubmittedBy,
            resubmittedAt: r.resubmittedAt,
            redriveId: r.redriveId,
            corrected: r.correctedValue !== null,
            key: r.messageKey,
            transactionId: r.resubmittedTransactionId,
            publishedAt: r.publishedAt,
            partition: r.publishedPartition,
            offset: r.publishedOffset?.toString() ?? null,
            outcome: r.outcomeStatus
              ? {
                  status: r.outcomeStatus,
                  ...(r.outcomeReason ? { reason: r.outcomeReason } : {}),
                  batchId: r.outcomeBatchId,
                  settledAt: r.outcomeSettledAt,
                }
              : null,
            deadLetteredAgainAs: r.deadLetteredAgainAs?.toString() ?? null,
          }
        : null,
    discard:
      r.status === 'DISCARDED'
        ? { discardedBy: r.discardedBy, discardedAt: r.discardedAt, reason: r.discardReason }
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
    const rows = await listDeadLetters(
      this.database.db,
      {
        reason: q.reason,
        status: q.status,
        since: q.since,
        until: q.until,
        beforeId: after ? BigInt(after) : undefined,
      },
      q.limit + 1,
    );
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(view),
      nextCursor: more && last ? encodeCursor(last.id.toString()) : null,
    };
  }

  async get(id: string): Promise<DeadLetterView> {
    if (!DEAD_LETTER_ID.test(id)) throw notFound(`dead letter ${id} not found`);
    const row = await findDeadLetter(this.database.db, BigInt(id));
    if (!row) throw notFound(`dead letter ${id} not found`);
    return view(row);
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
        await proposeCorrection(tx, BigInt(id), corrected, caller.principal.name);
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
      await resubmitAsIs(tx, BigInt(id), repairMessage(message), caller.principal.name);
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
      if (dl.proposedBy === caller.principal.name) {
        throw forbidden(
          `four eyes: ${caller.principal.name} proposed this correction and cannot approve it; another operator must`,
        );
      }
      const message = resubmissionMessage(dl, dl.correctedValue);
      await refuseTaken(tx, message.transactionId);
      await approveCorrection(tx, BigInt(id), repairMessage(message), caller.principal.name);
      await recordAudit(tx, {
        principal: caller.principal,
        action: caller.action,
        target: `dead-letter:${id}`,
        details: {
          transition: 'PROPOSED->RESUBMITTED',
          proposedBy: dl.proposedBy,
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
        proposedBy: dl.proposedBy,
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
      await discardDeadLetter(tx, BigInt(id), cmd.reason, caller.principal.name);
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
    const workflowId = redriveWorkflowId(redriveId);
    return this.database.db.transaction(async (tx) => {
      const maxId = await newestDeadLetterId(tx);
      const maxDeadLetterId = maxId.toString();
      const matched = await countRedriveMatches(tx, filter, maxId);
      await insertRedrive(tx, {
        id: redriveId,
        workflowId,
        filter: { ...filter },
        maxDeadLetterId: maxId,
        matched,
        requestedBy: caller.principal.name,
      });
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
      await startRedrive(this.temporal, this.config.TEMPORAL_TASK_QUEUE, input, {
        matched,
        requestedBy: caller.principal.name,
      });
      return { redriveId, workflowId, filter, matched, maxDeadLetterId };
    });
  }

  async getRedrive(id: string) {
    const r = await findRedrive(this.database.db, id);
    if (!r) throw notFound(`re-drive ${id} not found`);
    return {
      redriveId: r.id,
      workflowId: r.workflowId,
      status: r.status,
      filter: r.filter as RedriveFilter,
      maxDeadLetterId: r.maxDeadLetterId.toString(),
      cursor: r.cursor.toString(),
      counts: {
        matched: r.matched,
        resubmitted: r.resubmitted,
        skipped: r.skipped,
        published: r.published,
      },
      requestedBy: r.requestedBy,
      error: r.error,
      createdAt: r.createdAt,
      finishedAt: r.finishedAt,
    };
  }

  /** Requests cancellation; the workflow publishes the chunk in hand and records CANCELLED. */
  async cancelRedrive(id: string, caller: Caller) {
    return this.database.db.transaction(async (tx) => {
      const row = await lockRedrive(tx, id);
      return {
        redriveId: id,
        ...(await cancelRun(tx, this.temporal, caller, { what: 're-drive', id, row })),
      };
    });
  }
}

type LockedDeadLetter = DeadLetterSourceRow & {
  status: DeadLetterStatus;
  correctedValue: string | null;
  proposedBy: string | null;
  resubmittedBy: string | null;
};

/** The dead letter and its repair state, its row locked: transitions of one dead letter serialise. */
async function lockDeadLetter(tx: LedgerTx, id: string): Promise<LockedDeadLetter> {
  if (!DEAD_LETTER_ID.test(id)) throw notFound(`dead letter ${id} not found`);
  const row = await lockDeadLetterForRepair(tx, BigInt(id));
  if (!row) throw notFound(`dead letter ${id} not found`);
  return { ...row, id: row.id.toString() };
}

async function lockOpen(tx: LedgerTx, id: string): Promise<LockedDeadLetter> {
  const dl = await lockDeadLetter(tx, id);
  if (dl.status === 'RESUBMITTED') {
    throw conflict(`dead letter ${id} was already resubmitted (by ${dl.resubmittedBy})`);
  }
  if (dl.status === 'PROPOSED') {
    throw conflict(
      `dead letter ${id} has a correction proposed by ${dl.proposedBy} awaiting approval: approve or discard it`,
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

import { sql } from 'drizzle-orm';
import type { BatchMessage, SettleBatchInput, SettleBatchResult } from '@settlement/contracts';
import { deadLetterHeaders } from '@settlement/contracts';
import {
  advanceCursor,
  findTransactionHashes,
  insertDeadLetters,
  insertOutbox,
  insertPostings,
  insertTransactions,
  lockAndApplyMovements,
  lockCursor,
  readAccounts,
  type Database,
  type DeadLetterRow,
  type LedgerTx,
  type OutboxRow,
  type TransactionRow,
} from '@settlement/db';
import {
  accountIdsOf,
  buildSettlementEvent,
  contentHash,
  dedupeWithinBatch,
  formatAmount,
  lockOrder,
  parseTransactionRecord,
  postBatch,
  serializeSettlementEvent,
  type Transaction,
} from '@settlement/ledger';
import { ConcurrentSettlementError, InvalidBatchError, PredecessorPendingError } from './errors';

export interface SettleDeps {
  db: Database;
  topics: { outcomes: string; deadLetters: string };
  /** Injected for tests; the wall clock otherwise. */
  now?: () => Date;
  /** How long a batch waits for its predecessor before failing to be retried (ms). */
  turnWaitMs?: number;
}

interface Candidate {
  offset: string;
  key: string | null;
  value: string;
  headers?: Record<string, string>;
  tx: Transaction;
  id: string;
  contentHash: string;
}

const OFFSET = /^(0|[1-9][0-9]{0,18})$/;

/**
 * Waits briefly, with cheap unlocked reads of the cursor, until the previous batch of the
 * partition has committed, then lets the batch proceed; past the wait it fails with
 * PredecessorPendingError and Temporal retries later. Checking before any parsing or locking
 * keeps an early successor from burning CPU and task-queue round trips in a retry loop.
 */
async function awaitTurn(deps: SettleDeps, batch: SettleBatchInput): Promise<void> {
  const from = BigInt(batch.fromOffset);
  const deadline = Date.now() + (deps.turnWaitMs ?? 1000);
  for (;;) {
    const rows = await deps.db.execute<{ next_offset: string }>(
      sql`select next_offset::text from partition_cursors where topic = ${batch.topic} and partition = ${batch.partition}`,
    );
    const cursor = rows.length ? BigInt(rows[0].next_offset) : undefined;
    if (cursor !== undefined && cursor >= from) return;
    if (Date.now() >= deadline) {
      throw new PredecessorPendingError(
        `${batch.topic}/${batch.partition} stands at ${cursor ?? 'no cursor'}, batch starts at ${batch.fromOffset}`,
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The batch with its messages at hand, inline or read from where ingest staged them. */
type ResolvedBatch = SettleBatchInput & { messages: BatchMessage[] };

async function loadStagedMessages(
  db: Database,
  batchId: string,
): Promise<BatchMessage[] | undefined> {
  const rows = await db.execute<{ staged_messages: string | null }>(
    sql`select staged_messages from batches where id = ${batchId}`,
  );
  const text = rows[0]?.staged_messages;
  return text ? (JSON.parse(text) as BatchMessage[]) : undefined;
}

/**
 * Applies one micro-batch to the ledger in a single PostgreSQL transaction: postings,
 * balances, transaction records, dead letters for conflicts, the outbox of outcomes, the
 * batch row and the partition cursor. Every write is keyed, so a retry after a crash at any
 * point either finds the batch applied or applies it once.
 */
export async function settleBatch(
  deps: SettleDeps,
  batch: SettleBatchInput,
  workflowId: string,
): Promise<SettleBatchResult> {
  if (!batch.replayId) await awaitTurn(deps, batch);
  const staged = batch.messages ?? (await loadStagedMessages(deps.db, batch.batchId));
  if (staged === undefined) {
    // Cleared at settlement: only an already applied batch may have none.
    return deps.db.transaction(async (tx) => {
      const cursor = batch.replayId
        ? undefined
        : await lockCursor(tx, batch.topic, batch.partition);
      if (cursor !== undefined && cursor >= BigInt(batch.nextOffset)) {
        return alreadyApplied(tx, { ...batch, messages: [] }, workflowId);
      }
      throw new InvalidBatchError(`the staged messages of ${batch.batchId} are missing`);
    });
  }
  const input: ResolvedBatch = { ...batch, messages: staged };
  assertWellFormed(input);
  const settledAt = (deps.now ?? (() => new Date()))();
  // Ingest validated already; validating again keeps the ledger safe from any producer of
  // workflow input (replay, an older ingest version). CPU work, so before the transaction.
  const parsedMessages = input.messages.map((m) => {
    const parsed = parseTransactionRecord(m.key, m.value);
    return { m, parsed, hash: parsed.ok ? contentHash(parsed.tx) : '' };
  });
  return deps.db.transaction(async (tx) => {
    let applyFrom = BigInt(input.fromOffset);
    if (!input.replayId) {
      const cursor = await lockCursor(tx, input.topic, input.partition);
      if (cursor === undefined) {
        throw new PredecessorPendingError(`no cursor for ${input.topic}/${input.partition} yet`);
      }
      if (cursor >= BigInt(input.nextOffset)) return alreadyApplied(tx, input, workflowId);
      if (cursor < applyFrom) {
        throw new PredecessorPendingError(
          `${input.topic}/${input.partition} stands at ${cursor}, batch starts at ${input.fromOffset}`,
        );
      }
      // An overlapping batch (formed before a consumer restart) already applied the head.
      applyFrom = cursor;
    }

    const deadLetters: DeadLetterRow[] = [];
    const outbox: OutboxRow[] = [];
    const candidates: Candidate[] = [];
    for (const { m, parsed, hash } of parsedMessages) {
      if (BigInt(m.offset) < applyFrom) continue;
      if (!parsed.ok) {
        deadLetter(
          deadLetters,
          outbox,
          deps,
          input,
          m,
          parsed.reason,
          parsed.field,
          parsed.message,
          null,
        );
        continue;
      }
      candidates.push({ ...m, tx: parsed.tx, id: parsed.tx.id, contentHash: hash });
    }

    // Same id, same content: a duplicate, no effect. Same id, other content: a conflict.
    const known = await findTransactionHashes(
      tx,
      candidates.map((c) => c.id),
    );
    const { kept: fresh, duplicates: repeated, conflicts } = dedupeWithinBatch(candidates, known);
    for (const c of conflicts) {
      deadLetter(
        deadLetters,
        outbox,
        deps,
        input,
        c,
        'DUPLICATE_CONFLICT',
        'id',
        `id ${c.id} was seen before with different content`,
        c.id,
      );
    }

    const accounts = await readAccounts(tx, accountIdsOf(fresh.map((c) => c.tx)));
    const posted = postBatch(
      accounts,
      fresh.map((c) => c.tx),
    );

    const rows: TransactionRow[] = fresh.map((c, i) => {
      const outcome = posted.outcomes[i];
      return {
        id: c.tx.id,
        contentHash: c.contentHash,
        debitAccount: c.tx.debitAccount,
        creditAccount: c.tx.creditAccount,
        amount: formatAmount(c.tx.amount),
        currency: c.tx.currency,
        occurredAt: c.tx.occurredAt,
        reference: c.tx.reference ?? null,
        status: outcome.status,
        reason: outcome.status === 'REJECTED' ? outcome.reason : null,
        offset: c.offset,
      };
    });
    const inserted = await insertTransactions(tx, input, rows, settledAt);
    if (inserted !== rows.length) {
      throw new ConcurrentSettlementError(
        `${rows.length - inserted} transaction ids of ${input.batchId} were settled concurrently`,
      );
    }
    await insertPostings(
      tx,
      input.batchId,
      posted.postings.map((p) => ({ ...p, amount: p.amount.toString() })),
    );
    await insertDeadLetters(tx, deadLetters);

    let settled = 0;
    let rejected = 0;
    for (const outcome of posted.outcomes) {
      if (outcome.status === 'SETTLED') settled++;
      else rejected++;
      const event = buildSettlementEvent({
        id: outcome.transactionId,
        status: outcome.status,
        reason: outcome.status === 'REJECTED' ? outcome.reason : undefined,
        batchId: input.batchId,
        settledAt,
      });
      outbox.push({
        topic: deps.topics.outcomes,
        key: outcome.transactionId,
        payload: serializeSettlementEvent(event),
        headers: null,
      });
    }
    await insertOutbox(tx, input.batchId, outbox);

    const result: SettleBatchResult = {
      batchId: input.batchId,
      settled,
      rejected,
      duplicates: repeated.length,
      deadLettered: input.deadLettered + deadLetters.length,
      alreadyApplied: false,
    };
    // Account locks are taken here, for the last statements only (see lockAndApplyMovements).
    const debited = lockOrder(fresh.map((c) => c.tx.debitAccount));
    if (!(await lockAndApplyMovements(tx, accounts, debited, posted.netMovements))) {
      throw new ConcurrentSettlementError(
        `an account of ${input.batchId} was debited concurrently`,
      );
    }
    await recordBatch(tx, input, workflowId, result, settledAt);
    if (!input.replayId) {
      await advanceCursor(tx, input.topic, input.partition, input.nextOffset);
    }
    return result;
  });
}

function deadLetter(
  deadLetters: DeadLetterRow[],
  outbox: OutboxRow[],
  deps: SettleDeps,
  input: SettleBatchInput,
  m: { offset: string; key: string | null; value: string; headers?: Record<string, string> },
  reason: string,
  field: string | null,
  message: string,
  transactionId: string | null,
): void {
  deadLetters.push({
    topic: input.topic,
    partition: input.partition,
    offset: m.offset,
    key: m.key,
    value: Buffer.from(m.value, 'utf8').toString('base64'),
    headers: m.headers ?? null,
    reason,
    field,
    message,
    transactionId,
    batchId: input.batchId,
  });
  outbox.push({
    topic: deps.topics.deadLetters,
    key: m.key,
    payload: m.value,
    headers: {
      ...m.headers,
      ...deadLetterHeaders({
        topic: input.topic,
        partition: input.partition,
        offset: m.offset,
        reason,
        field,
        message,
      }),
    },
  });
}

async function recordBatch(
  tx: LedgerTx,
  input: ResolvedBatch,
  workflowId: string,
  result: SettleBatchResult,
  settledAt: Date,
): Promise<void> {
  await tx.execute(sql`
    insert into batches (id, topic, partition, from_offset, next_offset, workflow_id, status, message_count,
      settled, rejected, duplicates, dead_lettered, replay_id, closed_at, settled_at)
    values (${input.batchId}, ${input.topic}, ${input.partition}, ${input.fromOffset}::bigint, ${input.nextOffset}::bigint,
      ${workflowId}, 'SETTLED', ${input.messages.length + input.deadLettered}, ${result.settled},
      ${result.rejected}, ${result.duplicates}, ${result.deadLettered}, ${input.replayId ?? null},
      to_timestamp(${input.closedAt}::double precision / 1000), ${settledAt.toISOString()}::timestamptz)
    on conflict (id) do update set status = 'SETTLED', settled = excluded.settled, rejected = excluded.rejected,
      duplicates = excluded.duplicates, dead_lettered = excluded.dead_lettered, settled_at = excluded.settled_at,
      message_count = excluded.message_count, error = null, staged_messages = null`);
}

/** The cursor is past this batch: report what the ledger recorded, change nothing. */
async function alreadyApplied(
  tx: LedgerTx,
  input: ResolvedBatch,
  workflowId: string,
): Promise<SettleBatchResult> {
  const rows = await tx.execute<{
    settled: number;
    rejected: number;
    duplicates: number;
    dead_lettered: number;
    status: string;
  }>(
    sql`select settled, rejected, duplicates, dead_lettered, status from batches where id = ${input.batchId}`,
  );
  const row = rows[0];
  if (row?.status === 'SETTLED') {
    return {
      batchId: input.batchId,
      settled: row.settled,
      rejected: row.rejected,
      duplicates: row.duplicates,
      deadLettered: row.dead_lettered,
      alreadyApplied: true,
    };
  }
  // Another batch covering the same offsets (formed before a consumer restart) applied and
  // counted every message: this one records zeros, so batch counts add up to the log.
  const result: SettleBatchResult = {
    batchId: input.batchId,
    settled: 0,
    rejected: 0,
    duplicates: 0,
    deadLettered: 0,
    alreadyApplied: true,
  };
  await recordBatch(tx, input, workflowId, result, new Date());
  return result;
}

function assertWellFormed(input: ResolvedBatch): void {
  const problems: string[] = [];
  if (!Number.isInteger(input.partition) || input.partition < 0) problems.push('partition');
  if (!OFFSET.test(input.fromOffset)) problems.push('fromOffset');
  if (!OFFSET.test(input.nextOffset)) problems.push('nextOffset');
  if (problems.length === 0 && BigInt(input.nextOffset) < BigInt(input.fromOffset))
    problems.push('offset range');
  let previous = -1n;
  for (const m of input.messages) {
    if (!OFFSET.test(m.offset)) {
      problems.push(`message offset ${m.offset}`);
      break;
    }
    const offset = BigInt(m.offset);
    if (
      offset <= previous ||
      offset < BigInt(input.fromOffset) ||
      offset >= BigInt(input.nextOffset)
    ) {
      problems.push(`message offset ${m.offset} out of order or range`);
      break;
    }
    previous = offset;
  }
  if (problems.length)
    throw new InvalidBatchError(`batch ${input.batchId} is malformed: ${problems.join(', ')}`);
}

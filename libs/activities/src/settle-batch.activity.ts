import {
  countReasons,
  type BatchMessage,
  type SettleBatchInput,
  type SettleBatchResult,
} from '@settlement/contracts';
import {
  advanceCursor,
  batchRowOf,
  findBatchCounts,
  findTransactionHashes,
  insertOutbox,
  insertTransactionsAndPostings,
  loadStagedMessages,
  lockAndApplyMovements,
  lockCursor,
  outboxByTopic,
  readAccounts,
  readCursor,
  recordDeadLetters,
  recordSettledBatch,
  type Database,
  type LedgerTx,
  type OutboxMessage,
  type OutboxRow,
  type PartitionTurns,
  type TransactionRow,
} from '@settlement/db';
import {
  accountIdsOf,
  buildSettlementEvent,
  contentHash,
  dedupeWithinBatch,
  formatAmount,
  parseTransactionRecord,
  postBatch,
  serializeSettlementEvent,
  type ParseResult,
  type Transaction,
} from '@settlement/ledger';
import { buildDeadLetter, sourceOfBatchMessage, type DeadLetterVerdict } from '@settlement/records';
import { inSpan } from '@settlement/observability';
import { ConcurrentSettlementError, InvalidBatchError, PredecessorPendingError } from './errors';

export interface SettleDeps {
  db: Database;
  topics: { outcomes: string; deadLetters: string };
  /** Injected for tests; the wall clock otherwise. */
  now?: () => Date;
  /** How long a batch waits for its predecessor before failing to be retried (ms). */
  turnWaitMs?: number;
  /** Wakes a waiting batch when its predecessor commits (the worker listens); else it polls. */
  turns?: PartitionTurns;
}

/** Cursor re-reads while waiting: polling without `turns`, a fallback with them. */
const POLL_MS = 10;
const RECHECK_MS = 100;

interface Candidate {
  offset: string;
  key: string | null;
  value: string;
  timestamp: string;
  headers?: BatchMessage['headers'];
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
  // Watching before the first read: a commit between the read and the wait is not missed.
  const watch = deps.turns?.watch(batch.topic, batch.partition);
  try {
    for (;;) {
      const cursor = await readCursor(deps.db, batch.topic, batch.partition);
      if (cursor !== undefined && cursor >= from) return;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new PredecessorPendingError(
          `${batch.topic}/${batch.partition} stands at ${cursor ?? 'no cursor'}, batch starts at ${batch.fromOffset}`,
        );
      }
      if (watch) await watch.next(Math.min(left, RECHECK_MS));
      else await new Promise((r) => setTimeout(r, Math.min(left, POLL_MS)));
    }
  } finally {
    watch?.close();
  }
}

/** The batch with its messages at hand, inline or read from where ingest staged them. */
type ResolvedBatch = SettleBatchInput & { messages: BatchMessage[] };

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
  return (await settleBatchWithOutbox(deps, batch, workflowId)).result;
}

/** A settlement's result and the outbox records its transaction wrote. */
export interface SettledBatch {
  result: SettleBatchResult;
  /** By topic, in writing order; empty when the batch was applied before. */
  outbox: ReadonlyMap<string, OutboxMessage[]>;
}

/**
 * {@link settleBatch}, also handing back the outbox records it wrote, so the caller can
 * publish them after the commit without reading them back.
 */
export async function settleBatchWithOutbox(
  deps: SettleDeps,
  batch: SettleBatchInput,
  workflowId: string,
): Promise<SettledBatch> {
  if (!batch.replayId) await awaitTurn(deps, batch);
  const staged = batch.messages ?? (await loadStagedMessages(deps.db, batch.batchId));
  if (staged === undefined) return settledBefore(deps, batch, workflowId);
  const input: ResolvedBatch = { ...batch, messages: staged };
  assertWellFormed(input);
  const settledAt = (deps.now ?? (() => new Date()))();
  const parsed = parseMessages(input);
  const settle = { deps, input, workflowId, parsed, settledAt };
  const attributes = { 'settlement.batch_id': input.batchId, 'db.system': 'postgresql' };
  try {
    return await inSpan('ledger commit', attributes, () => applyOnce(settle, false));
  } catch (err) {
    // A concurrent debit beat the optimistic snapshot (replays, several in flight on one
    // account): settle again at once with the accounts locked before reading, which cannot
    // lose that race, instead of going back to Temporal's queue to race again.
    if (!(err instanceof DebitRaceError)) throw err;
    return inSpan('ledger commit (accounts locked)', attributes, () => applyOnce(settle, true));
  }
}

interface SettleAttempt {
  deps: SettleDeps;
  input: ResolvedBatch;
  workflowId: string;
  parsed: readonly Parsed[];
  settledAt: Date;
}

/** A debited account lost funds after the snapshot: only the optimistic attempt throws it. */
class DebitRaceError extends ConcurrentSettlementError {}

/**
 * One PostgreSQL transaction applying the batch. Optimistic (`lockAccountsFirst` false): the
 * accounts are read without locks and verified under lock at the end; pessimistic: they are
 * locked, in lock order, as they are read.
 */
function applyOnce(
  { deps, input, workflowId, parsed, settledAt }: SettleAttempt,
  lockAccountsFirst: boolean,
): Promise<SettledBatch> {
  return deps.db.transaction(async (tx) => {
    const applyFrom = await claimRange(tx, input);
    if (applyFrom === undefined) return nothingWritten(alreadyApplied(tx, input, workflowId));
    const { candidates, invalid } = splitFrom(parsed, applyFrom);
    const { fresh, duplicates, conflicts } = await sortRepeats(tx, candidates);
    const accounts = await readAccounts(tx, accountIdsOf(fresh.map((c) => c.tx)), {
      lock: lockAccountsFirst,
    });
    const posted = postBatch(
      accounts,
      fresh.map((c) => c.tx),
    );
    await writeTransactions(tx, input, fresh, posted.outcomes, settledAt);
    const deadLetters = [...invalid, ...conflicts.map(conflictDeadLetter)];
    const recorded = await writeDeadLetters(tx, deps, input, deadLetters);
    const outcomes = outcomeRecords(deps, input, posted.outcomes, settledAt);
    await insertOutbox(tx, input.batchId, outcomes);
    const result = settledResult(input, posted.outcomes, duplicates.length, deadLetters);
    await recordBatch(tx, input, workflowId, result, settledAt);
    if (!input.replayId) {
      await advanceCursor(tx, input.topic, input.partition, input.nextOffset);
    }
    // Last, so the account locks other batches queue on are held for one statement and
    // the commit.
    await moveBalances(tx, input, accounts, fresh, posted.netMovements);
    return { result, outbox: outboxByTopic([...recorded, ...outcomes]) };
  });
}

/**
 * Records the batch's dead letters (invalid messages, id conflicts) with their DLQ records
 * in the outbox; returns the records of those that were new, for publishing.
 */
async function writeDeadLetters(
  tx: LedgerTx,
  deps: SettleDeps,
  input: ResolvedBatch,
  deadLetters: readonly Rejected[],
): Promise<OutboxRow[]> {
  const topic = deps.topics.deadLetters;
  const recorded = await recordDeadLetters(
    tx,
    input.batchId,
    topic,
    deadLetters.map(({ m, verdict }) =>
      buildDeadLetter(
        sourceOfBatchMessage(input.topic, input.partition, m),
        verdict,
        input.batchId,
      ),
    ),
  );
  return recorded.map((d) => ({ topic, message: d.record }));
}

/** What the workflow reports for a batch applied now. */
function settledResult(
  input: ResolvedBatch,
  outcomes: ReturnType<typeof postBatch>['outcomes'],
  duplicates: number,
  deadLetters: readonly Rejected[],
): SettleBatchResult {
  return {
    batchId: input.batchId,
    settled: outcomes.filter((o) => o.status === 'SETTLED').length,
    rejected: outcomes.filter((o) => o.status !== 'SETTLED').length,
    duplicates,
    deadLettered: input.deadLettered + deadLetters.length,
    rejectedReasons: countReasons(
      outcomes.flatMap((o) => (o.status === 'REJECTED' ? [o.reason] : [])),
    ),
    deadLetterReasons: countReasons(deadLetters.map((d) => d.verdict.reason)),
    alreadyApplied: false,
  };
}

async function nothingWritten(result: Promise<SettleBatchResult>): Promise<SettledBatch> {
  return { result: await result, outbox: new Map() };
}

/** Staged messages are cleared at settlement: only an already applied batch may have none. */
async function settledBefore(
  deps: SettleDeps,
  batch: SettleBatchInput,
  workflowId: string,
): Promise<SettledBatch> {
  return deps.db.transaction(async (tx) => {
    const cursor = batch.replayId ? undefined : await lockCursor(tx, batch.topic, batch.partition);
    if (cursor !== undefined && cursor >= BigInt(batch.nextOffset)) {
      return nothingWritten(alreadyApplied(tx, { ...batch, messages: [] }, workflowId));
    }
    throw new InvalidBatchError(`the staged messages of ${batch.batchId} are missing`);
  });
}

type Parsed = { m: BatchMessage; parsed: ParseResult; hash: string };

/**
 * Ingest validated already; validating again keeps the ledger safe from any producer of
 * workflow input (replay, an older ingest version). CPU work, so before the transaction.
 */
function parseMessages(input: ResolvedBatch): Parsed[] {
  return input.messages.map((m) => {
    const parsed = parseTransactionRecord(m.key, m.value);
    return { m, parsed, hash: parsed.ok ? contentHash(parsed.tx) : '' };
  });
}

/**
 * Locks the partition cursor and says where this batch applies from: undefined when the
 * cursor is past the batch (applied before); the cursor itself when an overlapping batch
 * (formed before a consumer restart) applied the head. Replays never touch the cursor.
 */
async function claimRange(tx: LedgerTx, input: ResolvedBatch): Promise<bigint | undefined> {
  const from = BigInt(input.fromOffset);
  if (input.replayId) return from;
  const cursor = await lockCursor(tx, input.topic, input.partition);
  if (cursor === undefined) {
    throw new PredecessorPendingError(`no cursor for ${input.topic}/${input.partition} yet`);
  }
  if (cursor >= BigInt(input.nextOffset)) return undefined;
  if (cursor < from) {
    throw new PredecessorPendingError(
      `${input.topic}/${input.partition} stands at ${cursor}, batch starts at ${input.fromOffset}`,
    );
  }
  return cursor;
}

interface Rejected {
  m: BatchMessage;
  verdict: DeadLetterVerdict;
}

function splitFrom(
  parsed: readonly Parsed[],
  applyFrom: bigint,
): { candidates: Candidate[]; invalid: Rejected[] } {
  const candidates: Candidate[] = [];
  const invalid: Rejected[] = [];
  for (const { m, parsed: p, hash } of parsed) {
    if (BigInt(m.offset) < applyFrom) continue;
    if (!p.ok) invalid.push({ m, verdict: p });
    else
      candidates.push({
        offset: m.offset,
        key: m.key,
        value: m.value,
        timestamp: m.timestamp,
        headers: m.headers,
        tx: p.tx,
        id: p.tx.id,
        contentHash: hash,
      });
  }
  return { candidates, invalid };
}

/** Same id, same content: a duplicate, no effect. Same id, other content: a conflict. */
async function sortRepeats(tx: LedgerTx, candidates: Candidate[]) {
  const known = await findTransactionHashes(
    tx,
    candidates.map((c) => c.id),
  );
  const { kept, duplicates, conflicts } = dedupeWithinBatch(candidates, known);
  return { fresh: kept, duplicates, conflicts };
}

const conflictDeadLetter = (c: Candidate): Rejected => ({
  m: c,
  verdict: {
    reason: 'DUPLICATE_CONFLICT',
    field: 'id',
    message: `id ${c.id} was seen before with different content`,
    transactionId: c.id,
  },
});

/**
 * Inserts the transaction records and the postings of the settled ones (derived in SQL from
 * the same rows, see insertTransactionsAndPostings); a row that was not new means a
 * concurrent settlement.
 */
async function writeTransactions(
  tx: LedgerTx,
  input: ResolvedBatch,
  fresh: readonly Candidate[],
  outcomes: ReturnType<typeof postBatch>['outcomes'],
  settledAt: Date,
): Promise<void> {
  const rows: TransactionRow[] = fresh.map((c, i) => {
    const outcome = outcomes[i];
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
  const inserted = await insertTransactionsAndPostings(tx, input, rows, settledAt);
  if (inserted !== rows.length) {
    throw new ConcurrentSettlementError(
      `${rows.length - inserted} transaction ids of ${input.batchId} were settled concurrently`,
    );
  }
}

/** The outcome events of the batch, for the outbox (published after the commit). */
function outcomeRecords(
  deps: SettleDeps,
  input: ResolvedBatch,
  outcomes: ReturnType<typeof postBatch>['outcomes'],
  settledAt: Date,
): OutboxRow[] {
  const at = settledAt.toISOString(); // once per batch, not per outcome
  return outcomes.map((outcome) => ({
    topic: deps.topics.outcomes,
    message: {
      key: outcome.transactionId,
      value: serializeSettlementEvent(
        buildSettlementEvent({
          id: outcome.transactionId,
          status: outcome.status,
          reason: outcome.status === 'REJECTED' ? outcome.reason : undefined,
          batchId: input.batchId,
          settledAt: at,
        }),
      ),
    },
  }));
}

/** Account locks are taken here, in the transaction's last statement (see lockAndApplyMovements). */
async function moveBalances(
  tx: LedgerTx,
  input: ResolvedBatch,
  accounts: Awaited<ReturnType<typeof readAccounts>>,
  fresh: readonly Candidate[],
  movements: ReturnType<typeof postBatch>['netMovements'],
): Promise<void> {
  const debited = fresh.map((c) => c.tx.debitAccount);
  if (!(await lockAndApplyMovements(tx, accounts, debited, movements))) {
    throw new DebitRaceError(`an account of ${input.batchId} was debited concurrently`);
  }
}

async function recordBatch(
  tx: LedgerTx,
  input: ResolvedBatch,
  workflowId: string,
  result: SettleBatchResult,
  settledAt: Date,
): Promise<void> {
  await recordSettledBatch(tx, {
    ...batchRowOf(input, workflowId),
    messageCount: input.messages.length + input.deadLettered,
    settled: result.settled,
    rejected: result.rejected,
    duplicates: result.duplicates,
    deadLettered: result.deadLettered,
    replayId: input.replayId ?? null,
    settledAt,
  });
}

/** The cursor is past this batch: report what the ledger recorded, change nothing. */
async function alreadyApplied(
  tx: LedgerTx,
  input: ResolvedBatch,
  workflowId: string,
): Promise<SettleBatchResult> {
  const row = await findBatchCounts(tx, input.batchId);
  if (row?.status === 'SETTLED') {
    return {
      batchId: input.batchId,
      settled: row.settled,
      rejected: row.rejected,
      duplicates: row.duplicates,
      deadLettered: row.deadLettered,
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

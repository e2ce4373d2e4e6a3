import type { Kafka } from 'kafkajs';
import { ApplicationFailure } from '@temporalio/common';
import {
  addReasons,
  countReasons,
  ERROR_TYPES,
  type SettleBatchInput,
} from '@settlement/contracts';
import {
  findDeadLetterReasons,
  findRecordedOutcomes,
  loadReplayProgress,
  recordDeadLetters,
  saveReplayProgress,
  setReplayStatus,
  type Database,
  type DeadLetterWrite,
  type LedgerTx,
  type ReplayProgressRow,
} from '@settlement/db';
import {
  buildDeadLetter,
  judgeRecord,
  readPartitionRange,
  toBatchMessage,
  type RawMessage,
} from '@settlement/records';
import { contentHash, type Transaction } from '@settlement/ledger';
import { countSettlement } from './outcome-metrics';
import { settleBatch } from './settle-batch.activity';
import {
  emptyCounts,
  type ReplayChunkInput,
  type ReplayChunkResult,
  type ReplayCounts,
  type ReplayDifference,
  type ReplayStatus,
  type ReplayTotals,
} from './replay.types';

export interface ReplayDeps {
  db: Database;
  kafka?: Kafka;
  topics: { outcomes: string; deadLetters: string };
  now?: () => Date;
}

const MAX_SAMPLES = 20;

export function replayBatchId(input: ReplayChunkInput): string {
  return `replay-${input.replayId}-${input.topic}-${input.partition}-${input.fromOffset}-${input.toOffset}`;
}

const totalsOf = (r: ReplayProgressRow): ReplayTotals => ({
  counts: {
    read: Number(r.read),
    alreadySettled: Number(r.alreadySettled),
    settled: Number(r.settled),
    rejected: Number(r.rejected),
    deadLettered: Number(r.deadLettered),
  },
  differences: Number(r.differences),
});

/** A chunk's counts and differences added to the replay's row, its partition moved on. */
function advanced(
  row: ReplayProgressRow,
  partition: string,
  toOffset: string,
  delta: ReplayCounts,
  differences: readonly ReplayDifference[],
): ReplayProgressRow {
  const samples = [
    ...((row.differenceSamples ?? []) as unknown as ReplayDifference[]),
    ...differences,
  ];
  return {
    progress: { ...(row.progress ?? {}), [partition]: toOffset },
    read: row.read + BigInt(delta.read),
    alreadySettled: row.alreadySettled + BigInt(delta.alreadySettled),
    settled: row.settled + BigInt(delta.settled),
    rejected: row.rejected + BigInt(delta.rejected),
    deadLettered: row.deadLettered + BigInt(delta.deadLettered),
    differences: row.differences + BigInt(differences.length),
    differenceSamples: samples.slice(0, MAX_SAMPLES) as unknown as Record<string, unknown>[],
  };
}

/** Reads [from, to) of one partition; stops, releasing what it holds, when `signal` aborts. */
export type PartitionReader = (
  range: { topic: string; partition: number; from: bigint; to: bigint },
  signal: AbortSignal,
) => Promise<RawMessage[]>;

/** What a chunk needs of the replay's row and the ledger (PostgreSQL in production). */
export interface ReplayChunkStore {
  /** The replay's totals when this chunk was applied already (a retry), else undefined. */
  appliedAlready(input: ReplayChunkInput): Promise<ReplayChunkResult | undefined>;
  /** Applies the chunk's messages and moves the replay's progress, in one transaction. */
  apply(input: ReplayChunkInput, raw: RawMessage[]): Promise<ReplayChunkResult>;
}

/**
 * One chunk of a replay: read [fromOffset, toOffset) of one partition from Kafka, then in ONE
 * database transaction (holding the replay's row lock) settle it through the live settle path
 * with replayId set (never moving the live cursor) or, in verify mode, compare it with the
 * ledger, and advance the replay's progress and counts. The progress check makes a retry of a
 * chunk whose transaction already committed (worker killed before reporting) a no-op, so the
 * counts stay exact; settleBatch's keys make a second settlement impossible anyway.
 */
export async function replayChunk(
  deps: ReplayDeps,
  input: ReplayChunkInput,
  cancelled: AbortSignal,
): Promise<ReplayChunkResult> {
  const kafka = deps.kafka;
  if (!kafka) throw ApplicationFailure.nonRetryable('the worker has no Kafka client for replays');
  const read: PartitionReader = (r, signal) =>
    readPartitionRange(kafka, r.topic, r.partition, r.from, r.to, undefined, signal);
  return replayChunkSteps({ read, store: postgresChunkStore(deps) }, input, cancelled);
}

/**
 * The steps of a chunk. A cancelled chunk (its workflow cancelled, its attempt timed out, its
 * worker shutting down) stops before the read, during it (the reader lets go of Kafka) or
 * before the transaction, so it changes nothing; the CancelledFailure goes back to Temporal,
 * which records the cancellation. Once the transaction runs, the chunk is finished instead.
 */
export async function replayChunkSteps(
  ports: { read: PartitionReader; store: ReplayChunkStore },
  input: ReplayChunkInput,
  cancelled: AbortSignal,
): Promise<ReplayChunkResult> {
  // Cheap pre-check without locks: skip the Kafka read when a retry finds the chunk done.
  const done = await ports.store.appliedAlready(input);
  if (done) return done;
  cancelled.throwIfAborted();
  const raw = await ports.read(
    {
      topic: input.topic,
      partition: input.partition,
      from: BigInt(input.fromOffset),
      to: BigInt(input.toOffset),
    },
    cancelled,
  );
  cancelled.throwIfAborted();
  return ports.store.apply(input, raw);
}

const unchanged = (row: ReplayProgressRow): ReplayChunkResult => ({
  ...totalsOf(row),
  readNow: 0,
  outboxBatchId: null,
});

function postgresChunkStore(deps: ReplayDeps): ReplayChunkStore {
  return {
    async appliedAlready(input) {
      const before = await loadReplay(deps.db, input.replayId, false);
      return before.progress?.[String(input.partition)] !== input.fromOffset
        ? unchanged(before)
        : undefined;
    },
    apply: (input, raw) => applyChunk(deps, input, raw),
  };
}

async function applyChunk(
  deps: ReplayDeps,
  input: ReplayChunkInput,
  raw: RawMessage[],
): Promise<ReplayChunkResult> {
  const key = String(input.partition);
  let decided: Decided | undefined;
  const result = await deps.db.transaction(async (tx) => {
    const row = await loadReplay(tx, input.replayId, true);
    if (row.progress?.[key] !== input.fromOffset) return unchanged(row);
    const delta = emptyCounts();
    let differences: ReplayDifference[] = [];
    let outboxBatchId: string | null = null;
    if (input.mode === 'settle') {
      const settled = await settleChunk(deps, tx, input, raw);
      Object.assign(delta, settled.counts);
      decided = settled.decided;
      outboxBatchId = replayBatchId(input);
    } else {
      const verified = await verifyChunk(tx, input, raw);
      Object.assign(delta, verified.counts);
      differences = verified.differences;
    }
    // The row is locked since loadReplay: adding here is adding in the database.
    const updated = await saveReplayProgress(
      tx,
      input.replayId,
      advanced(row, key, input.toOffset, delta, differences),
    );
    return { ...totalsOf(updated), readNow: delta.read, outboxBatchId };
  });
  // Committed: count what this chunk decided (a retry of a committed chunk decides nothing).
  if (decided) countSettlement(decided);
  return result;
}

/** The outcomes one replay chunk decided itself, for the counters. */
type Decided = Parameters<typeof countSettlement>[0];

async function loadReplay(
  db: Pick<Database, 'select'>,
  replayId: string,
  lock: boolean,
): Promise<ReplayProgressRow> {
  const row = await loadReplayProgress(db, replayId, lock);
  if (!row) {
    throw ApplicationFailure.nonRetryable(
      `replay ${replayId} has no row`,
      ERROR_TYPES.replayNotFound,
    );
  }
  return row;
}

interface Classified {
  valid: { m: RawMessage; tx: Transaction }[];
  invalid: { m: RawMessage; reason: string; field: string | null; message: string }[];
}

function classify(raw: RawMessage[]): Classified {
  const out: Classified = { valid: [], invalid: [] };
  for (const record of raw) {
    const { source: m, parsed } = judgeRecord(record);
    if (parsed.ok) out.valid.push({ m, tx: parsed.tx });
    else
      out.invalid.push({
        m,
        reason: parsed.reason,
        field: parsed.field ?? null,
        message: parsed.message,
      });
  }
  return out;
}

/**
 * A replay chunk as settlement sees it: its dead letters (built like ingest builds them,
 * byte for byte) and the batch of its valid messages.
 */
export function formReplayChunk(
  input: ReplayChunkInput,
  raw: RawMessage[],
  closedAt: number,
): { batch: SettleBatchInput; deadLetters: DeadLetterWrite[] } {
  const batchId = replayBatchId(input);
  const { valid, invalid } = classify(raw);
  return {
    deadLetters: invalid.map((d) => buildDeadLetter(d.m, d, batchId)),
    batch: {
      batchId,
      topic: input.topic,
      partition: input.partition,
      fromOffset: input.fromOffset,
      nextOffset: input.toOffset,
      messages: valid.map(({ m }) => toBatchMessage(m, m.timestamp)),
      deadLettered: invalid.length,
      closedAt,
      replayId: input.replayId,
    },
  };
}

/**
 * Settle mode: invalid messages are dead-lettered here (once: those already recorded, by live
 * ingest or an earlier replay, count as dead-lettered but are neither recorded nor published
 * again), valid ones go to settleBatch.
 */
async function settleChunk(
  deps: ReplayDeps,
  tx: LedgerTx,
  input: ReplayChunkInput,
  raw: RawMessage[],
): Promise<{ counts: ReplayCounts; decided: Decided }> {
  const closedAt = (deps.now ?? (() => new Date()))().getTime();
  const { batch, deadLetters } = formReplayChunk(input, raw, closedAt);
  const fresh = await recordDeadLetters(tx, batch.batchId, deps.topics.deadLetters, deadLetters);
  // The same settle path as live batches, nested in this transaction (a savepoint), so the
  // ledger effect and the replay's progress commit together.
  const result = await settleBatch(
    { db: tx as unknown as Database, topics: deps.topics, now: deps.now },
    batch,
    `replay-${input.replayId}`,
  );
  return {
    counts: {
      read: raw.length,
      alreadySettled: result.duplicates,
      settled: result.settled,
      rejected: result.rejected,
      deadLettered: result.deadLettered,
    },
    // Already settled transactions and known dead letters were counted when first decided.
    decided: {
      settled: result.settled,
      duplicates: 0,
      rejectedReasons: result.rejectedReasons,
      deadLetterReasons: addReasons(
        countReasons(fresh.map((d) => d.row.reason)),
        result.deadLetterReasons,
      ),
    },
  };
}

/**
 * Verify mode: re-derive each message's outcome class without writing to the ledger and
 * compare with what the ledger holds. Counts describe the ledger's record of the range.
 */
async function verifyChunk(
  tx: LedgerTx,
  input: ReplayChunkInput,
  raw: RawMessage[],
): Promise<{ counts: ReplayCounts; differences: ReplayDifference[] }> {
  const counts = emptyCounts();
  counts.read = raw.length;
  const differences: ReplayDifference[] = [];
  const { valid, invalid } = classify(raw);
  const recorded = await findDeadLetterReasons(tx, {
    topic: input.topic,
    partition: input.partition,
    fromOffset: BigInt(input.fromOffset),
    toOffset: BigInt(input.toOffset),
  });
  const dead = new Map([...recorded].map(([offset, reason]) => [offset.toString(), reason]));
  const diff = (m: RawMessage, transactionId: string | null, expected: string, actual: string) =>
    differences.push({
      partition: input.partition,
      offset: m.offset,
      transactionId,
      expected,
      actual,
    });

  for (const d of invalid) {
    counts.deadLettered++;
    const actual = dead.get(d.m.offset);
    if (actual !== d.reason)
      diff(
        d.m,
        null,
        `DEAD_LETTER ${d.reason}`,
        actual ? `DEAD_LETTER ${actual}` : 'no dead letter',
      );
  }
  if (valid.length === 0) return { counts, differences };

  const ids = [...new Set(valid.map((v) => v.tx.id))];
  const stored = await findRecordedOutcomes(tx, ids);
  for (const { m, tx: t } of valid) {
    const s = stored.get(t.id);
    if (!s) {
      diff(m, t.id, 'an outcome (SETTLED or REJECTED)', 'not in the ledger');
      continue;
    }
    if (s.contentHash !== contentHash(t)) {
      counts.deadLettered++;
      const actual = dead.get(m.offset);
      if (actual !== 'DUPLICATE_CONFLICT')
        diff(
          m,
          t.id,
          'DEAD_LETTER DUPLICATE_CONFLICT',
          actual ? `DEAD_LETTER ${actual}` : 'no dead letter',
        );
      continue;
    }
    const original =
      s.topic === input.topic && s.partition === input.partition && s.offset === BigInt(m.offset);
    if (!original) {
      counts.alreadySettled++;
      continue;
    }
    if (s.status === 'SETTLED') {
      counts.settled++;
      if (s.postings !== 2)
        diff(m, t.id, 'SETTLED with 2 postings', `SETTLED with ${s.postings} postings`);
      else if (s.debitCurrency !== t.currency || s.creditCurrency !== t.currency)
        diff(m, t.id, 'REJECTED CURRENCY_MISMATCH', 'SETTLED');
    } else {
      counts.rejected++;
      if (
        s.reason === 'CURRENCY_MISMATCH' &&
        s.debitCurrency === t.currency &&
        s.creditCurrency === t.currency
      )
        diff(m, t.id, 'not CURRENCY_MISMATCH (currencies match)', 'REJECTED CURRENCY_MISMATCH');
      // UNKNOWN_ACCOUNT and INSUFFICIENT_FUNDS depend on the ledger at settlement time
      // (accounts opened later, balances since): not re-derivable from today's state.
    }
  }
  return { counts, differences };
}

/** Final status of a replay (COMPLETED, CANCELLED, FAILED); idempotent. */
export async function recordReplayStatus(
  deps: Pick<ReplayDeps, 'db'>,
  input: { replayId: string; status: ReplayStatus; error?: string },
): Promise<void> {
  await setReplayStatus(deps.db, input.replayId, input.status, input.error ?? null);
}

import type { Producer } from 'kafkajs';
import { ApplicationFailure } from '@temporalio/common';
import {
  ERROR_TYPES,
  cycleIdFor,
  type CycleSummary,
  type CycleWindow,
  type SettlementCycleEvent,
} from '@settlement/contracts';
import {
  computeCyclePositions,
  countInProgress,
  findCycleAfter,
  findCycleForStep,
  findCycleState,
  findCycleTargets,
  findLatestCycle,
  findPositionsReadBefore,
  insertClosedCycle,
  lockCycleStarts,
  markCycleCompleted,
  markCycleFailed,
  markCycleVerified,
  openTransactionIds,
  readCycleBalances,
  readPartitionCursors,
  reopenFailedCycle,
  sealCycle,
  type CycleBalances,
  type CycleState,
  type Database,
  type LedgerTx,
} from '@settlement/db';
import { describeCycleProblem, verifyCycle, type PositionBalances } from '@settlement/ledger';
import { describeLagging, partitionsBehind, storedTotalsDiffer } from './cycle-checks';

export interface CycleDeps {
  db: Database;
  producer?: Producer;
  /** Where completed cycles are announced (KAFKA_CYCLE_TOPIC). */
  topic: string;
  /** How long a cycle waits for the batches read before its cut-off (ms). */
  graceMs: number;
}

/** A cycle without a row is a bug or a lost row: an operator must look. */
const cycleNotFound = (cycleId: string) =>
  ApplicationFailure.nonRetryable(`cycle ${cycleId} has no row`, ERROR_TYPES.cycleNotFound);

async function loadCycle(
  db: Database | LedgerTx,
  cycleId: string,
  lock = false,
): Promise<CycleState> {
  const cycle = await findCycleForStep(db, cycleId, lock);
  if (!cycle) throw cycleNotFound(cycleId);
  return cycle;
}

const windowOf = (r: CycleState): CycleWindow => ({
  cycleId: r.id,
  windowStart: r.windowStart,
  cutoff: r.cutoff,
  status: r.status,
});

const summaryOf = (r: CycleState): CycleSummary => ({
  ...windowOf(r),
  transactions: Number(r.transactions ?? 0),
  positions: r.positions,
  totals: r.totals ?? {},
});

/**
 * Step 1: closes the window (previous cut-off, cut-off] and records, per partition, the
 * position ingest had read to at the cut-off (the batches it had recorded by then): the
 * batches that may hold transactions of the window. Idempotent: a retry, a second run or an
 * operator asking for the same cut-off finds the row. Cycles run one at a time in cut-off
 * order: an earlier cycle still running makes this one wait (retryable), a failed one or a
 * later one that already ran refuses it.
 */
export async function closeCycleWindow(
  deps: CycleDeps,
  input: { cutoff: string; workflowId: string; requestedBy: string },
): Promise<CycleWindow> {
  const cutoff = new Date(input.cutoff);
  const cycleId = cycleIdFor(cutoff);
  const graceSeconds = Math.ceil(deps.graceMs / 1000);
  return deps.db.transaction(async (tx) => {
    await lockCycleStarts(tx);
    const existing = await findCycleState(tx, cycleId);
    // A new run for a failed cut-off (an operator re-ran it): resume from the last good step.
    if (existing?.status === 'FAILED') await reopenFailedCycle(tx, cycleId, graceSeconds);
    if (existing) return windowOf(await loadCycle(tx, cycleId));

    const previous = await checkCycleOrder(tx, cutoff);
    await insertClosedCycle(
      tx,
      {
        id: cycleId,
        workflowId: input.workflowId,
        windowStart: previous?.cutoff ?? new Date(0),
        cutoff,
        partitionTargets: await findPositionsReadBefore(tx, cutoff),
        requestedBy: input.requestedBy,
      },
      graceSeconds,
    );
    return windowOf(await loadCycle(tx, cycleId));
  });
}

/**
 * Cycles run one at a time in cut-off order: refuses a cut-off inside a window that already
 * ran or after a failed cycle, and waits (retryably) for a cycle still running. Returns the
 * previous cycle, whose cut-off starts the new window.
 */
async function checkCycleOrder(db: LedgerTx, cutoff: Date) {
  const later = await findCycleAfter(db, cutoff);
  if (later) {
    throw ApplicationFailure.nonRetryable(
      `cycle ${later} has a later cut-off and already ran: windows are contiguous, a cut-off inside a closed window cannot get a cycle of its own`,
      ERROR_TYPES.cycleOutOfOrder,
    );
  }
  const prev = await findLatestCycle(db);
  if (prev?.status === 'FAILED') {
    throw ApplicationFailure.nonRetryable(
      `the previous cycle ${prev.id} failed: re-run it (POST /admin/cycles with its cut-off) before this one`,
      ERROR_TYPES.previousCycleFailed,
    );
  }
  if (prev && prev.status !== 'COMPLETED') {
    throw ApplicationFailure.retryable(
      `the previous cycle ${prev.id} is ${prev.status}; this one starts when it completes`,
      ERROR_TYPES.previousCyclePending,
    );
  }
  return prev;
}

/**
 * Step 2: waits until every partition's settlement cursor has passed the position read
 * before the cut-off, so the batches in flight at the cut-off are in the window. Polls for
 * up to `pollMs`, then fails retryably (Temporal retries with backoff); past the cycle's
 * grace deadline it fails for good, naming the partitions still behind.
 */
export async function awaitWindowSettled(
  deps: CycleDeps,
  input: { cycleId: string },
  options: { pollMs?: number; heartbeat?: () => void } = {},
): Promise<{ waitedMs: number }> {
  const started = Date.now();
  const until = started + (options.pollMs ?? 20_000);
  for (;;) {
    options.heartbeat?.();
    const cycle = await findCycleTargets(deps.db, input.cycleId);
    if (!cycle) throw cycleNotFound(input.cycleId);
    if (cycle.sealed) return { waitedMs: 0 };
    const topics = [...new Set(cycle.partitionTargets.map((t) => t.topic))];
    const lagging = partitionsBehind(
      cycle.partitionTargets,
      await readPartitionCursors(deps.db, topics),
    );
    if (lagging.length === 0) return { waitedMs: Date.now() - started };
    const behind = describeLagging(lagging);
    if (cycle.overdue) {
      throw ApplicationFailure.nonRetryable(
        `cycle ${input.cycleId}: batches read before the cut-off are still unsettled after the grace period (${behind})`,
        ERROR_TYPES.cycleWindowNotSettled,
      );
    }
    if (Date.now() >= until) {
      throw ApplicationFailure.retryable(
        `cycle ${input.cycleId} waits for ${behind}`,
        'WindowNotSettledYet',
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Step 3: seals the window, then computes every account's net position in it with one
 * set-based statement. Sealing commits first; a trigger (migration 0006) then refuses any
 * transaction settled in a sealed window, so a writer that took its settlement time before
 * the cut-off but inserts after the seal retries with a fresh time and lands in the next
 * cycle. Writers that inserted before the seal are still in progress at most: the step waits
 * until every transaction in progress at the seal has ended, without a table lock, so
 * settlement never stops for a cycle. Nothing is counted twice or lost. A retry after the
 * positions committed finds the cycle COMPUTED and returns what it stored.
 */
export async function computeNetPositions(
  deps: CycleDeps,
  input: { cycleId: string },
  options: { drainMs?: number } = {},
): Promise<CycleSummary> {
  const before = await loadCycle(deps.db, input.cycleId);
  if (before.status !== 'CLOSED') return summaryOf(before);
  await sealCycle(deps.db, input.cycleId);
  await awaitTransactionsInProgress(deps.db, input.cycleId, options.drainMs ?? 30_000);

  return deps.db.transaction(async (tx) => {
    const cycle = await loadCycle(tx, input.cycleId, true);
    if (cycle.status !== 'CLOSED') return summaryOf(cycle);
    await computeCyclePositions(tx, cycle);
    return summaryOf(await loadCycle(tx, cycle.id));
  });
}

/**
 * Waits until every database transaction in progress now (just after the seal committed) has
 * ended in this database: a settlement that passed the seal check before the seal is one of them. Past
 * `drainMs` it fails retryably, naming how many are still open.
 */
async function awaitTransactionsInProgress(
  db: Database,
  cycleId: string,
  drainMs: number,
): Promise<void> {
  const xids = await openTransactionIds(db);
  const deadline = Date.now() + drainMs;
  while (xids.length > 0) {
    const open = await countInProgress(db, xids);
    if (open === 0) return;
    if (Date.now() > deadline) {
      throw ApplicationFailure.retryable(
        `cycle ${cycleId}: ${open} database transactions open since the seal have not ended`,
        ERROR_TYPES.cycleSealDraining,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Step 4: checks the stored positions against the ledger: each currency nets to zero and
 * every account's net equals the change of its balance over the window, the closing balance
 * of its previous cycle to its balance at the cut-off (today's balance less what settled
 * since). Accounts without postings in the window must not have moved. Read-only apart from
 * the status, so a retry simply checks again.
 */
export async function verifyNetPositions(
  deps: CycleDeps,
  input: { cycleId: string },
): Promise<CycleSummary> {
  const cycle = await loadCycle(deps.db, input.cycleId);
  if (cycle.status === 'VERIFIED' || cycle.status === 'COMPLETED') return summaryOf(cycle);
  const balances = await readCycleBalances(deps.db, cycle);
  const check = verifyCycle(balances.map(toPositionBalances));
  const totalsDiffer = storedTotalsDiffer(check.totals, cycle.totals ?? {});
  if (!check.ok || totalsDiffer) {
    const problems = check.problems.slice(0, 10).map(describeCycleProblem);
    if (totalsDiffer) problems.push('stored totals differ from the positions');
    throw ApplicationFailure.nonRetryable(
      `cycle ${cycle.id} failed verification (${check.problems.length} problems): ${problems.join('; ')}`,
      ERROR_TYPES.cycleVerificationFailed,
    );
  }
  await markCycleVerified(deps.db, cycle.id);
  return summaryOf(await loadCycle(deps.db, cycle.id));
}

const toPositionBalances = ({
  accountId,
  currency,
  debits,
  credits,
  net,
  opening,
  closing,
}: CycleBalances): PositionBalances => ({
  position: { accountId, currency, debits, credits, net },
  opening,
  closing,
});

/**
 * Step 5: announces the cycle on the `settlement-cycles` topic, then records it COMPLETED.
 * A crash between the two sends the event again: consumers dedupe by cycleId.
 */
export async function publishCycle(
  deps: CycleDeps,
  input: { cycleId: string },
): Promise<CycleSummary> {
  const cycle = await loadCycle(deps.db, input.cycleId);
  if (cycle.status === 'COMPLETED') return summaryOf(cycle);
  if (cycle.status !== 'VERIFIED') {
    throw ApplicationFailure.nonRetryable(
      `cycle ${cycle.id} is ${cycle.status}, not VERIFIED: it cannot be published`,
      ERROR_TYPES.cycleVerificationFailed,
    );
  }
  if (!deps.producer) throw ApplicationFailure.nonRetryable('the worker has no Kafka producer');
  const event: SettlementCycleEvent = {
    ...summaryOf(cycle),
    status: 'COMPLETED',
    workflowId: cycle.workflowId,
    completedAt: new Date().toISOString(),
  };
  await deps.producer.send({
    topic: deps.topic,
    acks: -1,
    messages: [{ key: cycle.id, value: JSON.stringify(event) }],
  });
  await markCycleCompleted(deps.db, cycle.id);
  return summaryOf(await loadCycle(deps.db, cycle.id));
}

/** Records why a cycle failed (idempotent; a completed cycle stays completed). */
export async function recordCycleFailure(
  deps: Pick<CycleDeps, 'db'>,
  input: { cycleId: string; error: string },
): Promise<void> {
  await markCycleFailed(deps.db, input.cycleId, input.error);
}

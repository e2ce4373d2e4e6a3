import { sql } from 'drizzle-orm';
import type { Producer } from 'kafkajs';
import { ApplicationFailure } from '@temporalio/common';
import {
  cycleIdFor,
  type CycleStatus,
  type CycleSummary,
  type CycleTotals,
  type CycleWindow,
  type SettlementCycleEvent,
} from '@settlement/contracts';
import { pgArray, type Database, type LedgerTx } from '@settlement/db';
import {
  describeCycleProblem,
  parseLedgerInteger,
  verifyCycle,
  type PositionBalances,
} from '@settlement/ledger';

export interface CycleDeps {
  db: Database;
  producer?: Producer;
  /** Where completed cycles are announced (KAFKA_CYCLE_TOPIC). */
  topic: string;
  /** How long a cycle waits for the batches read before its cut-off (ms). */
  graceMs: number;
}

/** Non-retryable failures of a cycle: retrying cannot help, an operator must look. */
export const CYCLE_FAILURES = [
  'CycleOutOfOrder',
  'PreviousCycleFailed',
  'CycleWindowNotSettled',
  'CycleVerificationFailed',
  'CycleNotFound',
] as const;

type Queryable = { execute: LedgerTx['execute'] };

type CycleRow = {
  id: string;
  workflow_id: string;
  window_start: string;
  cutoff: string;
  status: CycleStatus;
  sealed: boolean;
  transactions: string | null;
  totals: CycleTotals | null;
  positions: string;
};

const iso = (column: string) =>
  sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

async function loadCycle(db: Queryable, cycleId: string, lock = false): Promise<CycleRow> {
  const rows = await db.execute<CycleRow>(sql`
    select id, workflow_id, ${iso('window_start')} as window_start, ${iso('cutoff')} as cutoff, status,
      sealed_at is not null as sealed, transactions::text, totals,
      (select count(*) from cycle_positions p where p.cycle_id = c.id)::text as positions
    from settlement_cycles c where id = ${cycleId} ${lock ? sql`for update of c` : sql``}`);
  if (!rows[0])
    throw ApplicationFailure.nonRetryable(`cycle ${cycleId} has no row`, 'CycleNotFound');
  return rows[0];
}

const windowOf = (r: CycleRow): CycleWindow => ({
  cycleId: r.id,
  windowStart: r.window_start,
  cutoff: r.cutoff,
  status: r.status,
});

const summaryOf = (r: CycleRow): CycleSummary => ({
  ...windowOf(r),
  transactions: Number(r.transactions ?? 0),
  positions: Number(r.positions),
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
    // Serialises cycle starts, so the order checks below and the insert are one step.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('settlement_cycles'))`);
    const existing = await tx.execute<{ id: string; status: CycleStatus }>(
      sql`select id, status from settlement_cycles where id = ${cycleId}`,
    );
    if (existing[0]?.status === 'FAILED') {
      // A new run for a failed cut-off (an operator re-ran it): resume from the last good step.
      await tx.execute(sql`
        update settlement_cycles set status = case when sealed_at is null then 'CLOSED' else 'COMPUTED' end,
          error = null, grace_deadline = now() + make_interval(secs => ${graceSeconds}), updated_at = now()
        where id = ${cycleId}`);
    }
    if (existing[0]) return windowOf(await loadCycle(tx, cycleId));

    const later = await tx.execute<{ id: string }>(
      sql`select id from settlement_cycles where cutoff > ${input.cutoff}::timestamptz order by cutoff limit 1`,
    );
    if (later[0]) {
      throw ApplicationFailure.nonRetryable(
        `cycle ${later[0].id} has a later cut-off and already ran: windows are contiguous, a cut-off inside a closed window cannot get a cycle of its own`,
        'CycleOutOfOrder',
      );
    }
    const previous = await tx.execute<{ id: string; status: CycleStatus; cutoff: string }>(sql`
      select id, status, cutoff::text from settlement_cycles order by cutoff desc limit 1`);
    const prev = previous[0];
    if (prev?.status === 'FAILED') {
      throw ApplicationFailure.nonRetryable(
        `the previous cycle ${prev.id} failed: re-run it (POST /admin/cycles with its cut-off) before this one`,
        'PreviousCycleFailed',
      );
    }
    if (prev && prev.status !== 'COMPLETED') {
      throw ApplicationFailure.retryable(
        `the previous cycle ${prev.id} is ${prev.status}; this one starts when it completes`,
        'PreviousCyclePending',
      );
    }
    await tx.execute(sql`
      insert into settlement_cycles (id, workflow_id, window_start, cutoff, status, partition_targets,
        grace_deadline, requested_by)
      select ${cycleId}, ${input.workflowId}, coalesce(${prev?.cutoff ?? null}::timestamptz, 'epoch'::timestamptz),
        ${input.cutoff}::timestamptz, 'CLOSED',
        coalesce((select jsonb_agg(jsonb_build_object('topic', topic, 'partition', partition, 'nextOffset', next_offset::text))
          from (select topic, partition, max(next_offset) as next_offset from batches
                where replay_id is null and created_at <= ${input.cutoff}::timestamptz
                group by topic, partition) read_before_cutoff), '[]'::jsonb),
        greatest(now(), ${input.cutoff}::timestamptz) + make_interval(secs => ${graceSeconds}),
        ${input.requestedBy}`);
    return windowOf(await loadCycle(tx, cycleId));
  });
}

type Lagging = { topic: string; partition: number; target: string; cursor: string | null };

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
    const cycle = await loadCycle(deps.db, input.cycleId);
    if (cycle.sealed) return { waitedMs: 0 };
    const rows = await deps.db.execute<Lagging & { overdue: boolean }>(sql`
      select t.topic, t.partition, t."nextOffset" as target, c.next_offset::text as cursor,
        now() > s.grace_deadline as overdue
      from settlement_cycles s
      cross join jsonb_to_recordset(s.partition_targets) as t(topic text, partition int, "nextOffset" bigint)
      left join partition_cursors c on c.topic = t.topic and c.partition = t.partition
      where s.id = ${input.cycleId} and (c.next_offset is null or c.next_offset < t."nextOffset")
      order by t.topic, t.partition`);
    if (rows.length === 0) return { waitedMs: Date.now() - started };
    const behind = rows
      .map((r) => `${r.topic}/${r.partition} at ${r.cursor ?? 'no cursor'} of ${r.target}`)
      .join(', ');
    if (rows[0].overdue) {
      throw ApplicationFailure.nonRetryable(
        `cycle ${input.cycleId}: batches read before the cut-off are still unsettled after the grace period (${behind})`,
        'CycleWindowNotSettled',
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
  await deps.db.execute(sql`
    update settlement_cycles set sealed_at = coalesce(sealed_at, now()), updated_at = now()
    where id = ${input.cycleId}`);
  await awaitTransactionsInProgress(deps.db, input.cycleId, options.drainMs ?? 30_000);

  return deps.db.transaction(async (tx) => {
    const cycle = await loadCycle(tx, input.cycleId, true);
    if (cycle.status !== 'CLOSED') return summaryOf(cycle);
    const window = sql`t.settled_at > ${cycle.window_start}::timestamptz and t.settled_at <= ${cycle.cutoff}::timestamptz`;
    await tx.execute(sql`
      insert into cycle_positions (cycle_id, account_id, currency, debits, credits, net, closing_balance)
      with in_window as (
        select p.account_id, p.currency, p.amount
        from transactions t join postings p on p.transaction_id = t.id
        where ${window} and t.status = 'SETTLED'),
      after_cutoff as (
        select p.account_id, sum(p.amount) as amount
        from transactions t join postings p on p.transaction_id = t.id
        where t.settled_at > ${cycle.cutoff}::timestamptz
        group by p.account_id)
      select ${cycle.id}, w.account_id, w.currency,
        coalesce(sum(-w.amount) filter (where w.amount < 0), 0),
        coalesce(sum(w.amount) filter (where w.amount > 0), 0),
        sum(w.amount),
        a.balance - coalesce(l.amount, 0)
      from in_window w
      join accounts a on a.id = w.account_id
      left join after_cutoff l on l.account_id = w.account_id
      group by w.account_id, w.currency, a.balance, l.amount`);
    await tx.execute(sql`
      update settlement_cycles s set status = 'COMPUTED', updated_at = now(),
        transactions = counts.settled, rejected = counts.rejected,
        totals = coalesce((
          select jsonb_object_agg(currency, jsonb_build_object('debits', debits::text, 'credits', credits::text))
          from (select currency, sum(debits) as debits, sum(credits) as credits
                from cycle_positions where cycle_id = s.id group by currency) per_currency), '{}'::jsonb)
      from (select count(*) filter (where t.status = 'SETTLED') as settled,
                   count(*) filter (where t.status = 'REJECTED') as rejected
            from transactions t where ${window}) counts
      where s.id = ${cycle.id}`);
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
  // Snapshots span the cluster: leave out transactions seen running in other databases,
  // which cannot write this ledger (any transaction not attributable is waited for).
  const open = await db.execute<{ xid: string }>(sql`
    select x::text as xid from pg_snapshot_xip(pg_current_snapshot()) x
    where (x::text::numeric % 4294967296)::text not in (
      select backend_xid::text from pg_stat_activity
      where backend_xid is not null and datname is distinct from current_database())`);
  const xids = open.map((r) => r.xid);
  const deadline = Date.now() + drainMs;
  while (xids.length > 0) {
    const rows = await db.execute<{ n: string }>(sql`
      select count(*)::text as n from unnest(${pgArray(xids)}::xid8[]) x
      where pg_xact_status(x) = 'in progress'`);
    if (rows[0].n === '0') return;
    if (Date.now() > deadline) {
      throw ApplicationFailure.retryable(
        `cycle ${cycleId}: ${rows[0].n} database transactions open since the seal have not ended`,
        'CycleSealDraining',
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

type BalanceRow = {
  account_id: string;
  currency: string;
  debits: string;
  credits: string;
  net: string;
  opening: string;
  closing: string;
};

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
  const rows = await deps.db.execute<BalanceRow>(sql`
    with after_cutoff as (
      select p.account_id, sum(p.amount) as amount
      from transactions t join postings p on p.transaction_id = t.id
      where t.settled_at > ${cycle.cutoff}::timestamptz
      group by p.account_id)
    select a.id as account_id, a.currency,
      coalesce(c.debits, 0)::text as debits, coalesce(c.credits, 0)::text as credits,
      coalesce(c.net, 0)::text as net,
      coalesce((select q.closing_balance from cycle_positions q
                where q.account_id = a.id and q.currency = a.currency and q.cycle_id < ${cycle.id}
                order by q.cycle_id desc limit 1), 0)::text as opening,
      (a.balance - coalesce(l.amount, 0))::text as closing
    from accounts a
    left join cycle_positions c on c.cycle_id = ${cycle.id} and c.account_id = a.id and c.currency = a.currency
    left join after_cutoff l on l.account_id = a.id`);
  const check = verifyCycle(rows.map(toPositionBalances));
  const stored = cycle.totals ?? {};
  const totalsDiffer = [...check.totals].some(
    ([c, t]) =>
      (t.debits !== 0n || t.credits !== 0n) &&
      (stored[c]?.debits !== t.debits.toString() || stored[c]?.credits !== t.credits.toString()),
  );
  if (!check.ok || totalsDiffer) {
    const problems = check.problems.slice(0, 10).map(describeCycleProblem);
    if (totalsDiffer) problems.push('stored totals differ from the positions');
    throw ApplicationFailure.nonRetryable(
      `cycle ${cycle.id} failed verification (${check.problems.length} problems): ${problems.join('; ')}`,
      'CycleVerificationFailed',
    );
  }
  await deps.db.execute(
    sql`update settlement_cycles set status = 'VERIFIED', updated_at = now() where id = ${cycle.id} and status = 'COMPUTED'`,
  );
  return summaryOf(await loadCycle(deps.db, cycle.id));
}

const toPositionBalances = (r: BalanceRow): PositionBalances => ({
  position: {
    accountId: r.account_id,
    currency: r.currency,
    debits: parseLedgerInteger(r.debits),
    credits: parseLedgerInteger(r.credits),
    net: parseLedgerInteger(r.net),
  },
  opening: parseLedgerInteger(r.opening),
  closing: parseLedgerInteger(r.closing),
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
      'CycleVerificationFailed',
    );
  }
  if (!deps.producer) throw ApplicationFailure.nonRetryable('the worker has no Kafka producer');
  const event: SettlementCycleEvent = {
    ...summaryOf(cycle),
    status: 'COMPLETED',
    workflowId: cycle.workflow_id,
    completedAt: new Date().toISOString(),
  };
  await deps.producer.send({
    topic: deps.topic,
    acks: -1,
    messages: [{ key: cycle.id, value: JSON.stringify(event) }],
  });
  await deps.db.execute(sql`
    update settlement_cycles set status = 'COMPLETED', completed_at = coalesce(completed_at, now()), updated_at = now()
    where id = ${cycle.id}`);
  return summaryOf(await loadCycle(deps.db, cycle.id));
}

/** Records why a cycle failed (idempotent; a completed cycle stays completed). */
export async function recordCycleFailure(
  deps: Pick<CycleDeps, 'db'>,
  input: { cycleId: string; error: string },
): Promise<void> {
  await deps.db.execute(sql`
    update settlement_cycles set status = 'FAILED', error = ${input.error}, updated_at = now()
    where id = ${input.cycleId} and status <> 'COMPLETED'`);
}

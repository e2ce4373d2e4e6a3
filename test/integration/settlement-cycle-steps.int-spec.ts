import { sql } from 'drizzle-orm';
import {
  awaitWindowSettled,
  closeCycleWindow,
  computeNetPositions,
  recordCycleFailure,
  settleBatch,
  verifyNetPositions,
  type CycleDeps,
} from '@settlement/activities';
import { cycleIdFor } from '@settlement/contracts';
import type { Database } from '@settlement/db';
import { createTestDatabase, type TestDatabase } from './support/database';
import { assertConservation, batch, openAccounts, startPartition } from './support/fixtures';

const topics = { outcomes: 'settlements', deadLetters: 'transactions.dlq' };
const T = 'transactions';
const at = (iso: string) => new Date(iso);

/** PostgreSQL's own message under drizzle's "Failed query" wrapper. */
async function databaseError(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? cause.message : String(err);
  }
  throw new Error('expected the database to refuse');
}

/**
 * The cycle's activities on real PostgreSQL, one step at a time: the seal against late
 * writers (one refused, one in flight across the seal), the grace period, the order of cycles.
 */
describe('settlement-cycle steps on real PostgreSQL', () => {
  let db: TestDatabase;
  let deps: CycleDeps;
  const settleAt = (now: Date, from: number, amount: string, database: Database = db.db) =>
    settleBatch(
      { db: database, topics, now: () => now },
      batch(T, 0, from, [{ id: `tx-${from}`, debit: 'bank', credit: 'alice', amount }]),
      'wf',
    );
  const close = (cutoff: string, graceMs = 60_000) =>
    closeCycleWindow(
      { ...deps, graceMs },
      { cutoff, workflowId: `wf-${cutoff}`, requestedBy: 'test' },
    );
  const status = async (cycleId: string) =>
    (
      await db.db.execute<{ status: string; error: string | null }>(
        sql`select status, error from settlement_cycles where id = ${cycleId}`,
      )
    )[0];

  beforeEach(async () => {
    db = await createTestDatabase('cycle_steps');
    deps = { db: db.db, topic: 'settlement-cycles', graceMs: 60_000 };
    await openAccounts(db.db, [{ id: 'bank', overdraftLimit: 10n ** 30n }, { id: 'alice' }]);
    await startPartition(db.db, T, 0);
  });
  afterEach(() => db.drop());

  it('refuses a settlement time inside a sealed window, so the batch retries into the next cycle', async () => {
    await settleAt(at('2026-11-29T10:00:10Z'), 0, '100');
    const window = await close('2026-11-29T10:01:00.000Z');
    expect(window).toMatchObject({ windowStart: '1970-01-01T00:00:00.000Z', status: 'CLOSED' });
    await awaitWindowSettled(deps, { cycleId: window.cycleId }, { pollMs: 1000 });
    const computed = await computeNetPositions(deps, { cycleId: window.cycleId });
    expect(computed).toMatchObject({
      transactions: 1,
      positions: 2,
      totals: { EUR: { debits: '100', credits: '100' } },
    });

    // Settlement time taken before the cut-off, insert after the seal: refused, nothing written.
    expect(await databaseError(settleAt(at('2026-11-29T10:00:59Z'), 1, '7'))).toMatch(
      /tx-1 settled at .* falls in a sealed settlement cycle/,
    );
    const written = await db.db.execute<{ n: string }>(
      sql`select count(*)::text as n from transactions where id = 'tx-1'`,
    );
    expect(written[0].n).toBe('0');
    // The retry takes a fresh settlement time and lands after the cut-off.
    await settleAt(at('2026-11-29T10:01:02Z'), 1, '7');
    await expect(verifyNetPositions(deps, { cycleId: window.cycleId })).resolves.toMatchObject({
      status: 'VERIFIED',
    });
    // A retry of the compute step changes nothing.
    await expect(computeNetPositions(deps, { cycleId: window.cycleId })).resolves.toMatchObject({
      transactions: 1,
      positions: 2,
    });
    await assertConservation(db.db);
  });

  it('waits for a settlement that passed the seal check before the seal and counts it once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const insertedBefore = new Promise<void>((r) => (inserted = r));
    // A batch whose transaction inserted (and passed the seal check) but has not committed.
    const inFlight = db.db.transaction(async (tx) => {
      await settleAt(at('2026-11-29T10:00:30Z'), 0, '40', tx as unknown as Database);
      inserted();
      await gate;
    });
    await insertedBefore;
    const window = await close('2026-11-29T10:01:00.000Z');
    let computedAt = 0;
    const computing = computeNetPositions(deps, { cycleId: window.cycleId }).then((s) => {
      computedAt = Date.now();
      return s;
    });
    await new Promise((r) => setTimeout(r, 1000));
    const releasedAt = Date.now();
    release();
    await inFlight;
    const computed = await computing;
    process.stdout.write(
      `compute waited ${computedAt - releasedAt + 1000} ms for the in-flight settlement
`,
    );
    expect(computedAt).toBeGreaterThanOrEqual(releasedAt);
    expect(computed).toMatchObject({
      transactions: 1,
      totals: { EUR: { debits: '40', credits: '40' } },
    });
    await expect(verifyNetPositions(deps, { cycleId: window.cycleId })).resolves.toMatchObject({
      status: 'VERIFIED',
    });
  });

  it('fails clearly past the grace period, blocks later cycles until re-run, and keeps cut-offs in order', async () => {
    await settleAt(at('2026-11-29T10:00:10Z'), 0, '5');
    // Ingest had read [1, 3) of partition 0 before the cut-off; that batch never settles.
    await db.db.execute(sql`
      insert into batches (id, topic, partition, from_offset, next_offset, workflow_id, status, created_at)
      values ('stuck', ${T}, 0, 1, 3, 'none', 'PENDING', '2026-11-29T10:00:20Z')`);
    const first = await close('2026-11-29T10:01:00.000Z', 0);
    await expect(
      awaitWindowSettled(deps, { cycleId: first.cycleId }, { pollMs: 500 }),
    ).rejects.toMatchObject({
      type: 'CycleWindowNotSettled',
      message: expect.stringContaining(`${T}/0 at 1 of 3`),
      nonRetryable: true,
    });
    await recordCycleFailure(deps, { cycleId: first.cycleId, error: 'grace exceeded' });
    expect(await status(first.cycleId)).toEqual({ status: 'FAILED', error: 'grace exceeded' });

    await expect(close('2026-11-29T10:02:00.000Z')).rejects.toMatchObject({
      type: 'PreviousCycleFailed',
    });
    // Running the failed cut-off again resumes it, with a new grace period.
    await expect(close('2026-11-29T10:01:00.000Z')).resolves.toMatchObject({ status: 'CLOSED' });
    await expect(close('2026-11-29T10:02:00.000Z')).rejects.toMatchObject({
      type: 'PreviousCyclePending',
      nonRetryable: false,
    });
    await db.db.execute(
      sql`update partition_cursors set next_offset = 3 where topic = ${T} and partition = 0`,
    );
    await awaitWindowSettled(deps, { cycleId: first.cycleId }, { pollMs: 500 });
    await computeNetPositions(deps, { cycleId: first.cycleId });
    await verifyNetPositions(deps, { cycleId: first.cycleId });
    await db.db.execute(
      sql`update settlement_cycles set status = 'COMPLETED' where id = ${first.cycleId}`,
    );

    const second = await close('2026-11-29T10:02:00.000Z');
    expect(second).toMatchObject({
      cycleId: cycleIdFor(at('2026-11-29T10:02:00Z')),
      windowStart: '2026-11-29T10:01:00.000Z',
    });
    await expect(close('2026-11-29T10:01:30.000Z')).rejects.toMatchObject({
      type: 'CycleOutOfOrder',
    });
    // The database refuses overlapping windows and a second cycle in progress by itself.
    expect(
      await databaseError(
        db.db.execute(sql`
        insert into settlement_cycles (id, workflow_id, window_start, cutoff, status, partition_targets, grace_deadline, requested_by)
        values ('x', 'x', '2026-11-29T10:01:30Z', '2026-11-29T10:03:00Z', 'COMPLETED', '[]', now(), 'test')`),
      ),
    ).toMatch(/settlement_cycles_windows_disjoint/);
    expect(
      await databaseError(
        db.db.execute(sql`
        insert into settlement_cycles (id, workflow_id, window_start, cutoff, status, partition_targets, grace_deadline, requested_by)
        values ('y', 'y', '2026-11-29T10:02:00Z', '2026-11-29T10:03:00Z', 'CLOSED', '[]', now(), 'test')`),
      ),
    ).toMatch(/settlement_cycles_one_in_progress/);
  });
});

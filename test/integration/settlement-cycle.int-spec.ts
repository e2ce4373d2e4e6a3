import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { Client, Connection } from '@temporalio/client';
import { cycleIdFor, type CycleReport } from '@settlement/contracts';
import { accounts as accountsTable, type Database } from '@settlement/db';
import { ensureCycleSchedule } from '@settlement/temporal';
import {
  actualOutcomes,
  LoadGenerator,
  type ExpectedOutcomes,
  openAccounts,
  publish,
  sendAll,
  waitForIds,
} from '@settlement/loadgen';
import { readTopic } from './support/kafka';
import {
  ledgerViolations,
  openPipeline,
  waitFor,
  type Pipeline,
  type RunningApp,
} from './support/apps';
import { TEMPORAL_ADDRESS } from './support/temporal';

const OPERATOR = `op-${randomBytes(12).toString('hex')}`;
const READER = `ro-${randomBytes(12).toString('hex')}`;

type Cycle = CycleReport;
type Position = { account: string; currency: string; debits: string; credits: string; net: string };

async function balances(db: Database): Promise<Map<string, bigint>> {
  const rows = await db.execute<{ id: string; balance: string }>(
    sql`select id, balance::text from accounts`,
  );
  return new Map(rows.map((r) => [r.id, BigInt(r.balance)]));
}

/** The next whole second after now, and a wait until it has passed. */
async function cutoffNow(): Promise<Date> {
  const cutoff = new Date(Math.ceil((Date.now() + 1) / 1000) * 1000);
  await new Promise((r) => setTimeout(r, cutoff.getTime() - Date.now() + 50));
  return cutoff;
}

/**
 * Settlement cycles on the real stack with the built apps: two cut-offs over a load of every
 * message kind in two currencies, positions checked against the balances, the operator's and
 * the cycle's own ids, a worker killed with SIGKILL while a cycle waits, and the Schedule.
 */
describe('settlement cycles (built ingest + worker + admin, real Kafka, Temporal, PostgreSQL)', () => {
  let pipeline: Pipeline;
  let db: Database;
  let admin: RunningApp;
  const cyclesTopic = `it-cycles-${randomBytes(4).toString('hex')}`;
  const history: { cycle: Cycle; before: Map<string, bigint>; after: Map<string, bigint> }[] = [];

  const api = async (path: string, init: RequestInit & { token?: string } = {}) => {
    const res = await fetch(`http://127.0.0.1:${admin.port}${path}`, {
      ...init,
      headers: {
        Authorization: `Bearer ${init.token ?? OPERATOR}`,
        'content-type': 'application/json',
        ...(init.headers ?? {}),
      },
    });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return {
      status: res.status,
      headers: res.headers,
      body: type.includes('json') ? JSON.parse(text) : text,
    };
  };

  const runCycle = async (cutoff: Date): Promise<Cycle> => {
    const started = await api('/admin/cycles', {
      method: 'POST',
      body: JSON.stringify({ cutoff: cutoff.toISOString() }),
    });
    expect(started.status).toBe(202);
    expect(started.body.cycleId).toBe(cycleIdFor(cutoff));
    return waitFor(
      `cycle ${started.body.cycleId}`,
      async () => {
        const got = await api(`/admin/cycles/${started.body.cycleId}`, { token: READER });
        if (got.body.status === 'FAILED') throw new Error(`cycle failed: ${got.body.error}`);
        return got.status === 200 && got.body.status === 'COMPLETED'
          ? (got.body as Cycle)
          : undefined;
      },
      120_000,
      500,
    );
  };

  const allPositions = async (cycleId: string): Promise<Position[]> => {
    const out: Position[] = [];
    let cursor: string | null = null;
    do {
      const page = await api(
        `/admin/cycles/${cycleId}/positions?limit=7${cursor ? `&cursor=${cursor}` : ''}`,
        { token: READER },
      );
      expect(page.status).toBe(200);
      out.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    return out;
  };

  /** Each account's net is the change of its balance; every currency nets to zero. */
  const expectPositionsMatch = async (entry: (typeof history)[number]) => {
    const positions = await allPositions(entry.cycle.cycleId);
    const byAccount = new Map(positions.map((p) => [p.account, p]));
    for (const [id, after] of entry.after) {
      const delta = after - (entry.before.get(id) ?? 0n);
      expect({ id, net: BigInt(byAccount.get(id)?.net ?? '0') }).toEqual({ id, net: delta });
    }
    const sums = new Map<string, bigint>();
    for (const p of positions) {
      expect(BigInt(p.credits) - BigInt(p.debits)).toBe(BigInt(p.net));
      sums.set(p.currency, (sums.get(p.currency) ?? 0n) + BigInt(p.net));
    }
    for (const [currency, sum] of sums) expect({ currency, sum }).toEqual({ currency, sum: 0n });
    for (const [currency, t] of Object.entries(entry.cycle.totals)) {
      expect({ currency, debits: t.debits }).toEqual({ currency, debits: t.credits });
    }
    return positions;
  };

  beforeAll(async () => {
    pipeline = await openPipeline('cycles', {
      partitions: 2,
      extra: {
        KAFKA_CYCLE_TOPIC: cyclesTopic,
        SETTLEMENT_CYCLE_GRACE_SECONDS: '120',
        ADMIN_TOKEN: OPERATOR,
        ADMIN_READONLY_TOKENS: `reader:${READER}`,
      },
    });
    db = pipeline.db.db;
    await pipeline.admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: cyclesTopic, numPartitions: 1, replicationFactor: 1 }],
    });
    await pipeline.start('ingest');
    admin = await pipeline.start('admin');
  }, 180_000);

  afterAll(() => pipeline?.close());

  const eur = new LoadGenerator({
    runId: `cyc${Date.now().toString(36)}e`,
    accounts: 12,
    seed: 3,
    mix: {
      insufficientFunds: 0.1,
      unknownAccount: 0.05,
      duplicate: 0.05,
      conflict: 0.05,
      malformedJson: 0.03,
      schemaViolation: 0.03,
      tooLarge: 0.02,
    },
  });
  const usd = new LoadGenerator({
    runId: `cyc${Date.now().toString(36)}u`,
    accounts: 6,
    seed: 5,
    currency: 'USD',
  });
  const since = new Date();

  /** A round of load in both currencies plus a currency mismatch; waits for every outcome. */
  const round = async (n: number, extra: { id: string; key: string; value: string }[]) => {
    await publish(pipeline.producer, () => eur.next(), {
      topic: pipeline.topics.transactions,
      count: n,
    });
    await publish(pipeline.producer, () => usd.next(), {
      topic: pipeline.topics.transactions,
      count: n / 2,
    });
    await sendAll(
      pipeline.producer,
      pipeline.topics.transactions,
      extra.map((m) => ({ ...m, kind: 'valid' })),
    );
    // Both runs share the topic, whose duplicates each run's count sees: compare the rest.
    const decided = (o: ExpectedOutcomes) => ({ ...o, duplicates: 0, total: 0 });
    for (const gen of [eur, usd]) {
      const expected = decided(gen.expected());
      const runId = gen.bank.split('-')[0];
      const actual = await waitFor(
        `the outcomes of ${runId}`,
        async () => {
          const got = decided(await actualOutcomes(db, runId, pipeline.topics.transactions, since));
          return JSON.stringify(got) === JSON.stringify(expected) ? got : undefined;
        },
        120_000,
        500,
      ).catch(async () =>
        decided(await actualOutcomes(db, runId, pipeline.topics.transactions, since)),
      );
      expect(actual).toEqual(expected);
    }
    await waitForIds(
      db,
      extra.map((m) => m.id),
    );
  };

  const transfer = (
    id: string,
    debit: string,
    credit: string,
    amount: string,
    currency: string,
    occurredAt = new Date().toISOString(),
  ) => ({
    id,
    key: debit,
    value: JSON.stringify({
      id,
      debitAccount: debit,
      creditAccount: credit,
      amount,
      currency,
      occurredAt,
    }),
  });

  it('nets two cut-offs of every message kind to the balance deltas, zero per currency', async () => {
    await openAccounts(db, eur);
    await openAccounts(db, usd);
    for (const gen of [eur, usd]) {
      const funding = gen.fundingMessages();
      await sendAll(pipeline.producer, pipeline.topics.transactions, funding);
      await waitForIds(
        db,
        funding.map((m) => m.id!),
      );
    }
    const mismatch = transfer(
      `m${since.getTime()}-mix1`,
      eur.accounts[0],
      usd.accounts[0],
      '10',
      'EUR',
    );
    await round(200, [mismatch]);
    expect(
      (
        await db.execute<{ reason: string }>(
          sql`select reason from transactions where id = ${mismatch.id}`,
        )
      )[0].reason,
    ).toBe('CURRENCY_MISMATCH');

    const before1 = new Map<string, bigint>();
    const cutoff1 = await cutoffNow();
    const after1 = await balances(db);
    const cycle1 = await runCycle(cutoff1);
    history.push({ cycle: cycle1, before: before1, after: after1 });
    expect(cycle1.windowStart).toBe('1970-01-01T00:00:00.000Z');
    expect(cycle1.cutoff).toBe(cutoff1.toISOString());

    // Occurred before the first cut-off, settled after it: it belongs to the second cycle.
    const lateOccurrence = transfer(
      `m${since.getTime()}-late1`,
      eur.accounts[1],
      eur.accounts[2],
      '77',
      'EUR',
      new Date(cutoff1.getTime() - 60_000).toISOString(),
    );
    await round(100, [lateOccurrence]);
    const cutoff2 = await cutoffNow();
    const after2 = await balances(db);
    const cycle2 = await runCycle(cutoff2);
    history.push({ cycle: cycle2, before: after1, after: after2 });
    expect(cycle2.windowStart).toBe(cycle1.cutoff);

    for (const entry of history) await expectPositionsMatch(entry);
    const settled = await db.execute<{ n: string }>(
      sql`select count(*)::text as n from transactions where status = 'SETTLED'`,
    );
    expect(cycle1.transactions + cycle2.transactions).toBe(Number(settled[0].n));
    expect(Object.keys(cycle1.totals).sort()).toEqual(['EUR', 'USD']);
    const lateIn2 = await api(
      `/admin/cycles/${cycle2.cycleId}/positions?account=${eur.accounts[2]}`,
      { token: READER },
    );
    expect(lateIn2.body.items).toHaveLength(1);

    // The ledger's own invariants still hold (the seal trigger changed nothing for them).
    expect(await ledgerViolations(db)).toEqual({
      nonZeroCurrencies: [],
      balanceDrift: [],
      belowLimit: [],
      postingsPerOutcome: [],
      outOfOrder: [],
    });

    // Both cycles were announced on the cycles topic.
    const events = await readTopic(pipeline.kafka, cyclesTopic, 2, 30_000);
    expect(events.map((e) => e.key).sort()).toEqual([cycle1.cycleId, cycle2.cycleId]);
    expect(JSON.parse(events.find((e) => e.key === cycle1.cycleId)!.value).totals).toEqual(
      cycle1.totals,
    );
  }, 400_000);

  it('answers an operator asking again for a cut-off with the same cycle, and refuses one inside a window', async () => {
    const [first] = history;
    const again = await api('/admin/cycles', {
      method: 'POST',
      body: JSON.stringify({ cutoff: first.cycle.cutoff }),
    });
    expect(again.status).toBe(202);
    expect({ cycleId: again.body.cycleId, workflowId: again.body.workflowId }).toEqual({
      cycleId: first.cycle.cycleId,
      workflowId: first.cycle.workflowId,
    });
    const inside = new Date(new Date(first.cycle.cutoff).getTime() - 1000).toISOString();
    expect(
      (await api('/admin/cycles', { method: 'POST', body: JSON.stringify({ cutoff: inside }) }))
        .status,
    ).toBe(409);
    expect(
      (
        await api('/admin/cycles', {
          method: 'POST',
          body: JSON.stringify({ cutoff: first.cycle.cutoff }),
          token: READER,
        })
      ).status,
    ).toBe(403);
    for (const bad of [
      {},
      { cutoff: 'yesterday' },
      { cutoff: '2026-01-01T00:00:00.500Z' },
      { cutoff: new Date(Date.now() + 3_600_000).toISOString() },
    ]) {
      const res = await api('/admin/cycles', { method: 'POST', body: JSON.stringify(bad) });
      expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
    }

    const list = await api('/admin/cycles?limit=1', { token: READER });
    expect(list.body.items.map((c: Cycle) => c.cycleId)).toEqual([history[1].cycle.cycleId]);
    const next = await api(`/admin/cycles?limit=1&cursor=${list.body.nextCursor}`, {
      token: READER,
    });
    expect(next.body.items.map((c: Cycle) => c.cycleId)).toEqual([first.cycle.cycleId]);

    const csv = await api(`/admin/cycles/${first.cycle.cycleId}/positions?limit=500`, {
      token: READER,
      headers: { Accept: 'text/csv' },
    });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (csv.body as string).trim().split('\r\n');
    expect(lines[0]).toBe('account,currency,debits,credits,net');
    expect(lines.length - 1).toBe((await allPositions(first.cycle.cycleId)).length);
    expect((await api('/admin/cycles/20000101T000000Z', { token: READER })).status).toBe(404);

    // The cycle's run carries its window and totals in its search attributes.
    const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
    try {
      const client = new Client({ connection, namespace: 'default' });
      const described = await client.workflow.getHandle(first.cycle.workflowId).describe();
      expect(described.searchAttributes.SettlementCycleStatus).toEqual(['COMPLETED']);
      expect(described.searchAttributes.SettlementCycleTotals).toEqual(
        Object.entries(first.cycle.totals).map(
          ([c, t]) => `${c} debits=${t.debits} credits=${t.credits}`,
        ),
      );
    } finally {
      await connection.close();
    }
  });

  it('resumes a cycle whose worker was killed (SIGKILL) while it waited, counting nothing twice', async () => {
    const settledBefore = transfer(
      `m${since.getTime()}-k1`,
      eur.accounts[3],
      eur.accounts[4],
      '123',
      'EUR',
    );
    await sendAll(pipeline.producer, pipeline.topics.transactions, [
      { ...settledBefore, kind: 'valid' },
    ]);
    await waitForIds(db, [settledBefore.id]);
    // A batch ingest read just before the cut-off and has not settled yet: the cycle must wait for it.
    const cursor = await db.execute<{ next_offset: string }>(
      sql`select next_offset::text from partition_cursors where topic = ${pipeline.topics.transactions} and partition = 0`,
    );
    const at = BigInt(cursor[0].next_offset);
    await db.execute(sql`
      insert into batches (id, topic, partition, from_offset, next_offset, workflow_id, status, created_at)
      values ('in-flight-at-cutoff', ${pipeline.topics.transactions}, 0, ${at.toString()}::bigint, ${(at + 1n).toString()}::bigint, 'none', 'PENDING', now())`);
    const cutoff3 = await cutoffNow();
    const after3 = await balances(db);
    const started = await api('/admin/cycles', {
      method: 'POST',
      body: JSON.stringify({ cutoff: cutoff3.toISOString() }),
    });
    expect(started.status).toBe(202);
    await waitFor('the cycle waiting for the in-flight batch', async () => {
      const rows = await db.execute<{ status: string }>(
        sql`select status from settlement_cycles where id = ${started.body.cycleId}`,
      );
      return rows[0]?.status === 'CLOSED';
    });
    const worker = pipeline.apps.find((a) => a.name === 'worker')!;
    await worker.kill();

    // The batch arrives (settled after the cut-off, so it belongs to the next cycle) once a new worker runs.
    const late = transfer(`m${since.getTime()}-k2`, eur.accounts[5], eur.accounts[6], '9', 'EUR');
    await pipeline.producer.send({
      topic: pipeline.topics.transactions,
      acks: -1,
      messages: [{ key: late.key, value: late.value, partition: 0 }],
    });
    await pipeline.start('worker', 'cycles-restarted');
    const cycle3 = await waitFor(
      'the resumed cycle',
      async () => {
        const got = await api(`/admin/cycles/${started.body.cycleId}`, { token: READER });
        return got.body.status === 'COMPLETED' ? (got.body as Cycle) : undefined;
      },
      120_000,
      500,
    );
    const entry = { cycle: cycle3, before: history[1].after, after: after3 };
    const positions = await expectPositionsMatch(entry);
    expect(cycle3.transactions).toBe(1);
    expect(positions.map((p) => [p.account, p.net])).toEqual([
      [eur.accounts[3], '-123'],
      [eur.accounts[4], '123'],
    ]);
    const lateRow = await db.execute<{ settled_at: Date }>(
      sql`select settled_at from transactions where id = ${late.id}`,
    );
    expect(new Date(lateRow[0].settled_at).getTime()).toBeGreaterThan(cutoff3.getTime());
    const counted = await db.execute<{ n: string }>(
      sql`select count(*)::text as n from cycle_positions where cycle_id = ${cycle3.cycleId}`,
    );
    expect(Number(counted[0].n)).toBe(2);
  }, 300_000);
});

describe('the settlement-cycle Schedule', () => {
  let pipeline: Pipeline;
  let client: Client;
  let connection: Connection;
  const cyclesTopic = `it-cycles-sched-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    pipeline = await openPipeline('cycle-schedule', {
      partitions: 1,
      extra: {
        KAFKA_CYCLE_TOPIC: cyclesTopic,
        SETTLEMENT_CYCLE_CRON: '@every 5s',
        ADMIN_TOKEN: OPERATOR,
      },
    });
    await pipeline.admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: cyclesTopic, numPartitions: 1, replicationFactor: 1 }],
    });
    connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
    client = new Client({ connection, namespace: 'default' });
  }, 180_000);

  afterAll(async () => {
    if (client) {
      await ensureCycleSchedule(client, {
        topic: pipeline.topics.transactions,
        taskQueue: pipeline.env.TEMPORAL_TASK_QUEUE,
        cron: 'off',
        timezone: 'UTC',
      });
    }
    await connection?.close();
    await pipeline?.close();
  });

  it('fires at each cut-off once admin has created it, in contiguous windows', async () => {
    await pipeline.db.db.insert(accountsTable).values([
      { id: 'sched-a', currency: 'EUR', overdraftLimit: 100n },
      { id: 'sched-b', currency: 'EUR' },
    ]);
    await pipeline.start('admin');
    const done = await waitFor(
      'two scheduled cycles',
      async () => {
        const rows = await pipeline.db.db.execute<{
          id: string;
          workflow_id: string;
          requested_by: string;
          window_start: string;
          cutoff: string;
          status: string;
        }>(
          sql`select id, workflow_id, requested_by, window_start::text, cutoff::text, status from settlement_cycles where status = 'COMPLETED' order by cutoff`,
        );
        return rows.length >= 2
          ? rows.map((r) => ({
              ...r,
              windowStart: new Date(r.window_start),
              cutoff: new Date(r.cutoff),
            }))
          : undefined;
      },
      90_000,
      500,
    );
    for (const c of done) {
      expect(c.requested_by).toBe('schedule');
      expect(c.workflow_id).toBe(
        `cycle-${pipeline.topics.transactions}-${c.cutoff.toISOString().slice(0, 19)}Z`,
      );
      expect(c.cutoff.getTime() % 5000).toBe(0);
    }
    expect(done[1].windowStart.getTime()).toBe(done[0].cutoff.getTime());
  }, 150_000);
});

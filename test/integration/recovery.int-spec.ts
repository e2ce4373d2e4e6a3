import { sql } from 'drizzle-orm';
import {
  LoadGenerator,
  openAccounts,
  publish,
  sendAll,
  waitForIds,
  waitForOutcomes,
} from '@settlement/loadgen';
import { ledgerViolations, openPipeline, type Pipeline } from './support/apps';

/**
 * Recovery after kill -9, measured on the built apps and the real stack: how long the
 * partitions stop settling. Bounds are generous (a loaded 2-core machine); the figures are
 * printed and written in docs/reliability.md ("Recovery after a crash").
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Settlement times (epoch ms) per partition in [from, to). */
async function settlements(p: Pipeline, from: number, to: number): Promise<Map<number, number[]>> {
  const rows = await p.db.db.execute<{ partition: number; at: string }>(sql`
    select partition, (extract(epoch from settled_at) * 1000)::text as at from transactions
    where topic = ${p.topics.transactions} and settled_at >= to_timestamp(${from / 1000})
      and settled_at < to_timestamp(${to / 1000})
    order by partition, settled_at`);
  const out = new Map<number, number[]>();
  for (const r of rows) out.set(r.partition, [...(out.get(r.partition) ?? []), Number(r.at)]);
  return out;
}

/** The longest pause of any partition in settling within [from, to), counted from `from`. */
async function longestStall(p: Pipeline, from: number, to: number): Promise<number> {
  let worst = 0;
  for (const times of (await settlements(p, from, to)).values()) {
    let last = from;
    for (const at of times) {
      worst = Math.max(worst, at - last);
      last = at;
    }
  }
  return Math.round(worst);
}

/** How long after `from` every partition had settled something again. */
async function allSettledAgain(p: Pipeline, from: number): Promise<number> {
  const firsts = [...(await settlements(p, from, from + 60_000)).values()].map((t) => t[0]);
  return Math.round(Math.max(0, ...firsts) - from);
}

async function funded(p: Pipeline, runId: string, seed: number) {
  const gen = new LoadGenerator({ runId, accounts: 200, seed });
  await openAccounts(p.db.db, gen);
  const funding = gen.fundingMessages();
  await sendAll(p.producer, p.topics.transactions, funding);
  await waitForIds(
    p.db.db,
    funding.map((m) => m.id!),
  );
  return gen;
}

async function expectAllOutcomes(p: Pipeline, gen: LoadGenerator, runId: string, since: Date) {
  const expected = gen.expected();
  expect(
    await waitForOutcomes(p.db.db, runId, p.topics.transactions, since, expected, 240_000),
  ).toEqual(expected);
  expect(await ledgerViolations(p.db.db)).toEqual({
    nonZeroCurrencies: [],
    balanceDrift: [],
    belowLimit: [],
    postingsPerOutcome: [],
    outOfOrder: [],
  });
}

describe('recovery after kill -9', () => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('a killed worker: its partitions settle again within seconds of a replacement polling', async () => {
    const p = (pipeline = await openPipeline('recovery_worker', {
      partitions: 4,
      extra: { BATCH_MAX_SIZE: '200' },
    }));
    const worker = p.apps[0];
    await p.start('ingest');
    const since = new Date();
    const runId = `rw${Date.now().toString(36)}`;
    const gen = await funded(p, runId, 21);
    const publishing = publish(p.producer, () => gen.next(), {
      topic: p.topics.transactions,
      count: 12_000,
      rate: 2_000,
    });
    await sleep(2_000);
    await worker.kill();
    await sleep(1_000);
    await p.start('worker', 'recovery_worker-2');
    const pollingAt = Date.now();
    await publishing;
    await expectAllOutcomes(p, gen, runId, since);
    const stall = await allSettledAgain(p, pollingAt);
    process.stdout.write(
      `worker kill -9: partitions settle again ${stall} ms after the replacement polls\n`,
    );
    expect(stall).toBeLessThan(15_000);
  }, 400_000);

  it('a killed ingest: its partitions resume with another instance running, and on restart', async () => {
    const p = (pipeline = await openPipeline('recovery_ingest', {
      partitions: 4,
      extra: { BATCH_MAX_SIZE: '200' },
    }));
    const first = await p.start('ingest', 'recovery_ingest-1');
    const second = await p.start('ingest', 'recovery_ingest-2');
    const since = new Date();
    const runId = `ri${Date.now().toString(36)}`;
    const gen = await funded(p, runId, 22);
    const publishing = publish(p.producer, () => gen.next(), {
      topic: p.topics.transactions,
      count: 30_000,
      rate: 2_000,
    });
    await sleep(3_000);
    const firstKilledAt = Date.now();
    await first.kill();
    await sleep(7_000);
    const secondKilledAt = Date.now();
    await second.kill();
    await p.start('ingest', 'recovery_ingest-3');
    await publishing;
    await expectAllOutcomes(p, gen, runId, since);
    const withSurvivor = await longestStall(p, firstKilledAt, secondKilledAt);
    const onRestart = await longestStall(p, secondKilledAt, secondKilledAt + 30_000);
    process.stdout.write(
      `ingest kill -9: partitions resume after ${withSurvivor} ms with another instance running, ` +
        `${onRestart} ms on restart (kill to first settlement, incl. process start)\n`,
    );
    expect(withSurvivor).toBeLessThan(20_000);
    expect(onRestart).toBeLessThan(25_000);
  }, 400_000);
});

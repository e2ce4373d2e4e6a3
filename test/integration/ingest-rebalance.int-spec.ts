import { appendFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { sql } from 'drizzle-orm';
import {
  LoadGenerator,
  openAccounts,
  publish,
  sendAll,
  waitForIds,
  waitForOutcomes,
} from '@settlement/loadgen';
import { STICKY_ASSIGNER_NAME } from '../../apps/ingest/src/sticky-assigner';
import {
  ledgerViolations,
  LOG_DIR,
  openPipeline,
  waitFor,
  type Pipeline,
  type RunningApp,
} from './support/apps';

interface Assigned {
  partitions: number[];
  joinMs?: number;
  rebalancePausedMs?: number;
  protocol?: string;
}

/** The 'partitions assigned' lines of one instance's JSON log, in order. */
function assignments(logFile: string): Assigned[] {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  const out: Assigned[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('partitions assigned')) continue;
    try {
      const j = JSON.parse(line) as Assigned & { msg?: string };
      if (j.msg === 'partitions assigned') out.push(j);
    } catch {
      // a partial line still being written
    }
  }
  return out;
}

function stoppedMs(logFile: string): number | undefined {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('ingest stopped')) continue;
    try {
      return (JSON.parse(line) as { ms?: number }).ms;
    } catch {
      // ignore
    }
  }
  return undefined;
}

/**
 * Scale out then scale in with two BUILT ingest instances on an 8-partition topic, while a
 * stream is produced: nothing lost, nothing settled twice, and the sticky assigner keeps the
 * first instance's partitions where they were. The rebalance pauses are measured from the
 * instances' logs and the ledger and appended to $LOG_DIR/rebalance-measurements.jsonl
 * (numbers for docs/ingest.md, not assertions).
 */
describe('ingest scale out and in (sticky assignment)', () => {
  let pipeline: Pipeline;
  let db: Pipeline['db'];
  let producer: Pipeline['producer'];
  let topics: Pipeline['topics'];
  const label = `rebal${Date.now().toString(36)}`;
  const logOf = (app: RunningApp) => path.join(LOG_DIR, `${label}-${app.name}-${app.port}.log`);

  beforeAll(async () => {
    pipeline = await openPipeline('ingest_rebalance', {
      partitions: 8,
      // One batch in flight per partition: backpressure pauses partitions around every rebalance,
      // which is where a pause forgotten at reassignment once stalled 4 partitions for good.
      extra: {
        BATCH_MAX_SIZE: '500',
        INGEST_SESSION_TIMEOUT_MS: '10000',
        MAX_IN_FLIGHT_BATCHES_PER_PARTITION: '1',
      },
    });
    ({ db, producer, topics } = pipeline);
  }, 120_000);

  afterAll(() => pipeline?.close());

  it('moves only the needed partitions and settles every transaction exactly once', async () => {
    const since = new Date();
    const runId = `rb${Date.now().toString(36)}`;
    const gen = new LoadGenerator({ runId, accounts: 200, seed: 23 });
    await openAccounts(db.db, gen);
    const first = await pipeline.start('ingest', label);
    const funding = gen.fundingMessages();
    await sendAll(producer, topics.transactions, funding);
    await waitForIds(
      db.db,
      funding.map((m) => m.id!),
    );
    const firstLog = logOf(first);
    const initial = assignments(firstLog);
    expect(initial.at(-1)?.partitions).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);

    const publishing = publish(producer, () => gen.next(), {
      topic: topics.transactions,
      count: 30_000,
      rate: 3_000,
    });
    await new Promise((r) => setTimeout(r, 2000));

    // Scale out: a second instance joins mid-stream.
    const scaleOutAt = Date.now();
    const second = await pipeline.start('ingest', label);
    const secondLog = logOf(second);
    await waitFor('the second instance to get partitions', async () =>
      assignments(secondLog).some((a) => a.partitions.length > 0),
    );
    await waitFor('the first instance to be reassigned', async () =>
      assignments(firstLog).length > initial.length ? true : undefined,
    );
    const firstAfterOut = assignments(firstLog).at(-1)!;
    const secondAfterOut = assignments(secondLog).find((a) => a.partitions.length > 0)!;
    expect(firstAfterOut.protocol).toBe(STICKY_ASSIGNER_NAME);
    // Sticky: the first keeps a subset of what it had, the second gets the rest (4 + 4).
    expect(firstAfterOut.partitions).toHaveLength(4);
    for (const p of firstAfterOut.partitions) expect(initial.at(-1)!.partitions).toContain(p);
    expect([...firstAfterOut.partitions, ...secondAfterOut.partitions].sort()).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7,
    ]);

    await new Promise((r) => setTimeout(r, 2500));
    // Scale in: SIGTERM the first while the stream goes on.
    const beforeIn = assignments(secondLog).length;
    const scaleInAt = Date.now();
    await first.stop();
    // A graceful stop: in-hand batches were started and committed before leaving the group.
    // (The child's last log lines reach the file shortly after it exits.)
    expect(
      await waitFor(
        'the first instance to log its graceful stop',
        async () => stoppedMs(firstLog),
        5_000,
      ),
    ).toEqual(expect.any(Number));
    await waitFor('the second instance to take every partition', async () =>
      assignments(secondLog)
        .slice(beforeIn)
        .find((a) => a.partitions.length === 8),
    );
    const secondAfterIn = assignments(secondLog).slice(beforeIn).at(-1)!;
    // Sticky: the survivor keeps its own partitions and adds the leaver's.
    for (const p of secondAfterOut.partitions) expect(secondAfterIn.partitions).toContain(p);
    await publishing;

    const expected = gen.expected();
    const actual = await waitForOutcomes(
      db.db,
      runId,
      topics.transactions,
      since,
      expected,
      240_000,
    );
    expect(actual).toEqual(expected);
    const like = `${runId}-%`;
    const [counts] = [
      ...(await db.db.execute<{
        tx: string;
        distinct_tx: string;
        settled: string;
        postings: string;
      }>(
        sql`select count(*)::text as tx, count(distinct t.id)::text as distinct_tx,
              count(*) filter (where t.status = 'SETTLED')::text as settled,
              (select count(*) from postings p join transactions t2 on t2.id = p.transaction_id
                 where t2.id like ${like})::text as postings
            from transactions t where t.id like ${like}`,
      )),
    ];
    expect(Number(counts.tx)).toBe(Number(counts.distinct_tx));
    expect(Number(counts.settled)).toBe(expected.settled);
    expect(Number(counts.postings)).toBe(2 * Number(counts.settled));
    expect(await ledgerViolations(db.db)).toEqual({
      nonZeroCurrencies: [],
      balanceDrift: [],
      belowLimit: [],
      postingsPerOutcome: [],
      outOfOrder: [],
    });

    // Measurements (for docs/ingest.md): the logged pauses and the longest gap in the
    // ledger's settled_at after each scaling event.
    const gap = async (fromMs: number, toMs: number) => {
      const rows = await db.db.execute<{ gap_ms: string | null }>(sql`
        select max(gap)::text as gap_ms from (
          select extract(epoch from settled_at - lag(settled_at) over (order by settled_at)) * 1000 as gap
          from transactions where id like ${like}
            and settled_at between to_timestamp(${fromMs}::double precision / 1000)
                               and to_timestamp(${toMs}::double precision / 1000)) g`);
      return rows[0]?.gap_ms ? Math.round(Number(rows[0].gap_ms)) : undefined;
    };
    const measurement = {
      at: new Date().toISOString(),
      scaleOut: {
        firstPausedMs: firstAfterOut.rebalancePausedMs,
        firstJoinMs: firstAfterOut.joinMs,
        secondJoinMs: secondAfterOut.joinMs,
        settledGapMs: await gap(scaleOutAt, scaleOutAt + 15_000),
        moved: 8 - firstAfterOut.partitions.length,
      },
      scaleIn: {
        secondPausedMs: secondAfterIn.rebalancePausedMs,
        secondJoinMs: secondAfterIn.joinMs,
        firstStopMs: stoppedMs(firstLog),
        settledGapMs: await gap(scaleInAt, scaleInAt + 15_000),
        moved: 8 - secondAfterOut.partitions.length,
      },
    };
    appendFileSync(
      path.join(LOG_DIR, 'rebalance-measurements.jsonl'),
      JSON.stringify(measurement) + '\n',
    );
    process.stdout.write(`rebalance measurement ${JSON.stringify(measurement)}\n`);
  }, 400_000);
});

import {
  actualOutcomes,
  LoadGenerator,
  openAccounts,
  publish,
  sendAll,
  waitForIds,
  waitForOutcomes,
  withTotal,
} from '@settlement/loadgen';
import { readTopic } from './support/kafka';
import { ledgerViolations, openPipeline, type Pipeline } from './support/apps';

const COUNT = 20_000;

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** The sum of a counter's samples whose labels include `labels` (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{([^}]*)\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  return total;
}

/**
 * End to end through the real stack and the built apps: 20,000+ messages of every kind from
 * loadgen, every outcome reconciled against what was sent, the ledger's invariants checked.
 */
describe('end to end (built ingest + worker, real Kafka, Temporal, PostgreSQL)', () => {
  let pipeline: Pipeline;
  let db: Pipeline['db'];
  let kafka: Pipeline['kafka'];
  let producer: Pipeline['producer'];
  let topics: Pipeline['topics'];

  beforeAll(async () => {
    pipeline = await openPipeline('e2e', { partitions: 4 });
    ({ db, kafka, producer, topics } = pipeline);
    await pipeline.start('ingest');
  }, 120_000);

  afterAll(() => pipeline?.close());

  it('gives every message exactly the outcome loadgen expects and keeps the invariants', async () => {
    const since = new Date();
    const gen = new LoadGenerator({
      runId: `e2e${Date.now().toString(36)}`,
      accounts: 300,
      seed: 7,
      mix: {
        insufficientFunds: 0.03,
        unknownAccount: 0.02,
        duplicate: 0.02,
        conflict: 0.01,
        malformedJson: 0.01,
        schemaViolation: 0.01,
        tooLarge: 0.005,
      },
    });
    await openAccounts(db.db, gen);
    const funding = gen.fundingMessages();
    await sendAll(producer, topics.transactions, funding);
    await waitForIds(
      db.db,
      funding.map((m) => m.id!),
    );
    await publish(producer, () => gen.next(), { topic: topics.transactions, count: COUNT });
    const expected = gen.expected();
    for (const k of Object.keys(gen.sent))
      expect(gen.sent[k as keyof typeof gen.sent]).toBeGreaterThan(0);
    expect(expected.total).toBe(COUNT + funding.length);

    const actual = await waitForOutcomes(
      db.db,
      gen.bank.split('-')[0],
      topics.transactions,
      since,
      expected,
      240_000,
    );
    expect(actual).toEqual(expected);
    // Nothing more arrives afterwards (no late double effect).
    await new Promise((r) => setTimeout(r, 2000));
    expect(await actualOutcomes(db.db, gen.bank.split('-')[0], topics.transactions, since)).toEqual(
      expected,
    );

    const violations = await ledgerViolations(db.db);
    expect(violations).toEqual({
      nonZeroCurrencies: [],
      balanceDrift: [],
      belowLimit: [],
      postingsPerOutcome: [],
      outOfOrder: [],
    });

    // The counters tell the same story, each outcome counted once by the process that decided
    // it: ingest the dead letters of bad input, the worker outcomes, duplicates and conflicts.
    const [ingest, worker] = ['ingest', 'worker'].map((name) =>
      pipeline.apps.find((a) => a.name === name)!,
    );
    const ingestText = await scrape(ingest.port);
    const workerText = await scrape(worker.port);
    const counted = withTotal({
      settled: sample(workerText, 'settlement_outcomes_total', { status: 'SETTLED' }),
      rejected: {
        INSUFFICIENT_FUNDS: sample(workerText, 'settlement_outcomes_total', {
          status: 'REJECTED',
          reason: 'INSUFFICIENT_FUNDS',
        }),
        UNKNOWN_ACCOUNT: sample(workerText, 'settlement_outcomes_total', {
          status: 'REJECTED',
          reason: 'UNKNOWN_ACCOUNT',
        }),
      },
      deadLettered: {
        MALFORMED_JSON: sample(ingestText, 'settlement_dead_letters_total', {
          reason: 'MALFORMED_JSON',
        }),
        SCHEMA_VIOLATION: sample(ingestText, 'settlement_dead_letters_total', {
          reason: 'SCHEMA_VIOLATION',
        }),
        TOO_LARGE: sample(ingestText, 'settlement_dead_letters_total', { reason: 'TOO_LARGE' }),
        DUPLICATE_CONFLICT: sample(workerText, 'settlement_dead_letters_total', {
          reason: 'DUPLICATE_CONFLICT',
        }),
      },
      duplicates: sample(workerText, 'settlement_duplicates_total', {}),
    });
    expect(counted).toEqual(expected);
    // Each process exports only its own families; the worker also the Temporal SDK's.
    expect(workerText).not.toContain('settlement_ingest_messages_total');
    expect(ingestText).not.toContain('settlement_outcomes_total');
    expect(workerText).toMatch(/^temporal_[a-z_]+/m);
    expect(workerText).toContain('temporal_worker_task_slots_available');

    // Every settled or rejected transaction's outcome reached the settlements topic.
    const decided =
      expected.settled + expected.rejected.INSUFFICIENT_FUNDS + expected.rejected.UNKNOWN_ACCOUNT;
    const outcomes = await readTopic(kafka, topics.outcomes, decided, 60_000);
    expect(new Set(outcomes.map((o) => JSON.parse(o.value).id)).size).toBe(decided);
  }, 400_000);
});

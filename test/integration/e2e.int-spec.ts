import {
  actualOutcomes,
  LoadGenerator,
  openAccounts,
  publish,
  sendAll,
  waitForIds,
  waitForOutcomes,
} from '../../apps/loadgen/src';
import { readTopic } from './support/kafka';
import { ledgerViolations, openPipeline, type Pipeline } from './support/apps';

const COUNT = 20_000;

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

    // Every settled or rejected transaction's outcome reached the settlements topic.
    const decided =
      expected.settled + expected.rejected.INSUFFICIENT_FUNDS + expected.rejected.UNKNOWN_ACCOUNT;
    const outcomes = await readTopic(kafka, topics.outcomes, decided, 60_000);
    expect(new Set(outcomes.map((o) => JSON.parse(o.value).id)).size).toBe(decided);
  }, 400_000);
});

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
 * SIGKILL of the ingest process in the middle of a stream (batches read, some started, some
 * not committed), then a restart: every message still gets exactly one outcome.
 */
describe('ingest killed mid-stream and restarted', () => {
  let pipeline: Pipeline;
  let db: Pipeline['db'];
  let producer: Pipeline['producer'];
  let topics: Pipeline['topics'];

  beforeAll(async () => {
    pipeline = await openPipeline('e2e_kill', {
      partitions: 4,
      // Short session: the restarted instance gets the partitions back quickly.
      extra: { BATCH_MAX_SIZE: '500', INGEST_SESSION_TIMEOUT_MS: '8000' },
    });
    ({ db, producer, topics } = pipeline);
  }, 120_000);

  afterAll(() => pipeline?.close());

  it('loses nothing and settles nothing twice', async () => {
    const since = new Date();
    const runId = `kill${Date.now().toString(36)}`;
    const gen = new LoadGenerator({ runId, accounts: 200, seed: 11 });
    await openAccounts(db.db, gen);
    const first = await pipeline.start('ingest', 'kill-1');
    const funding = gen.fundingMessages();
    await sendAll(producer, topics.transactions, funding);
    await waitForIds(
      db.db,
      funding.map((m) => m.id!),
    );

    const publishing = publish(producer, () => gen.next(), {
      topic: topics.transactions,
      count: 20_000,
      rate: 5_000,
    });
    await new Promise((r) => setTimeout(r, 1500));
    await first.kill();
    await new Promise((r) => setTimeout(r, 1000));
    await pipeline.start('ingest', 'kill-2');
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
    expect(await ledgerViolations(db.db)).toEqual({
      nonZeroCurrencies: [],
      balanceDrift: [],
      belowLimit: [],
      postingsPerOutcome: [],
      outOfOrder: [],
    });
  }, 400_000);
});

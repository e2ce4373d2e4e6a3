import { sql } from 'drizzle-orm';
import { assertConservation, count, openAccounts, txValue } from './support/fixtures';
import { readTopic } from './support/kafka';
import { openPipeline, waitFor, type Pipeline, type RunningApp } from './support/apps';

/**
 * The foundation's smoke test through the real stack and the BUILT apps: kafkajs producer ->
 * ingest -> Temporal -> worker -> PostgreSQL, read back; bad input dead-lettered on the way.
 */
describe('ingest (built app) on the real stack', () => {
  let pipeline: Pipeline;
  let db: Pipeline['db'];
  let kafka: Pipeline['kafka'];
  let admin: Pipeline['admin'];
  let producer: Pipeline['producer'];
  let topics: Pipeline['topics'];
  let ingest: RunningApp;

  beforeAll(async () => {
    pipeline = await openPipeline('ingest', { partitions: 3, extra: { BATCH_MAX_WAIT_MS: '100' } });
    ({ db, kafka, admin, producer, topics } = pipeline);
    await openAccounts(db.db, [
      { id: 'bank', overdraftLimit: 10n ** 20n },
      { id: 'alice' },
      { id: 'bob' },
    ]);
    ingest = await pipeline.start('ingest');
  }, 120_000);

  afterAll(() => pipeline?.close());

  it('settles valid messages, dead-letters bad ones, commits offsets', async () => {
    await producer.send({
      topic: topics.transactions,
      messages: [
        {
          key: 'bank',
          value: txValue({ id: 'f1', debit: 'bank', credit: 'alice', amount: '1000' }),
        },
        {
          key: 'alice',
          value: txValue({ id: 'a1', debit: 'alice', credit: 'bob', amount: '300' }),
        },
        {
          key: 'alice',
          value: txValue({ id: 'a2', debit: 'alice', credit: 'bob', amount: '800' }),
        },
        { key: 'alice', value: '{not json', headers: { trace: 'x1' } },
        { key: 'bob', value: JSON.stringify({ id: 'b1', debitAccount: 'bob' }) },
        { key: 'bob', value: txValue({ id: 'b2', debit: 'bob', credit: 'ghost', amount: '1' }) },
      ],
    });
    await waitFor('six outcomes', async () => {
      const n = (await count(db.db, 'transactions')) + (await count(db.db, 'dead_letters'));
      return n === 6 || undefined;
    });
    const rows = await db.db.execute<{ id: string; status: string; reason: string | null }>(
      sql`select id, status, reason from transactions order by id`,
    );
    expect(rows.map((r) => [r.id, r.status, r.reason])).toEqual([
      ['a1', 'SETTLED', null],
      ['a2', 'REJECTED', 'INSUFFICIENT_FUNDS'],
      ['b2', 'REJECTED', 'UNKNOWN_ACCOUNT'],
      ['f1', 'SETTLED', null],
    ]);
    const dead = await db.db.execute<{ reason: string; field: string; value: string; key: string }>(
      sql`select reason, field, value, key from dead_letters order by reason`,
    );
    expect(dead.map((d) => [d.reason, d.field, d.key])).toEqual([
      ['MALFORMED_JSON', '$', 'alice'],
      ['SCHEMA_VIOLATION', 'creditAccount', 'bob'],
    ]);
    expect(Buffer.from(dead[0].value, 'base64').toString()).toBe('{not json');
    const dlq = await readTopic(kafka, topics.deadLetters, 2);
    const malformed = dlq.find((d) => d.value === '{not json');
    expect(malformed?.headers).toMatchObject({
      trace: 'x1',
      'dlq-reason': 'MALFORMED_JSON',
      'dlq-source-topic': topics.transactions,
    });
    await assertConservation(db.db);

    // Every batch settled and the group's offsets reached the end of each partition.
    await waitFor('batches settled', async () =>
      (await count(db.db, 'batches', sql`status <> 'SETTLED'`)) === 0 ? true : undefined,
    );
    const ends = await admin.fetchTopicOffsets(topics.transactions);
    await waitFor('offsets committed', async () => {
      const committed = await admin.fetchOffsets({
        groupId: pipeline.env.KAFKA_GROUP_ID,
        topics: [topics.transactions],
      });
      return (
        ends.every(
          (e) =>
            committed[0].partitions.find((p) => p.partition === e.partition)?.offset === e.high ||
            e.high === '0',
        ) || undefined
      );
    });
    const outcomes = await readTopic(kafka, topics.outcomes, 4);
    expect(outcomes.map((o) => JSON.parse(o.value).id).sort()).toEqual(['a1', 'a2', 'b2', 'f1']);
  });

  it('exposes metrics and health', async () => {
    const live = await fetch(`http://127.0.0.1:${ingest.port}/health/live`);
    expect(live.status).toBe(200);
    const text = await (await fetch(`http://127.0.0.1:${ingest.port}/metrics`)).text();
    expect(text).toContain('settlement_ingest_messages_total');
    expect(text).toContain('settlement_dead_letters_total{reason="MALFORMED_JSON"} 1');
  });

  it('dead-letters two ~1 MB messages of one partition within the broker limit and moves on', async () => {
    const huge = (fill: string) => Buffer.alloc(1_000_000, fill);
    // Two sends: each record fits the broker's 1 MiB limit alone, not together.
    await producer.send({
      topic: topics.transactions,
      messages: [{ key: 'alice', value: huge('a') }],
    });
    await producer.send({
      topic: topics.transactions,
      messages: [{ key: 'alice', value: huge('b') }],
    });
    await producer.send({
      topic: topics.transactions,
      messages: [
        { key: 'alice', value: txValue({ id: 'a3', debit: 'alice', credit: 'bob', amount: '1' }) },
      ],
    });
    const started = Date.now();
    await waitFor(
      'the message after them settled',
      async () => (await count(db.db, 'transactions', sql`id = 'a3'`)) === 1 || undefined,
    );
    const large = await db.db.execute<{ reason: string; size: number }>(
      sql`select reason, length(decode(value, 'base64')) as size from dead_letters where reason = 'TOO_LARGE'`,
    );
    expect(large.map((r) => [r.reason, Number(r.size)])).toEqual([
      ['TOO_LARGE', 1_000_000],
      ['TOO_LARGE', 1_000_000],
    ]);
    const dlq = (await readTopic(kafka, topics.deadLetters, 4)).filter(
      (d) => d.headers['dlq-reason'] === 'TOO_LARGE',
    );
    expect(dlq).toHaveLength(2);
    for (const d of dlq) {
      expect(d.value.length).toBe(16 * 1024);
      expect(d.headers).toMatchObject({
        'dlq-value-truncated': 'true',
        'dlq-value-size': '1000000',
      });
      expect(d.headers['dlq-value-sha256']).toMatch(/^[0-9a-f]{64}$/);
      expect(d.headers['dedupe-key']).toMatch(new RegExp(`^${topics.transactions}/\\d+/\\d+$`));
    }
    process.stdout.write(
      `two 1 MB dead letters: partition moved on in ${Date.now() - started} ms\n`,
    );
  });
});

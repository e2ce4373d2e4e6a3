import type { Database, PendingOutboxRow } from '@settlement/db';
import { chunksOf, publishOutcomes, type OutboxStore } from './publish-outcomes.activity';

const rows: PendingOutboxRow[] = [
  {
    id: 1n,
    topic: 'settlements',
    messages: [
      { key: 'tx-1', value: '{"id":"tx-1"}' },
      { key: 'tx-2', value: '{"id":"tx-2"}' },
    ],
  },
  {
    id: 2n,
    topic: 'transactions.dlq',
    messages: [
      {
        key: null,
        value: Buffer.from([0xff]).toString('base64'),
        encoding: 'base64',
        dedupeKey: 't/0/5',
      },
    ],
  },
];

function harness(markFailures: number) {
  const sent: { topic: string; keys: string[] }[] = [];
  let failuresLeft = markFailures;
  let published = false;
  const store: OutboxStore = {
    load: async () => (published ? [] : rows),
    markPublished: async () => {
      if (failuresLeft-- > 0) throw new Error('connection refused');
      published = true;
    },
  };
  const producer = {
    send: async ({ topic, messages }: { topic: string; messages: { headers?: object }[] }) => {
      sent.push({
        topic,
        keys: messages.map((m) => String((m.headers as Record<string, Buffer>)['dedupe-key'])),
      });
      return [];
    },
  };
  const deps = { db: {} as Database, producer: producer as never, outbox: store };
  return { deps, sent };
}

describe('publishOutcomes copies', () => {
  it('sends each record once when marking fails a few times, with its dedupe key', async () => {
    const { deps, sent } = harness(3);
    await publishOutcomes(deps, 'b1', { markRetryMs: 5_000 });
    expect(sent).toEqual([
      { topic: 'settlements', keys: ['tx-1', 'tx-2'] },
      { topic: 'transactions.dlq', keys: ['t/0/5'] },
    ]);
  });

  it('a retried attempt only marks what the failed attempt reported as sent', async () => {
    const { deps, sent } = harness(100);
    let reported: { sent?: string[] } | undefined;
    await expect(
      publishOutcomes(deps, 'b1', { markRetryMs: 300, onSent: (p) => (reported = p) }),
    ).rejects.toThrow('connection refused');
    expect(sent).toHaveLength(2);
    const retry = harness(0);
    await publishOutcomes(retry.deps, 'b1', { progress: reported });
    expect(retry.sent).toEqual([]);
  });
});

describe('chunksOf', () => {
  const records = Array.from({ length: 25 }, (_, i) => ({ key: `tx-${i}`, value: 'x'.repeat(10) }));

  it('caps a request by records as well as bytes, keeping the order', () => {
    const chunks = chunksOf(records, 1_000_000, 10);
    expect(chunks.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(chunks.flat()).toEqual(records);
  });

  it('caps a request by bytes before the record cap', () => {
    const chunks = chunksOf(records, 100, 10);
    expect(chunks.every((c) => c.length < 10)).toBe(true);
    expect(chunks.flat()).toEqual(records);
  });
});

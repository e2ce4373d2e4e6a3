import type { Database, OutboxMessage, PendingOutboxRow } from '@settlement/db';
import type { Logger } from '@settlement/observability';
import { chunksOf, publishOutcomes, type OutboxStore } from './publish-outcomes.activity';
import { mergeProgress, publishBudgetMs, publishSettled } from './publish-settled';

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

interface HarnessOptions {
  /** How many marks fail before one succeeds. */
  markFailures?: number;
  /** Every send fails with this (Kafka down). */
  sendError?: Error;
  /** Sends never answer (a broker that accepts connections but not requests). */
  sendHangs?: boolean;
}

function harness(options: HarnessOptions | number = {}) {
  const {
    markFailures = 0,
    sendError,
    sendHangs,
  } = typeof options === 'number' ? { markFailures: options } : options;
  const sent: { topic: string; keys: string[] }[] = [];
  const reads = { loads: 0, lists: 0 };
  let failuresLeft = markFailures;
  let published = false;
  const store: OutboxStore = {
    load: async () => {
      reads.loads++;
      return published ? [] : rows;
    },
    list: async () => {
      reads.lists++;
      return published
        ? []
        : rows.map((r) => ({ id: r.id, topic: r.topic, messageCount: r.messages.length }));
    },
    markPublished: async () => {
      if (failuresLeft-- > 0) throw new Error('connection refused');
      published = true;
    },
  };
  const producer = {
    send: async ({ topic, messages }: { topic: string; messages: { headers?: object }[] }) => {
      if (sendHangs) await new Promise(() => undefined);
      if (sendError) throw sendError;
      sent.push({
        topic,
        keys: messages.map((m) => String((m.headers as Record<string, Buffer>)['dedupe-key'])),
      });
      return [];
    },
  };
  const warnings: string[] = [];
  const logger = { warn: (_: unknown, msg: string) => warnings.push(msg) } as unknown as Logger;
  const deps = { db: {} as Database, producer: producer as never, outbox: store, logger };
  return { deps, sent, reads, warnings, isPublished: () => published };
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

/** What the settle transaction of `rows` wrote, as settleBatchWithOutbox reports it. */
const writtenBySettlement = (of: readonly PendingOutboxRow[]) =>
  new Map<string, OutboxMessage[]>(of.map((r) => [r.topic, r.messages]));

describe('publishing right after settlement (publishSettled)', () => {
  const budgetMs = 2_000;

  it('sends what publishOutcomes would, from memory, and marks the rows published', async () => {
    const viaActivity = harness();
    await publishOutcomes(viaActivity.deps, 'b1');
    const h = harness();
    let reported: { sent?: string[] } | undefined;
    const outcome = await publishSettled(h.deps, 'b1', writtenBySettlement(rows), {
      budgetMs,
      onSent: (p) => (reported = p),
    });
    expect(outcome).toEqual({ published: true });
    expect(h.sent).toEqual(viaActivity.sent);
    expect(h.reads).toEqual({ loads: 0, lists: 1 });
    expect(reported).toEqual({ sent: ['1', '2'] });
    expect(h.isPublished()).toBe(true);
  });

  it('reads the outbox back when memory lacks a row (dead letters ingest wrote)', async () => {
    const h = harness();
    const outcome = await publishSettled(h.deps, 'b1', writtenBySettlement(rows.slice(0, 1)), {
      budgetMs,
    });
    expect(outcome).toEqual({ published: true });
    expect(h.reads.loads).toBe(1);
    expect(h.sent.map((s) => s.topic)).toEqual(['settlements', 'transactions.dlq']);
  });

  it('reads the outbox back when a row holds more than the settlement wrote to it', async () => {
    const h = harness();
    const partial = new Map([['settlements', rows[0].messages.slice(0, 1)]]);
    await publishSettled(h.deps, 'b1', partial, { budgetMs });
    expect(h.reads.loads).toBe(1);
    expect(h.sent[0].keys).toEqual(['tx-1', 'tx-2']);
  });

  it('Kafka down: does not throw, warns, leaves the outbox to the workflow, which sends once', async () => {
    const down = harness({ sendError: new Error('Connection error: ECONNREFUSED') });
    const outcome = await publishSettled(down.deps, 'b1', writtenBySettlement(rows), { budgetMs });
    expect(outcome).toEqual({ published: false });
    expect(down.warnings).toHaveLength(1);
    expect(down.isPublished()).toBe(false);
    const fallback = harness();
    await publishOutcomes(fallback.deps, 'b1', { progress: mergeProgress(undefined, outcome) });
    expect(fallback.sent.flatMap((s) => s.keys)).toEqual(['tx-1', 'tx-2', 't/0/5']);
  });

  it('sent but not marked: reports the rows, so the workflow only marks them', async () => {
    const h = harness({ markFailures: 1_000 });
    const outcome = await publishSettled(h.deps, 'b1', writtenBySettlement(rows), {
      budgetMs: 300,
    });
    expect(outcome).toEqual({ published: false, sent: ['1', '2'] });
    expect(h.sent).toHaveLength(2);
    const fallback = harness();
    await publishOutcomes(fallback.deps, 'b1', { progress: mergeProgress(undefined, outcome) });
    expect(fallback.sent).toEqual([]);
    expect(fallback.isPublished()).toBe(true);
  });

  it('gives up after its budget when a send hangs, and reports nothing sent', async () => {
    const h = harness({ sendHangs: true });
    const started = Date.now();
    const outcome = await publishSettled(h.deps, 'b1', writtenBySettlement(rows), {
      budgetMs: 200,
    });
    const waited = Date.now() - started;
    expect(outcome).toEqual({ published: false });
    expect(waited).toBeLessThan(10_000);
  });

  it('a retried settle attempt (batch already applied) only marks what the first one sent', async () => {
    const h = harness();
    const outcome = await publishSettled(h.deps, 'b1', new Map(), {
      budgetMs,
      progress: { sent: ['1', '2'] },
    });
    expect(outcome).toEqual({ published: true });
    expect(h.sent).toEqual([]);
    expect(h.reads.loads).toBe(1);
    expect(h.isPublished()).toBe(true);
  });

  it('with no budget left sends nothing and passes on what an earlier attempt sent', async () => {
    const h = harness();
    const outcome = await publishSettled(h.deps, 'b1', writtenBySettlement(rows), {
      budgetMs: 0,
      progress: { sent: ['1'] },
    });
    expect(outcome).toEqual({ published: false, sent: ['1'] });
    expect(h.sent).toEqual([]);
    expect(h.reads).toEqual({ loads: 0, lists: 0 });
  });
});

describe('publishBudgetMs', () => {
  const attempt = { startedAtMs: 1_000_000, startToCloseTimeoutMs: 60_000 };

  it('allows at most 15 s', () => {
    expect(publishBudgetMs(attempt, attempt.startedAtMs + 500)).toBe(15_000);
  });

  it('keeps 5 s of the start-to-close timeout for reporting the result', () => {
    expect(publishBudgetMs(attempt, attempt.startedAtMs + 50_000)).toBe(5_000);
  });

  it('is 0 (publishing left to the workflow) with less than a second left', () => {
    expect(publishBudgetMs(attempt, attempt.startedAtMs + 54_500)).toBe(0);
    expect(publishBudgetMs(attempt, attempt.startedAtMs + 70_000)).toBe(0);
  });

  it('is the maximum when no start-to-close timeout is set', () => {
    expect(publishBudgetMs({ startedAtMs: 0, startToCloseTimeoutMs: 0 }, 1e9)).toBe(15_000);
  });
});

describe('mergeProgress', () => {
  it('joins the rows reported sent by either report, once each', () => {
    expect(mergeProgress({ sent: ['1', '2'] }, { sent: ['2', '3'] })).toEqual({
      sent: ['1', '2', '3'],
    });
    expect(mergeProgress(undefined, { sent: [] })).toBeUndefined();
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

import type { Producer } from 'kafkajs';
import {
  countRecordedTransactions,
  countRunOutcomes,
  insertAccountsIfAbsent,
  type Database,
} from '@settlement/db';
import {
  withTotal,
  type ExpectedOutcomes,
  type LoadGenerator,
  type LoadMessage,
} from './generator';
import { direct, type Resilient } from './outage';

/** Opens the run's accounts directly in the database (no opening balances: funding is posted). */
export async function openAccounts(
  db: Database,
  gen: LoadGenerator,
  retry: Resilient = direct,
): Promise<void> {
  const rows = [
    { id: gen.bank, currency: gen.currency, overdraftLimit: 10n ** 30n },
    ...gen.accounts.map((id) => ({ id, currency: gen.currency, overdraftLimit: 0n })),
    ...gen.poor.map((id) => ({ id, currency: gen.currency, overdraftLimit: 0n })),
  ];
  for (let i = 0; i < rows.length; i += 5000) {
    // Idempotent (on conflict do nothing): safe to repeat after an outage.
    await retry('PostgreSQL: opening accounts', () =>
      insertAccountsIfAbsent(db, rows.slice(i, i + 5000)),
    );
  }
}

export interface PublishOptions {
  topic: string;
  /** Messages per second; 0 or undefined = as fast as possible. */
  rate?: number;
  /** Stop after this many messages... */
  count?: number;
  /** ...or after this long, whichever comes first. */
  durationMs?: number;
  chunk?: number;
  onProgress?: (sent: number) => void;
  /** Produce timestamps by transaction id, for latency measurements. */
  producedAt?: Map<string, number>;
  /**
   * Records the produce time of every n-th message only (1, the default: all). A map entry per
   * message of a 1,000,000 burst cost the load generator 1-3 µs of CPU per message, on the
   * same cores as the pipeline it measures; a sample gives the burst's percentiles as well.
   */
  sampleEvery?: number;
  /**
   * Waits out a Kafka outage around each send. Repeating a send is safe only with an
   * idempotent producer (the broker drops a re-sent batch), which the load generator uses.
   */
  retry?: Resilient;
}

/** Sends messages from `next` in chunks, paced to `rate`; returns how many were sent. */
export async function publish(
  producer: Producer,
  next: () => LoadMessage,
  opts: PublishOptions,
): Promise<{ sent: number; ms: number }> {
  const chunk = opts.chunk ?? 1000;
  const started = Date.now();
  let sent = 0;
  const limit = opts.count ?? Number.MAX_SAFE_INTEGER;
  while (sent < limit) {
    if (opts.durationMs !== undefined && Date.now() - started >= opts.durationMs) break;
    const n = Math.min(chunk, limit - sent);
    const messages: LoadMessage[] = [];
    for (let i = 0; i < n; i++) messages.push(next());
    if (opts.producedAt) {
      const now = Date.now();
      const every = opts.sampleEvery ?? 1;
      for (let i = 0; i < n; i++) {
        const id = messages[i].id;
        if ((sent + i) % every === 0 && id && !opts.producedAt.has(id))
          opts.producedAt.set(id, now);
      }
    }
    // One send at a time: concurrent sends may reorder a key's messages, and duplicates and
    // conflicts must follow their original in the partition.
    await (opts.retry ?? direct)(`Kafka: sending ${n} messages`, () =>
      producer.send({
        topic: opts.topic,
        acks: -1,
        messages: messages.map((m) => ({ key: m.key, value: m.value })),
      }),
    );
    sent += n;
    opts.onProgress?.(sent);
    if (opts.rate && opts.rate > 0) {
      const due = started + (sent / opts.rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
  return { sent, ms: Date.now() - started };
}

export async function sendAll(
  producer: Producer,
  topic: string,
  messages: LoadMessage[],
  retry: Resilient = direct,
): Promise<void> {
  let i = 0;
  await publish(producer, () => messages[i++], { topic, count: messages.length, retry });
}

/** Waits until every funding transaction of the run is in the ledger. */
export async function waitForIds(
  db: Database,
  ids: readonly string[],
  timeoutMs = 120_000,
  retry: Resilient = direct,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const recorded = await retry('PostgreSQL: waiting for the funding', () =>
      countRecordedTransactions(db, ids),
    );
    if (recorded >= ids.length) return;
    if (Date.now() > deadline) throw new Error(`only ${recorded} of ${ids.length} ids settled`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * What the ledger holds for one run (ids, keys and accounts all start with the run id), in
 * the shape of {@link ExpectedOutcomes}. Duplicates are counted from the live batches of
 * `topic` created since the run started (one run at a time per topic).
 */
export async function actualOutcomes(
  db: Database,
  runId: string,
  topic: string,
  since: Date,
): Promise<ExpectedOutcomes> {
  const { settlements, deadLettered, duplicates } = await countRunOutcomes(db, runId, topic, since);
  const get = (status: string, reason: string | null) =>
    settlements.find((r) => r.status === status && r.reason === reason)?.n ?? 0;
  const dead = (reason: string) => deadLettered.find((r) => r.reason === reason)?.n ?? 0;
  return withTotal({
    settled: get('SETTLED', null),
    rejected: {
      INSUFFICIENT_FUNDS: get('REJECTED', 'INSUFFICIENT_FUNDS'),
      UNKNOWN_ACCOUNT: get('REJECTED', 'UNKNOWN_ACCOUNT'),
    },
    deadLettered: {
      MALFORMED_JSON: dead('MALFORMED_JSON'),
      SCHEMA_VIOLATION: dead('SCHEMA_VIOLATION'),
      TOO_LARGE: dead('TOO_LARGE'),
      DUPLICATE_CONFLICT: dead('DUPLICATE_CONFLICT'),
    },
    duplicates,
  });
}

/** Polls until the run's outcomes account for `expected.total` messages (or the time is up). */
export async function waitForOutcomes(
  db: Database,
  runId: string,
  topic: string,
  since: Date,
  expected: ExpectedOutcomes,
  timeoutMs: number,
  onProgress?: (done: number) => void,
  retry: Resilient = direct,
): Promise<ExpectedOutcomes> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const actual = await retry('PostgreSQL: reading outcomes', () =>
      actualOutcomes(db, runId, topic, since),
    );
    onProgress?.(actual.total);
    if (actual.total >= expected.total || Date.now() > deadline) return actual;
    await new Promise((r) => setTimeout(r, 500));
  }
}

import type { Message, Producer } from 'kafkajs';
import {
  listUnpublishedOutbox,
  loadUnpublishedOutbox,
  markOutboxPublished,
  type Database,
  type OutboxRowSummary,
  type PendingOutboxRow,
} from '@settlement/db';
import type { Logger } from '@settlement/observability';
import { outboxToKafka, recordSize } from '@settlement/records';

export interface PublishDeps {
  db: Database;
  producer: Pick<Producer, 'send'>;
  logger?: Logger;
  /** The outbox repository (libs/db); a seam for the unit tests that count copies. */
  outbox?: OutboxStore;
}

export interface OutboxStore {
  load(db: Database, batchId: string): Promise<PendingOutboxRow[]>;
  /** The unpublished rows without their records (publishing right after settlement). */
  list(db: Database, batchId: string): Promise<OutboxRowSummary[]>;
  markPublished(db: Database, ids: readonly bigint[]): Promise<void>;
}

export const outboxStore: OutboxStore = {
  load: loadUnpublishedOutbox,
  list: listUnpublishedOutbox,
  markPublished: markOutboxPublished,
};

export interface PublishProgress {
  /** Outbox rows (ids as strings) this activity already sent in an earlier attempt. */
  sent?: string[];
}

export interface PublishHooks {
  /** What an earlier attempt reported as sent (Temporal heartbeat details). */
  progress?: PublishProgress;
  /** Called once every row is sent, before marking them (the activity heartbeats it). */
  onSent?: (progress: PublishProgress) => void;
  /** Marking retries for this long before the attempt fails (ms). */
  markRetryMs?: number;
}

/** Bytes per produce request: well under the broker's 1 MiB limit for one partition's batch. */
export const PUBLISH_REQUEST_BYTES = 768 * 1024;
/**
 * Records per produce request. Chosen when kafkajs grouped a request's records by partition
 * copying the partition's array for every record (quadratic: ~2.5 KB of garbage per record at
 * 5,000). patches/kafkajs+2.2.4.patch makes that grouping linear; 1,000 against 5,000 per
 * request then measured within the noise (docs/benchmarks.md, "The night"), so it stays.
 */
export const PUBLISH_REQUEST_RECORDS = 1000;

/** Produce errors a retry cannot fix: the broker refuses the record itself. */
const PERMANENT_PRODUCE_ERRORS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
]);

/**
 * Publishes a batch's outbox rows (outcomes to `settlements`, dead letters to the DLQ) and
 * marks them published. Copies: a record goes out once per attempt that reaches the send;
 * an attempt after one that sent skips the rows that attempt reported (heartbeat) and only
 * marks them; a failing mark is retried here rather than by re-sending. So a second copy
 * needs a worker crash between a send and its report. Every record carries `dedupe-key`.
 */
export async function publishOutcomes(
  deps: PublishDeps,
  batchId: string,
  hooks: PublishHooks = {},
): Promise<{ published: number }> {
  const store = deps.outbox ?? outboxStore;
  return publishRows(deps, await store.load(deps.db, batchId), hooks);
}

/**
 * Sends the given outbox rows (but those an earlier attempt reported), reports them as sent,
 * then marks them published: the body of {@link publishOutcomes}, whichever way the rows
 * were found.
 */
export async function publishRows(
  deps: PublishDeps,
  rows: readonly PendingOutboxRow[],
  hooks: PublishHooks = {},
): Promise<{ published: number }> {
  const store = deps.outbox ?? outboxStore;
  if (rows.length === 0) return { published: 0 };
  const sentBefore = new Set(hooks.progress?.sent ?? []);
  let published = 0;
  for (const row of rows) {
    if (sentBefore.has(row.id.toString())) continue;
    published += await sendRow(deps, row);
  }
  hooks.onSent?.({ sent: rows.map((r) => r.id.toString()) });
  await withRetry(
    () =>
      store.markPublished(
        deps.db,
        rows.map((r) => r.id),
      ),
    hooks.markRetryMs ?? 20_000,
    deps.logger,
  );
  return { published };
}

/** Sends one row's records in requests of at most PUBLISH_REQUEST_BYTES and _RECORDS. */
async function sendRow(deps: PublishDeps, row: PendingOutboxRow): Promise<number> {
  const records = row.messages.map(outboxToKafka);
  for (const chunk of chunksOf(records, PUBLISH_REQUEST_BYTES, PUBLISH_REQUEST_RECORDS)) {
    await sendClassified(deps, row.topic, chunk);
  }
  return records.length;
}

export function chunksOf(
  records: readonly Message[],
  maxBytes: number,
  maxRecords = Infinity,
): Message[][] {
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = recordSize(r);
    if (current.length > 0 && (bytes + size > maxBytes || current.length >= maxRecords)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/**
 * A permanent refusal of a request is narrowed down record by record; a single record the
 * broker refuses is logged with its dedupe key and left out (the database keeps it), never
 * retried forever. Transient errors propagate to the activity's retries.
 */
async function sendClassified(deps: PublishDeps, topic: string, records: Message[]) {
  try {
    await deps.producer.send({ topic, acks: -1, messages: records });
  } catch (err) {
    if (!isPermanentProduceError(err)) throw err;
    if (records.length > 1) {
      for (const r of records) await sendClassified(deps, topic, [r]);
      return;
    }
    deps.logger?.error(
      { err, topic, dedupeKey: headerText(records[0], 'dedupe-key') },
      'the broker refused a record for good; it stays in the database only',
    );
  }
}

export function isPermanentProduceError(err: unknown): boolean {
  for (let e = err as { type?: string; cause?: unknown } | undefined, i = 0; e && i < 5; i++) {
    if (e.type && PERMANENT_PRODUCE_ERRORS.has(e.type)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

function headerText(m: Message, name: string): string | undefined {
  const v = m.headers?.[name];
  return v === undefined ? undefined : String(v);
}

async function withRetry(fn: () => Promise<void>, forMs: number, logger?: Logger) {
  const deadline = Date.now() + forMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() + delay > deadline) throw err;
      logger?.warn({ err }, 'marking the outbox published failed; retrying');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

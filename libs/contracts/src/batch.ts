/**
 * The micro-batch as it travels from ingest to the settleBatch workflow. Kept free of
 * Node and framework imports: workflow code imports it.
 *
 * Offsets are decimal strings (Kafka offsets are int64). A batch covers the half-open
 * position range [fromOffset, nextOffset): fromOffset is where the partition stood before
 * the batch (the end of the previous batch, or the committed offset on resume), so
 * consecutive batches of a partition chain exactly, whatever gaps the log has.
 */
export interface BatchMessage {
  offset: string;
  /** Message key, UTF-8 (the debit account), or null. */
  key: string | null;
  /** The original value, UTF-8, exactly as read. */
  value: string;
  /** Broker timestamp, epoch milliseconds as a decimal string. */
  timestamp: string;
  /**
   * Original headers as [key, value base64] pairs, in order (a key may repeat); batches
   * formed by older versions hold an object of UTF-8 strings. libs/records reads both.
   */
  headers?: [string, string][] | Record<string, string>;
}

export interface SettleBatchInput {
  batchId: string;
  topic: string;
  partition: number;
  fromOffset: string;
  nextOffset: string;
  /**
   * Valid messages only, in offset order; invalid ones were dead-lettered by ingest. Absent
   * when ingest staged them in the database (batches.staged_messages) to keep the workflow
   * input small: the settle activity reads them from there.
   */
  messages?: BatchMessage[];
  /** How many messages of the range ingest dead-lettered (for the batch's counts). */
  deadLettered: number;
  /** Those dead letters by reason (absent from inputs of older ingest versions). */
  deadLetterReasons?: Record<string, number>;
  /**
   * When ingest closed the batch: an ISO 8601 string (older inputs, and replays, carry epoch
   * milliseconds; {@link closedAtIso} reads both).
   */
  closedAt: string | number;
  /** Set by replay: settle through the same path but never move the live partition cursor. */
  replayId?: string;
}

export interface SettleBatchResult {
  batchId: string;
  settled: number;
  rejected: number;
  duplicates: number;
  deadLettered: number;
  /** Rejections by reason, as the settle activity decided them (absent when already applied). */
  rejectedReasons?: Record<string, number>;
  /** Dead letters the settle activity decided (DUPLICATE_CONFLICT...), by reason. */
  deadLetterReasons?: Record<string, number>;
  /** true when the ledger already held this batch (a retry or redelivery). */
  alreadyApplied: boolean;
  /**
   * true when the settle activity also published the batch's outbox (outcomes and dead
   * letters) and marked it published. Absent from results of older activity versions.
   */
  published?: boolean;
  /** Outbox rows (ids) the settle activity sent but could not mark published. */
  sentOutboxRows?: string[];
}

/**
 * What the settleBatch workflow's publishOutcomes activity still has to do, or undefined
 * when the settle activity published everything. Results without `published` (histories
 * recorded before the settle activity published) keep the publishing step.
 */
export function publishStepFor(
  batchId: string,
  result: Pick<SettleBatchResult, 'published' | 'sentOutboxRows'>,
): { batchId: string; sent?: string[] } | undefined {
  if (result.published === true) return undefined;
  return result.sentOutboxRows?.length ? { batchId, sent: result.sentOutboxRows } : { batchId };
}

/** The batch's closing time as ISO 8601, whichever form the input carries. */
export function closedAtIso(input: Pick<SettleBatchInput, 'closedAt'>): string {
  return typeof input.closedAt === 'number'
    ? new Date(input.closedAt).toISOString()
    : input.closedAt;
}

/** Tallies reasons: `['A', 'B', 'A']` -> `{ A: 2, B: 1 }`. */
export function countReasons(reasons: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of reasons) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/**
 * Deterministic ids: a redelivered batch maps to the same workflow id, so Temporal refuses
 * a second start and the ledger's keys refuse a second effect.
 */
export function batchIdFor(
  topic: string,
  partition: number,
  fromOffset: string,
  nextOffset: string,
): string {
  return `${topic}-${partition}-${fromOffset}-${nextOffset}`;
}

export function settleBatchWorkflowId(batchId: string): string {
  return `settle-${batchId}`;
}

/**
 * Types shared by the replayRange workflow (type-only import), its activities and the admin
 * API. Offsets are decimal strings; every range is half-open [fromOffset, toOffset).
 */
export type ReplayMode = 'settle' | 'verify';

export interface ReplayRange {
  partition: number;
  fromOffset: string;
  toOffset: string;
}

export interface ReplayCounts {
  read: number;
  alreadySettled: number;
  settled: number;
  rejected: number;
  deadLettered: number;
}

export interface ReplayDifference {
  partition: number;
  offset: string;
  transactionId: string | null;
  expected: string;
  actual: string;
}

export interface ReplayInput {
  replayId: string;
  topic: string;
  mode: ReplayMode;
  ranges: ReplayRange[];
  /** Messages per chunk (one activity, one database transaction). */
  chunkSize: number;
  /** The rate limit of all replays together (a budget in the database they share). */
  maxMessagesPerSecond: number;
  /** Carried over continueAsNew: where each partition stands (next offset to read). */
  next?: Record<string, string>;
  totals?: ReplayTotals;
}

export interface ReplayChunkInput {
  replayId: string;
  topic: string;
  partition: number;
  fromOffset: string;
  toOffset: string;
  mode: ReplayMode;
}

export interface ReplayTotals {
  counts: ReplayCounts;
  differences: number;
}

export interface ReplayChunkResult extends ReplayTotals {
  /** Messages this chunk read (0 when the chunk had been applied before: a retry). */
  readNow: number;
  /** The outbox batch to publish (settle mode), or null. */
  outboxBatchId: string | null;
}

export type ReplayStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLED' | 'FAILED';

export interface ReplayProgress extends ReplayTotals {
  status: ReplayStatus;
  next: Record<string, string>;
}

export const emptyCounts = (): ReplayCounts => ({
  read: 0,
  alreadySettled: 0,
  settled: 0,
  rejected: 0,
  deadLettered: 0,
});

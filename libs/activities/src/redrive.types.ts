import type { DeadLetterReason } from '@settlement/ledger';

/**
 * Types shared by the redriveDeadLetters workflow (type-only import), its activities and the
 * admin API. Dead letter ids are decimal strings (bigserial).
 */
export interface RedriveFilter {
  reason?: DeadLetterReason;
  /** Dead letters created at or after this time (RFC 3339). */
  since?: string;
  /** Dead letters created before this time (RFC 3339). */
  until?: string;
}

export interface RedriveInput {
  redriveId: string;
  filter: RedriveFilter;
  /** Only dead letters up to this id: those arriving during the re-drive are not in it. */
  maxDeadLetterId: string;
  chunkSize: number;
  /** The rate limit: the workflow sleeps so that it never resubmits faster than this. */
  maxPerSecond: number;
  /** Carried over continueAsNew: the last dead letter id handled. */
  cursor?: string;
}

export interface RedriveCounts {
  matched: number;
  resubmitted: number;
  skipped: number;
}

export interface RedriveChunkResult extends RedriveCounts {
  cursor: string;
  /** Dead letters this chunk resubmitted (0 on a retry of a chunk already applied). */
  resubmittedNow: number;
  done: boolean;
}

export type RedriveStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLED' | 'FAILED';

export interface RedriveProgress extends RedriveCounts {
  status: RedriveStatus;
  cursor: string;
}

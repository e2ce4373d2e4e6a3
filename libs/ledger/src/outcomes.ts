/**
 * Outcome vocabulary and the event published to the topic `settlements`. Pure: workflow code
 * imports it.
 */

/** Every message ends in exactly one of these (CONTRACT.md "Outcomes"). */
export const OUTCOME_STATUSES = ['SETTLED', 'REJECTED', 'DUPLICATE', 'DEAD_LETTERED'] as const;
export type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];

/** Status of a stored transaction as the admin API reports it (PENDING: not yet settled). */
export const TRANSACTION_STATUSES = ['PENDING', 'SETTLED', 'REJECTED'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

/** Statuses published to `settlements`. */
export const SETTLEMENT_STATUSES = ['SETTLED', 'REJECTED'] as const;
export type SettlementStatus = (typeof SETTLEMENT_STATUSES)[number];

export const REJECT_REASONS = [
  'INSUFFICIENT_FUNDS',
  'UNKNOWN_ACCOUNT',
  'CURRENCY_MISMATCH',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export const DEAD_LETTER_REASONS = [
  'MALFORMED_JSON',
  'SCHEMA_VIOLATION',
  'TOO_LARGE',
  'DUPLICATE_CONFLICT',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export const isOutcomeStatus = (s: unknown): s is OutcomeStatus =>
  (OUTCOME_STATUSES as readonly unknown[]).includes(s);
export const isRejectReason = (s: unknown): s is RejectReason =>
  (REJECT_REASONS as readonly unknown[]).includes(s);
export const isDeadLetterReason = (s: unknown): s is DeadLetterReason =>
  (DEAD_LETTER_REASONS as readonly unknown[]).includes(s);

/** JSON value of a message on `settlements`: `reason` only (and always) when REJECTED. */
export type SettlementEvent =
  | { id: string; status: 'SETTLED'; batchId: string; settledAt: string }
  | { id: string; status: 'REJECTED'; reason: RejectReason; batchId: string; settledAt: string };

export interface SettlementEventInput {
  id: string;
  status: SettlementStatus;
  /** Required when status is REJECTED, forbidden when SETTLED. */
  reason?: RejectReason;
  batchId: string;
  /** A Date or an ISO string; passed in (never read from the clock) to stay deterministic. */
  settledAt: Date | string;
}

/**
 * Builds the event with a fixed key order (id, status, reason?, batchId, settledAt).
 * Throws an Error when status and reason disagree. A Date becomes `toISOString()`.
 */
export function buildSettlementEvent(input: SettlementEventInput): SettlementEvent {
  const settledAt =
    typeof input.settledAt === 'string' ? input.settledAt : input.settledAt.toISOString();
  if (input.status === 'SETTLED') {
    if (input.reason !== undefined) throw new Error('a SETTLED event has no reason');
    return { id: input.id, status: 'SETTLED', batchId: input.batchId, settledAt };
  }
  if (input.status === 'REJECTED') {
    if (!isRejectReason(input.reason)) throw new Error('a REJECTED event needs a reject reason');
    return {
      id: input.id,
      status: 'REJECTED',
      reason: input.reason,
      batchId: input.batchId,
      settledAt,
    };
  }
  throw new Error(`not a settlement status: ${String(input.status)}`);
}

/** The event's Kafka value: JSON, UTF-8 when encoded by the producer. */
export function serializeSettlementEvent(event: SettlementEvent): string {
  return JSON.stringify(event);
}

/** Alias of {@link SettlementEvent} (the "outcome event" of the design notes). */
export type OutcomeEvent = SettlementEvent;
/** Alias of {@link buildSettlementEvent}. */
export const buildOutcomeEvent = buildSettlementEvent;

/**
 * The transaction as the ledger sees it, and the result types of message validation.
 * Types and constants only: workflow code imports this file.
 */

/** A validated message of the topic `transactions` (CONTRACT.md). */
export interface Transaction {
  /** Idempotency key, 1-64 chars of [A-Za-z0-9._:-]. */
  id: string;
  debitAccount: string;
  creditAccount: string;
  /** Minor units, 1..9223372036854775807. Never a JS number. */
  amount: bigint;
  /** ISO 4217 alpha-3, upper case. */
  currency: string;
  /** RFC 3339 timestamp, exactly as the producer wrote it. */
  occurredAt: string;
  /** At most 140 Unicode code points; absent when the message had none (or null). */
  reference?: string;
}

/** The transaction fields in their canonical order (validation and hashing follow it). */
export const TRANSACTION_FIELDS = [
  'id',
  'debitAccount',
  'creditAccount',
  'amount',
  'currency',
  'occurredAt',
  'reference',
] as const;
export type TransactionField = (typeof TRANSACTION_FIELDS)[number];

/** Maximum size of a message value, in bytes of UTF-8 (CONTRACT.md: 4 KiB). */
export const MAX_MESSAGE_BYTES = 4096;
export const MAX_ID_LENGTH = 64;
export const MAX_REFERENCE_CODE_POINTS = 140;
/** Charset and length of `id`, `debitAccount`, `creditAccount`. */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/** Validation failures, each a dead-letter reason. */
export const VALIDATION_FAILURE_REASONS = [
  'MALFORMED_JSON',
  'SCHEMA_VIOLATION',
  'TOO_LARGE',
] as const;
export type ValidationFailureReason = (typeof VALIDATION_FAILURE_REASONS)[number];

/**
 * Where a failure lies: a transaction field, `'key'` for the Kafka key, or `'$'` for the
 * value as a whole (too large, not UTF-8, not JSON, not an object).
 */
export type FailureField = TransactionField | 'key' | '$';

export interface ParseSuccess {
  ok: true;
  tx: Transaction;
}

export interface ParseFailure {
  ok: false;
  reason: ValidationFailureReason;
  /** Always set; see {@link FailureField}. */
  field: FailureField;
  /** Human-readable, safe to log and to store with the dead letter (no message content). */
  message: string;
}

export type ParseResult = ParseSuccess | ParseFailure;

export type KeyCheckResult = { ok: true } | ParseFailure;

export interface ParseOptions {
  /** Size limit in bytes of UTF-8; defaults to {@link MAX_MESSAGE_BYTES}. */
  maxBytes?: number;
}

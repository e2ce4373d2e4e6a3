import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  char,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * Money columns. Amounts fit int8 (the contract caps them at 2^63-1); balances and limits
 * are numeric(38,0) so that sums of many maximal amounts cannot overflow. Both map to
 * bigint in TypeScript: a JS number never touches money.
 */
export const money = customType<{ data: bigint; driverData: string }>({
  dataType: () => 'numeric(38, 0)',
  toDriver: (value) => value.toString(),
  fromDriver: (value) => BigInt(value),
});

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const amountInt8 = (name: string) => bigint(name, { mode: 'bigint' });
const offsetInt8 = (name: string) => bigint(name, { mode: 'bigint' });

export const accounts = pgTable(
  'accounts',
  {
    id: text('id').primaryKey(),
    currency: char('currency', { length: 3 }).notNull(),
    overdraftLimit: money('overdraft_limit')
      .notNull()
      .default(sql`0`),
    balance: money('balance')
      .notNull()
      .default(sql`0`),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('accounts_id_format', sql`${t.id} ~ '^[A-Za-z0-9._:-]{1,64}$'`),
    check('accounts_currency_format', sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check('accounts_overdraft_limit_non_negative', sql`${t.overdraftLimit} >= 0`),
    // The last line of defence for invariant 5: no code path can leave a balance below the limit.
    check('accounts_balance_within_limit', sql`${t.balance} >= -${t.overdraftLimit}`),
  ],
);

export const TRANSACTION_STATUSES = ['SETTLED', 'REJECTED'] as const;

/** One row per transaction id, forever: the idempotency key of invariant 1. */
export const transactions = pgTable(
  'transactions',
  {
    id: text('id').primaryKey(),
    contentHash: char('content_hash', { length: 64 }).notNull(),
    debitAccount: text('debit_account').notNull(),
    creditAccount: text('credit_account').notNull(),
    amount: amountInt8('amount').notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    occurredAt: text('occurred_at').notNull(),
    reference: text('reference'),
    status: text('status', { enum: TRANSACTION_STATUSES }).notNull(),
    reason: text('reason'),
    batchId: text('batch_id').notNull(),
    topic: text('topic').notNull(),
    partition: integer('partition').notNull(),
    offset: offsetInt8('offset').notNull(),
    settledAt: timestamp('settled_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('transactions_amount_positive', sql`${t.amount} > 0`),
    check('transactions_currency_format', sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check('transactions_status', sql`${t.status} in ('SETTLED', 'REJECTED')`),
    check(
      'transactions_reason_matches_status',
      sql`(${t.status} = 'SETTLED' and ${t.reason} is null) or (${t.status} = 'REJECTED' and ${t.reason} is not null)`,
    ),
    index('transactions_batch_idx').on(t.batchId),
    index('transactions_debit_account_idx').on(t.debitAccount, t.settledAt),
  ],
);

/** Append-only (a trigger in the migration refuses UPDATE and DELETE). */
export const postings = pgTable(
  'postings',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    transactionId: text('transaction_id')
      .notNull()
      .references(() => transactions.id),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id),
    side: text('side', { enum: ['DEBIT', 'CREDIT'] }).notNull(),
    /** Signed: negative on the debit side, positive on the credit side. */
    amount: amountInt8('amount').notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    batchId: text('batch_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('postings_transaction_side_uq').on(t.transactionId, t.side),
    check('postings_amount_non_zero', sql`${t.amount} <> 0`),
    check(
      'postings_sign_matches_side',
      sql`(${t.side} = 'DEBIT' and ${t.amount} < 0) or (${t.side} = 'CREDIT' and ${t.amount} > 0)`,
    ),
    check('postings_currency_format', sql`${t.currency} ~ '^[A-Z]{3}$'`),
    index('postings_account_idx').on(t.accountId, t.id),
  ],
);

export const BATCH_STATUSES = ['PENDING', 'SETTLED', 'FAILED'] as const;

export const batches = pgTable(
  'batches',
  {
    id: text('id').primaryKey(),
    topic: text('topic').notNull(),
    partition: integer('partition').notNull(),
    fromOffset: offsetInt8('from_offset').notNull(),
    nextOffset: offsetInt8('next_offset').notNull(),
    workflowId: text('workflow_id').notNull(),
    status: text('status', { enum: BATCH_STATUSES }).notNull(),
    messageCount: integer('message_count').notNull().default(0),
    settled: integer('settled').notNull().default(0),
    rejected: integer('rejected').notNull().default(0),
    duplicates: integer('duplicates').notNull().default(0),
    deadLettered: integer('dead_lettered').notNull().default(0),
    replayId: text('replay_id'),
    error: text('error'),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    settledAt: timestamp('settled_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    check('batches_offsets_ordered', sql`${t.nextOffset} >= ${t.fromOffset}`),
    index('batches_status_idx').on(t.status, t.createdAt),
    index('batches_partition_idx').on(t.topic, t.partition, t.fromOffset),
  ],
);

/**
 * Where settlement stands in each partition: the position after the last applied batch.
 * A batch applies only when its fromOffset equals this cursor (invariant 3 across batches).
 */
export const partitionCursors = pgTable(
  'partition_cursors',
  {
    topic: text('topic').notNull(),
    partition: integer('partition').notNull(),
    nextOffset: offsetInt8('next_offset').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.topic, t.partition] })],
);

export const DEAD_LETTER_REASONS = [
  'MALFORMED_JSON',
  'SCHEMA_VIOLATION',
  'TOO_LARGE',
  'DUPLICATE_CONFLICT',
] as const;

export const deadLetters = pgTable(
  'dead_letters',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    topic: text('topic').notNull(),
    partition: integer('partition').notNull(),
    offset: offsetInt8('offset').notNull(),
    key: text('key'),
    /** Original bytes, base64 (bytea would do; base64 keeps the row JSON-friendly). */
    value: text('value').notNull(),
    headers: jsonb('headers').$type<Record<string, string>>(),
    reason: text('reason', { enum: DEAD_LETTER_REASONS }).notNull(),
    field: text('field'),
    message: text('message').notNull(),
    transactionId: text('transaction_id'),
    batchId: text('batch_id'),
    createdAt: createdAt(),
  },
  (t) => [
    // A message is dead-lettered once, whatever is redelivered or replayed.
    uniqueIndex('dead_letters_source_uq').on(t.topic, t.partition, t.offset),
    check(
      'dead_letters_reason',
      sql`${t.reason} in ('MALFORMED_JSON', 'SCHEMA_VIOLATION', 'TOO_LARGE', 'DUPLICATE_CONFLICT')`,
    ),
    index('dead_letters_created_idx').on(t.createdAt, t.id),
    index('dead_letters_reason_idx').on(t.reason, t.id),
  ],
);

/**
 * Transactional outbox: outcomes written in the same database transaction as the ledger,
 * published to Kafka afterwards. Consumers dedupe by transaction id.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    batchId: text('batch_id').notNull(),
    topic: text('topic').notNull(),
    key: text('key'),
    payload: text('payload').notNull(),
    headers: jsonb('headers').$type<Record<string, string>>(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index('outbox_unpublished_idx')
      .on(t.batchId)
      .where(sql`${t.publishedAt} is null`),
  ],
);

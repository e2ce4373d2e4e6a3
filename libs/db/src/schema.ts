import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  char,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
// Relative: drizzle-kit loads this file without the tsconfig path aliases.
import { DEAD_LETTER_REASONS, SETTLEMENT_STATUSES } from '../../ledger/src/outcomes';
import { CYCLE_STATUSES } from '../../contracts/src/cycle';

export { DEAD_LETTER_REASONS };

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
    // The id and currency formats (accounts_id_format, accounts_currency_format) are checked
    // by a trigger on INSERT and on UPDATE OF id, currency (migration 0009): a CHECK would run
    // its regular expressions again on every balance update, thousands per batch.
    check('accounts_overdraft_limit_non_negative', sql`${t.overdraftLimit} >= 0`),
    // The last line of defence for invariant 5: no code path can leave a balance below the limit.
    check('accounts_balance_within_limit', sql`${t.balance} >= -${t.overdraftLimit}`),
  ],
);

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
    status: text('status', { enum: SETTLEMENT_STATUSES }).notNull(),
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
    // No index by batch or by debit account: no query reads the table that way, and every
    // index costs each settled transaction an entry (migration 0011, docs/benchmarks.md).
    // Settlement cycles select their window by settlement time.
    index('transactions_settled_at_idx').on(t.settledAt),
  ],
);

/** Append-only (a trigger in the migration refuses UPDATE, DELETE and TRUNCATE). */
export const postings = pgTable(
  'postings',
  {
    /** Append order. No index: nothing reads postings by it (see the keys below). */
    id: bigserial('id', { mode: 'bigint' }).notNull(),
    // Referential integrity is checked once per INSERT statement by a trigger (migration
    // 0003): row-level foreign keys cost a lookup per posting, a fifth of a batch's time.
    transactionId: text('transaction_id').notNull(),
    accountId: text('account_id').notNull(),
    side: text('side', { enum: ['DEBIT', 'CREDIT'] }).notNull(),
    /** Signed: negative on the debit side, positive on the credit side. */
    amount: amountInt8('amount').notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    batchId: text('batch_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    // The natural key is the only index (migration 0013): one debit and one credit per
    // transaction, how replay and the ledger check find a transaction's postings. Every index
    // costs each settled transaction two entries; the former `id` key and `(account_id, id)`
    // were read by nothing and cost about 7 us of PostgreSQL per transaction
    // (docs/benchmarks.md). An account-history read would add its own index back.
    primaryKey({ name: 'postings_pkey', columns: [t.transactionId, t.side] }),
    check('postings_amount_non_zero', sql`${t.amount} <> 0`),
    check(
      'postings_sign_matches_side',
      sql`(${t.side} = 'DEBIT' and ${t.amount} < 0) or (${t.side} = 'CREDIT' and ${t.amount} > 0)`,
    ),
    check('postings_currency_format', sql`${t.currency} ~ '^[A-Z]{3}$'`),
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
    /**
     * The batch's valid messages (JSON of BatchMessage[]) staged by ingest, so the workflow
     * input carries a reference instead of the messages (docs/architecture.md, "Batch
     * payload"); cleared when the batch settles, Kafka stays the record of the raw log.
     */
    stagedMessages: text('staged_messages'),
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
    headers: jsonb('headers').$type<Record<string, string | string[]>>(),
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
    // A resubmitted message that failed again names its predecessor in this header.
    index('dead_letters_resubmission_idx')
      .on(sql`(${t.headers} ->> 'x-dead-letter-id')`)
      .where(sql`${t.headers} ? 'x-dead-letter-id'`),
  ],
);

/**
 * Transactional outbox: a batch's outcomes (and conflict dead letters), one row per batch and
 * topic, written in the same database transaction as the ledger and published to Kafka
 * afterwards. One row per batch, not per event: the write and the "published" mark cost one
 * tuple each instead of thousands. Consumers dedupe by transaction id.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    batchId: text('batch_id').notNull(),
    topic: text('topic').notNull(),
    /** JSON array of {key, value, headers} Kafka messages, in publishing order. */
    messages: text('messages').notNull(),
    messageCount: integer('message_count').notNull(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('outbox_batch_topic_uq').on(t.batchId, t.topic),
    index('outbox_unpublished_idx')
      .on(t.createdAt)
      .where(sql`${t.publishedAt} is null`),
  ],
);

/**
 * Admin: pause/resume of live consumption, one durable row per consumer group. Every ingest
 * instance polls it (a few seconds), so the state reaches all instances and survives restarts.
 */
export const consumerControls = pgTable('consumer_controls', {
  groupId: text('group_id').primaryKey(),
  paused: boolean('paused').notNull().default(false),
  reason: text('reason'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  /** Token fingerprint (never the token) of whoever changed it last. */
  updatedBy: text('updated_by'),
});

export const AUDIT_OUTCOMES = ['SUCCESS', 'FAILURE'] as const;

/** Admin: every changing request (who, what, when, outcome); append-only by convention. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    /** First 8 hex of sha256(token): identifies the token without revealing it. */
    actor: text('actor').notNull(),
    role: text('role').notNull(),
    action: text('action').notNull(),
    target: text('target'),
    details: jsonb('details').$type<Record<string, unknown>>(),
    outcome: text('outcome', { enum: AUDIT_OUTCOMES }).notNull(),
    statusCode: integer('status_code').notNull(),
    error: text('error'),
    createdAt: createdAt(),
  },
  (t) => [
    check('audit_log_outcome', sql`${t.outcome} in ('SUCCESS', 'FAILURE')`),
    index('audit_log_created_idx').on(t.createdAt, t.id),
  ],
);

export const REPLAY_STATUSES = ['RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED'] as const;
export const REPLAY_MODES = ['settle', 'verify'] as const;

/** Admin: compliance replays; progress is written by the replay workflow after each chunk. */
export const replays = pgTable(
  'replays',
  {
    id: text('id').primaryKey(),
    workflowId: text('workflow_id').notNull(),
    topic: text('topic').notNull(),
    mode: text('mode', { enum: REPLAY_MODES }).notNull(),
    /** Per partition: [{partition, fromOffset, toOffset}] (offsets as strings, end exclusive). */
    ranges: jsonb('ranges')
      .$type<{ partition: number; fromOffset: string; toOffset: string }[]>()
      .notNull(),
    /** The request as given (offsets or timestamps). */
    request: jsonb('request').$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: REPLAY_STATUSES }).notNull(),
    read: bigint('read', { mode: 'bigint' })
      .notNull()
      .default(sql`0`),
    alreadySettled: bigint('already_settled', { mode: 'bigint' })
      .notNull()
      .default(sql`0`),
    settled: bigint('settled', { mode: 'bigint' })
      .notNull()
      .default(sql`0`),
    rejected: bigint('rejected', { mode: 'bigint' })
      .notNull()
      .default(sql`0`),
    deadLettered: bigint('dead_lettered', { mode: 'bigint' })
      .notNull()
      .default(sql`0`),
    /** verify mode: how many re-derived outcomes differ from the ledger, and some samples. */
    differences: bigint('differences', { mode: 'bigint' })
      .notNull()
      .default(sql`0`),
    differenceSamples: jsonb('difference_samples').$type<Record<string, unknown>[]>(),
    /** Next offset per partition, as strings: where a resumed workflow continues. */
    progress: jsonb('progress').$type<Record<string, string>>(),
    requestedBy: text('requested_by').notNull(),
    error: text('error'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    check('replays_status', sql`${t.status} in ('RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED')`),
    check('replays_mode', sql`${t.mode} in ('settle', 'verify')`),
    index('replays_created_idx').on(t.createdAt, t.id),
  ],
);

export { CYCLE_STATUSES };

/**
 * Settlement cycles: one row per cut-off, covering the settlement-time window
 * (window_start, cutoff]. Windows never overlap (an exclusion constraint in the migration)
 * and at most one cycle is in progress (a partial unique index). Once `sealed_at` is set, a
 * trigger refuses any transaction settled at or before the cut-off: a late writer retries
 * with a fresh settlement time and lands in the next cycle (docs/settlement-cycles.md).
 */
export const settlementCycles = pgTable(
  'settlement_cycles',
  {
    id: text('id').primaryKey(),
    workflowId: text('workflow_id').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
    cutoff: timestamp('cutoff', { withTimezone: true }).notNull(),
    status: text('status', { enum: CYCLE_STATUSES }).notNull(),
    /** Per partition, the position ingest had read to at the cut-off: [{topic, partition, nextOffset}]. */
    partitionTargets: jsonb('partition_targets')
      .$type<{ topic: string; partition: number; nextOffset: string }[]>()
      .notNull(),
    /** When waiting for those batches gives up (set once, so a restarted worker cannot extend it). */
    graceDeadline: timestamp('grace_deadline', { withTimezone: true }).notNull(),
    sealedAt: timestamp('sealed_at', { withTimezone: true }),
    transactions: bigint('transactions', { mode: 'bigint' }),
    rejected: bigint('rejected', { mode: 'bigint' }),
    /** {currency: {debits, credits}}, amounts as decimal strings. */
    totals: jsonb('totals').$type<Record<string, { debits: string; credits: string }>>(),
    requestedBy: text('requested_by').notNull(),
    error: text('error'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('settlement_cycles_cutoff_uq').on(t.cutoff),
    check('settlement_cycles_window', sql`${t.windowStart} < ${t.cutoff}`),
    check(
      'settlement_cycles_status',
      sql`${t.status} in ('CLOSED', 'COMPUTED', 'VERIFIED', 'COMPLETED', 'FAILED')`,
    ),
  ],
);

/** A cycle's net position per account and currency; amounts are sums, so numeric(38,0). */
export const cyclePositions = pgTable(
  'cycle_positions',
  {
    cycleId: text('cycle_id')
      .notNull()
      .references(() => settlementCycles.id),
    accountId: text('account_id').notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    debits: money('debits').notNull(),
    credits: money('credits').notNull(),
    /** credits - debits: the change of the account's balance over the window. */
    net: money('net').notNull(),
    /** The account's balance at the cut-off; the next cycle's opening balance. */
    closingBalance: money('closing_balance').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.cycleId, t.accountId, t.currency] }),
    check('cycle_positions_sides', sql`${t.debits} >= 0 and ${t.credits} >= 0`),
    check('cycle_positions_net', sql`${t.net} = ${t.credits} - ${t.debits}`),
    // The previous cycle's closing balance of an account: the latest cycle id before this one.
    index('cycle_positions_account_idx').on(t.accountId, t.currency, t.cycleId),
  ],
);

/** Where a dead letter stands; OPEN is the absence of a dead_letter_repairs row. */
export const DEAD_LETTER_STATUSES = ['OPEN', 'PROPOSED', 'RESUBMITTED', 'DISCARDED'] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

/**
 * What operators did with a dead letter (docs/operations.md, "Repairing a dead letter"): a
 * proposed correction, its approval by a different operator, the resubmission, or the write-off.
 * A RESUBMITTED row is also its own outbox entry: the message to publish to the source topic
 * is written here in the transaction that changes the state, and `published_at` marks it sent.
 */
export const deadLetterRepairs = pgTable(
  'dead_letter_repairs',
  {
    deadLetterId: bigint('dead_letter_id', { mode: 'bigint' })
      .primaryKey()
      .references(() => deadLetters.id),
    status: text('status', { enum: ['PROPOSED', 'RESUBMITTED', 'DISCARDED'] }).notNull(),
    /** The corrected message value (UTF-8 JSON), null for a resubmission as is. */
    correctedValue: text('corrected_value'),
    proposedBy: text('proposed_by'),
    proposedAt: timestamp('proposed_at', { withTimezone: true }),
    approvedBy: text('approved_by'),
    approvedAt: timestamp('approved_at', { withTimezone: true }),
    resubmittedBy: text('resubmitted_by'),
    resubmittedAt: timestamp('resubmitted_at', { withTimezone: true }),
    /** The bulk re-drive that resubmitted it, if any. */
    redriveId: text('redrive_id'),
    discardedBy: text('discarded_by'),
    discardedAt: timestamp('discarded_at', { withTimezone: true }),
    discardReason: text('discard_reason'),
    /** The message to publish (key UTF-8, value base64, headers as [key, base64] pairs incl. x-dead-letter-id). */
    messageTopic: text('message_topic'),
    messageKey: text('message_key'),
    messageValue: text('message_value'),
    messageHeaders: jsonb('message_headers').$type<[string, string][]>(),
    /** The transaction id the resubmitted message carries (links to its outcome). */
    transactionId: text('transaction_id'),
    publishAttempts: integer('publish_attempts').notNull().default(0),
    /** A publisher's lease: another publisher leaves the row alone until it expires. */
    claimedUntil: timestamp('claimed_until', { withTimezone: true }),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    publishedPartition: integer('published_partition'),
    publishedOffset: offsetInt8('published_offset'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check(
      'dead_letter_repairs_status',
      sql`${t.status} in ('PROPOSED', 'RESUBMITTED', 'DISCARDED')`,
    ),
    // Four eyes, enforced by the database too: nobody approves their own correction.
    check(
      'dead_letter_repairs_four_eyes',
      sql`${t.approvedBy} is null or ${t.approvedBy} <> ${t.proposedBy}`,
    ),
    check(
      'dead_letter_repairs_resubmitted_has_message',
      sql`${t.status} <> 'RESUBMITTED' or (${t.messageValue} is not null and ${t.messageTopic} is not null)`,
    ),
    check(
      'dead_letter_repairs_discard_reason',
      sql`${t.status} <> 'DISCARDED' or ${t.discardReason} is not null`,
    ),
    index('dead_letter_repairs_status_idx').on(t.status, t.deadLetterId),
    index('dead_letter_repairs_unpublished_idx')
      .on(t.resubmittedAt)
      .where(sql`${t.status} = 'RESUBMITTED' and ${t.publishedAt} is null`),
    index('dead_letter_repairs_redrive_idx').on(t.redriveId),
    index('dead_letter_repairs_transaction_idx').on(t.transactionId),
  ],
);

export const REDRIVE_STATUSES = ['RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED'] as const;

/** Bulk re-drives of dead letters; progress is written by the redrive workflow per chunk. */
export const deadLetterRedrives = pgTable(
  'dead_letter_redrives',
  {
    id: text('id').primaryKey(),
    workflowId: text('workflow_id').notNull(),
    /** {reason?, since?, until?}: which OPEN dead letters, as requested. */
    filter: jsonb('filter')
      .$type<{ reason?: (typeof DEAD_LETTER_REASONS)[number]; since?: string; until?: string }>()
      .notNull(),
    /** The newest dead letter id when the re-drive started: later ones are not in it. */
    maxDeadLetterId: bigint('max_dead_letter_id', { mode: 'bigint' }).notNull(),
    status: text('status', { enum: REDRIVE_STATUSES }).notNull(),
    /** The last dead letter id handled: a resumed workflow continues after it. */
    cursor: bigint('cursor', { mode: 'bigint' })
      .notNull()
      .default(sql`0`),
    matched: integer('matched').notNull(),
    resubmitted: integer('resubmitted').notNull().default(0),
    skipped: integer('skipped').notNull().default(0),
    requestedBy: text('requested_by').notNull(),
    error: text('error'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    check(
      'dead_letter_redrives_status',
      sql`${t.status} in ('RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED')`,
    ),
    index('dead_letter_redrives_created_idx').on(t.createdAt, t.id),
  ],
);

/**
 * One rate budget shared by every running replay (REPLAY_MAX_MESSAGES_PER_SECOND, all replays
 * together): the moment from which the next chunk of any replay may read. A single row, moved
 * forward by each reservation (libs/activities replay-budget).
 */
export const replayRateBudget = pgTable(
  'replay_rate_budget',
  {
    id: smallint('id').primaryKey(),
    nextFreeAt: timestamp('next_free_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('replay_rate_budget_one_row', sql`${t.id} = 1`)],
);

import { z } from 'zod';
import { CYCLE_STATUSES } from '@settlement/contracts';
import { BATCH_STATUSES, DEAD_LETTER_STATUSES, REPLAY_STATUSES } from '@settlement/db';

/**
 * What the admin API answers, as zod schemas: the OpenAPI document's `components.schemas` are
 * generated from these (http/openapi.ts), and the integration test validates real answers of
 * every route against that document. A field a use case adds must be added here too, or the
 * test names the route and the field.
 */
export const apiSchemas = z.registry<{ id: string; description?: string }>();

function component<T extends z.ZodType>(id: string, schema: T, description?: string): T {
  apiSchemas.add(schema, { id, ...(description ? { description } : {}) });
  return schema;
}

/** An integer of minor units or an offset, as a decimal string: never a JSON number. */
const decimal = z.string().regex(/^-?[0-9]+$/);
/** An RFC 3339 time in UTC, as the API writes it. */
const time = z.string().describe('RFC 3339, UTC');
const page = <T extends z.ZodType>(id: string, item: T) =>
  component(
    id,
    z.object({
      items: z.array(item),
      nextCursor: z
        .string()
        .nullable()
        .describe('pass as cursor for the next page; null on the last'),
    }),
  );

export const ErrorBody = component(
  'Error',
  z.object({
    error: z
      .string()
      .regex(/^[A-Z_]+$/)
      .describe('a stable code: BAD_REQUEST, UNAUTHORIZED, ...'),
    message: z.string().describe('for people: what was wrong and, for a field, which one'),
    checks: z
      .record(z.string(), z.string())
      .optional()
      .describe('readiness only: each dependency and "ok" or why not'),
  }),
  'Every error: a code and a message.',
);

export const Account = component(
  'Account',
  z.object({
    id: z.string(),
    currency: z.string().regex(/^[A-Z]{3}$/),
    balance: decimal.describe('minor units'),
    overdraftLimit: decimal.describe('minor units'),
  }),
);

export const Batch = component(
  'Batch',
  z.object({
    id: z.string(),
    topic: z.string(),
    partition: z.number().int(),
    fromOffset: decimal,
    nextOffset: decimal.describe('exclusive'),
    workflowId: z.string(),
    workflowUrl: z.string().describe('the workflow in the Temporal Web UI'),
    status: z.enum(BATCH_STATUSES),
    counts: z.object({
      messages: z.number().int(),
      settled: z.number().int(),
      rejected: z.number().int(),
      duplicates: z.number().int(),
      deadLettered: z.number().int(),
    }),
    replayId: z.string().nullable(),
    error: z.string().nullable(),
    createdAt: time,
    closedAt: time.nullable(),
    settledAt: time.nullable(),
  }),
);
export const BatchPage = page('BatchPage', Batch);

export const Transaction = component(
  'Transaction',
  z.object({
    id: z.string(),
    status: z.enum(['SETTLED', 'REJECTED', 'PENDING']),
    reason: z.string().optional(),
    batchId: z.string().optional(),
    settledAt: time.optional(),
    batch: Batch.optional(),
    workflowId: z.string().optional(),
    workflowUrl: z.string().optional(),
    debitAccount: z.string().optional(),
    creditAccount: z.string().optional(),
    amount: decimal.optional(),
    currency: z.string().optional(),
    topic: z.string().optional(),
    partition: z.number().int().optional(),
    offset: decimal.optional(),
  }),
);

const outcome = z.object({
  status: z.string(),
  reason: z.string().optional(),
  batchId: z.string().nullable(),
  settledAt: time.nullable(),
});

export const DeadLetter = component(
  'DeadLetter',
  z.object({
    id: z.string(),
    status: z.enum(DEAD_LETTER_STATUSES),
    topic: z.string(),
    partition: z.number().int(),
    offset: decimal,
    key: z.string().nullable(),
    value: z.string().describe('the original bytes, base64'),
    payload: z.object({ encoding: z.enum(['utf8', 'hex']), text: z.string() }),
    headers: z.record(z.string(), z.union([z.string(), z.array(z.string())])).nullable(),
    reason: z.string(),
    field: z.string().nullable(),
    message: z.string(),
    transactionId: z.string().nullable(),
    batchId: z.string().nullable(),
    createdAt: time,
    proposal: z
      .object({
        correctedMessage: z.string().nullable(),
        proposedBy: z.string().nullable(),
        proposedAt: time.nullable(),
        approvedBy: z.string().nullable(),
        approvedAt: time.nullable(),
      })
      .nullable(),
    resubmission: z
      .object({
        resubmittedBy: z.string().nullable(),
        resubmittedAt: time.nullable(),
        redriveId: z.string().nullable(),
        corrected: z.boolean(),
        key: z.string().nullable(),
        transactionId: z.string().nullable(),
        publishedAt: time.nullable(),
        partition: z.number().int().nullable(),
        offset: decimal.nullable(),
        outcome: outcome.nullable(),
        deadLetteredAgainAs: z.string().nullable(),
      })
      .nullable(),
    discard: z
      .object({
        discardedBy: z.string().nullable(),
        discardedAt: time.nullable(),
        reason: z.string().nullable(),
      })
      .nullable(),
  }),
);
export const DeadLetterPage = page('DeadLetterPage', DeadLetter);

export const Repair = component(
  'DeadLetterRepair',
  z.object({
    deadLetterId: z.string(),
    status: z.enum(['PROPOSED', 'RESUBMITTED', 'DISCARDED']),
    proposedBy: z.string().nullable().optional(),
    approvedBy: z.string().optional(),
    resubmittedBy: z.string().optional(),
    discardedBy: z.string().optional(),
    reason: z.string().optional(),
    transactionId: z
      .string()
      .nullable()
      .optional()
      .describe('null: the message has no readable id'),
    published: z.boolean().optional().describe('false: the relay publishes it shortly'),
  }),
  'a state change of a dead letter',
);

const redriveFilter = z.object({
  reason: z.string().optional(),
  since: time.optional(),
  until: time.optional(),
});

export const RedriveStarted = component(
  'RedriveStarted',
  z.object({
    redriveId: z.string(),
    workflowId: z.string(),
    filter: redriveFilter,
    matched: z.number().int(),
    maxDeadLetterId: z.string(),
  }),
);

export const RedrivePlan = component(
  'RedrivePlan',
  z.object({
    dryRun: z.literal(true),
    filter: redriveFilter,
    maxDeadLetterId: z.string(),
    matched: z.number().int(),
    resubmitted: z.number().int(),
    skipped: z.number().int(),
    skippedSamples: z.array(z.object({ id: z.string(), reason: z.string() })),
    resubmittedSamples: z.array(z.string()),
  }),
  'a dry run: what a re-drive would do now',
);

export const Redrive = component(
  'Redrive',
  z.object({
    redriveId: z.string(),
    workflowId: z.string(),
    status: z.string(),
    filter: redriveFilter,
    maxDeadLetterId: z.string(),
    cursor: z.string(),
    counts: z.object({
      matched: z.number().int(),
      resubmitted: z.number().int(),
      skipped: z.number().int(),
      published: z.number().int(),
    }),
    requestedBy: z.string(),
    error: z.string().nullable(),
    createdAt: time,
    finishedAt: time.nullable(),
  }),
);

export const Cancellation = component(
  'Cancellation',
  z.object({
    replayId: z.string().optional(),
    redriveId: z.string().optional(),
    workflowId: z.string(),
    status: z.literal('CANCELLING'),
  }),
);

const replayRange = z.object({
  partition: z.number().int(),
  fromOffset: decimal,
  toOffset: decimal.describe('exclusive'),
});

export const ReplayStarted = component(
  'ReplayStarted',
  z.object({
    replayId: z.string(),
    workflowId: z.string(),
    topic: z.string(),
    mode: z.enum(['settle', 'verify']),
    ranges: z.array(replayRange),
  }),
);

export const Replay = component(
  'Replay',
  z.object({
    replayId: z.string(),
    workflowId: z.string(),
    status: z.enum(REPLAY_STATUSES),
    mode: z.enum(['settle', 'verify']),
    topic: z.string(),
    ranges: z.array(replayRange),
    counts: z.object({
      read: z.number().int(),
      alreadySettled: z.number().int(),
      settled: z.number().int(),
      rejected: z.number().int(),
      deadLettered: z.number().int(),
    }),
    differences: z.number().int(),
    differenceSamples: z.array(z.record(z.string(), z.unknown())),
    progress: z.record(z.string(), z.string()).describe('next offset per partition'),
    requestedBy: z.string(),
    error: z.string().nullable(),
    createdAt: time,
    updatedAt: time,
    finishedAt: time.nullable(),
  }),
);
export const ReplayPage = page('ReplayPage', Replay);

export const CycleStarted = component(
  'CycleStarted',
  z.object({
    cycleId: z.string(),
    workflowId: z.string(),
    status: z.enum(CYCLE_STATUSES).optional(),
    existing: z.boolean().describe('true: that cut-off already ran or runs'),
  }),
);

export const Cycle = component(
  'Cycle',
  z.object({
    cycleId: z.string(),
    workflowId: z.string(),
    status: z.enum(CYCLE_STATUSES),
    windowStart: time,
    cutoff: time,
    transactions: z.number().int(),
    rejected: z.number().int(),
    totals: z.record(z.string(), z.object({ debits: decimal, credits: decimal })),
    requestedBy: z.string(),
    error: z.string().nullable(),
    createdAt: time,
    completedAt: time.nullable(),
  }),
);
export const CyclePage = page('CyclePage', Cycle);

export const Position = component(
  'Position',
  z.object({
    account: z.string(),
    currency: z.string(),
    debits: decimal,
    credits: decimal,
    net: decimal,
  }),
);
export const PositionPage = page('PositionPage', Position);

export const Consumption = component(
  'Consumption',
  z.object({
    groupId: z.string(),
    paused: z.boolean(),
    reason: z.string().nullable(),
    updatedAt: time.nullable(),
    updatedBy: z.string().nullable(),
  }),
);

export const Lag = component(
  'Lag',
  z.object({
    groupId: z.string(),
    topic: z.string(),
    consumption: Consumption,
    totalLag: decimal,
    partitions: z.array(
      z.object({
        partition: z.number().int(),
        committedOffset: decimal.nullable().describe('null: the group never committed here'),
        startOffset: decimal,
        endOffset: decimal,
        lag: decimal,
      }),
    ),
  }),
);

export const Session = component(
  'Session',
  z.object({
    principal: z.object({ name: z.string(), role: z.enum(['operator', 'readonly']) }),
    temporalWebUrl: z.string(),
    temporalNamespace: z.string(),
  }),
);

export const Live = component('Live', z.object({ status: z.literal('ok') }));
export const Ready = component(
  'Ready',
  z.object({ status: z.literal('ok'), checks: z.record(z.string(), z.string()) }),
);

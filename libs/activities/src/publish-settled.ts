import type { OutboxMessage, PendingOutboxRow } from '@settlement/db';
import {
  outboxStore,
  publishRows,
  type PublishDeps,
  type PublishHooks,
  type PublishProgress,
} from './publish-outcomes.activity';

/** At most this long publishing inside the settle activity; past it the workflow publishes. */
export const SETTLED_PUBLISH_MAX_MS = 15_000;
/** What the settle activity keeps back from its start-to-close timeout to report its result. */
const REPORT_MARGIN_MS = 5_000;
/** Less time than this is not worth a try: the workflow's publishOutcomes does it. */
const MIN_BUDGET_MS = 1_000;

/**
 * How long the settle activity may spend publishing after its commit (0: not at all). Never
 * so long that the start-to-close timeout ends an attempt whose ledger work is done, which
 * would cost a retry of the settle activity on top of the publishing. A start-to-close
 * timeout of 0 means none is set.
 */
export function publishBudgetMs(
  attempt: { startedAtMs: number; startToCloseTimeoutMs: number },
  nowMs: number,
): number {
  const left =
    attempt.startToCloseTimeoutMs > 0
      ? attempt.startedAtMs + attempt.startToCloseTimeoutMs - REPORT_MARGIN_MS - nowMs
      : Infinity;
  const budget = Math.min(SETTLED_PUBLISH_MAX_MS, left);
  return budget >= MIN_BUDGET_MS ? Math.floor(budget) : 0;
}

export interface SettledPublish {
  /** Every unpublished outbox row of the batch was sent and marked published. */
  published: boolean;
  /** Rows (ids as strings) sent but not marked: the fallback must mark them, not send them. */
  sent?: string[];
}

/**
 * Publishes a just-settled batch's outbox like publishOutcomes (same rows, order, records and
 * copies bound), from the records the settlement holds in memory, and never throws: the
 * ledger is committed whatever happens here; a failure (Kafka down, the budget spent) leaves
 * the rows unpublished in the outbox for the workflow's publishOutcomes activity.
 */
export async function publishSettled(
  deps: PublishDeps,
  batchId: string,
  written: ReadonlyMap<string, OutboxMessage[]>,
  hooks: PublishHooks & { budgetMs: number },
): Promise<SettledPublish> {
  if (hooks.budgetMs <= 0) return { published: false, sent: hooks.progress?.sent };
  let progress = hooks.progress;
  const publishing = settledOutboxRows(deps, batchId, written).then((rows) =>
    publishRows(deps, rows, {
      ...hooks,
      markRetryMs: hooks.budgetMs,
      onSent: (sent) => {
        progress = sent;
        hooks.onSent?.(sent);
      },
    }),
  );
  try {
    await withinMs(publishing, hooks.budgetMs);
    return { published: true };
  } catch (err) {
    deps.logger?.warn(
      { err, batchId },
      'publishing the outcomes after settlement failed; the workflow publishes them from the outbox',
    );
    return { published: false, sent: progress?.sent };
  }
}

/**
 * The batch's unpublished outbox rows: from memory when the settlement wrote each of them
 * whole (the common case: its outcomes, its own dead letters), otherwise all read back (a row
 * ingest wrote or one the settlement appended to).
 */
export async function settledOutboxRows(
  deps: PublishDeps,
  batchId: string,
  written: ReadonlyMap<string, OutboxMessage[]>,
): Promise<PendingOutboxRow[]> {
  const store = deps.outbox ?? outboxStore;
  const rows: PendingOutboxRow[] = [];
  for (const { id, topic, messageCount } of await store.list(deps.db, batchId)) {
    const messages = written.get(topic);
    if (messages?.length !== messageCount) return store.load(deps.db, batchId);
    rows.push({ id, topic, messages });
  }
  return rows;
}

/** Rejects once `ms` have passed; the work itself goes on (a send cannot be called back). */
async function withinMs<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within ${ms} ms`)), ms);
  });
  // A late failure of abandoned work must not become an unhandled rejection.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Both attempts' reports of sent rows: an earlier attempt's heartbeat and the settle activity's. */
export function mergeProgress(
  ...reports: (PublishProgress | undefined)[]
): PublishProgress | undefined {
  const sent = new Set(reports.flatMap((r) => r?.sent ?? []));
  return sent.size > 0 ? { sent: [...sent] } : undefined;
}

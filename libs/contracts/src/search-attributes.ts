/**
 * What the Temporal Web UI shows of settlement: custom search attributes (queryable columns)
 * and the one-sentence summary and details of each workflow. Workflows import this file with
 * a relative path: it depends on @temporalio/common only, which is deterministic.
 *
 * The names and types are registered by `npm run stack:up` (scripts/stack/lib.sh) and, for a
 * self-hosted cluster or Temporal Cloud, as docs/temporal-ui.md describes; a unit test keeps
 * the three in step. Counts are Double because SQL visibility (the dev server's SQLite)
 * allows only three custom Int attributes per namespace; a Double holds integers exactly to 2^53.
 */
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type SearchAttributePair,
} from '@temporalio/common';

export const SEARCH_ATTRIBUTES = {
  topic: defineSearchAttributeKey('SettlementTopic', SearchAttributeType.KEYWORD),
  /** A Keyword, like the topic: partitions are names of logs, not quantities. */
  partition: defineSearchAttributeKey('SettlementPartition', SearchAttributeType.KEYWORD),
  firstOffset: defineSearchAttributeKey('SettlementFirstOffset', SearchAttributeType.INT),
  lastOffset: defineSearchAttributeKey('SettlementLastOffset', SearchAttributeType.INT),
  settled: defineSearchAttributeKey('SettlementSettled', SearchAttributeType.DOUBLE),
  rejected: defineSearchAttributeKey('SettlementRejected', SearchAttributeType.DOUBLE),
  deadLettered: defineSearchAttributeKey('SettlementDeadLettered', SearchAttributeType.DOUBLE),
  deadLetterReasons: defineSearchAttributeKey(
    'SettlementDeadLetterReasons',
    SearchAttributeType.KEYWORD_LIST,
  ),
  status: defineSearchAttributeKey('SettlementStatus', SearchAttributeType.KEYWORD),
  replayId: defineSearchAttributeKey('SettlementReplayId', SearchAttributeType.KEYWORD),
} as const;

/** SettlementStatus: a batch is RUNNING, then SETTLED or FAILED; a replay also CANCELLED. */
export type SettlementStatusKeyword = 'RUNNING' | 'SETTLED' | 'FAILED' | 'COMPLETED' | 'CANCELLED';

/** Counts by reason, e.g. `{ DUPLICATE_CONFLICT: 2 }`. */
export type ReasonCounts = Record<string, number>;

/** Where a batch (or a replay chunk) sits in the log: `[first, last]`, both inclusive. */
export interface LogRange {
  topic: string;
  partition: number;
  fromOffset: string;
  /** Exclusive end: the position after the last message. */
  nextOffset: string;
}

export interface SettlementCounts {
  settled: number;
  rejected: number;
  deadLettered: number;
  deadLetterReasons?: ReasonCounts;
}

/** The inclusive last offset of a range; an empty range ends where it starts. */
function lastOffsetOf(r: LogRange): bigint {
  const next = BigInt(r.nextOffset);
  const from = BigInt(r.fromOffset);
  return next > from ? next - 1n : from;
}

/** `transactions[4] offsets 40-42`, the name of a range in summaries and logs. */
export function describeRange(r: LogRange): string {
  const last = lastOffsetOf(r);
  const first = BigInt(r.fromOffset);
  return first === last
    ? `${r.topic}[${r.partition}] offset ${first}`
    : `${r.topic}[${r.partition}] offsets ${first}-${last}`;
}

/** 3050 -> "3,050" (no Intl: the same text on every runtime, also inside the workflow sandbox). */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `3,050 settled, 50 rejected, 2 dead-lettered (DUPLICATE_CONFLICT 2)`. */
export function describeCounts(c: SettlementCounts): string {
  const parts = [`${groupDigits(c.settled)} settled`, `${groupDigits(c.rejected)} rejected`];
  if (c.deadLettered > 0) {
    const reasons = Object.entries(c.deadLetterReasons ?? {})
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `${reason} ${groupDigits(n)}`);
    parts.push(
      `${groupDigits(c.deadLettered)} dead-lettered${reasons.length ? ` (${reasons.join(', ')})` : ''}`,
    );
  }
  return parts.join(', ');
}

/** Sums two sets of reason counts (ingest's dead letters and the worker's). */
export function addReasons(a: ReasonCounts | undefined, b: ReasonCounts | undefined): ReasonCounts {
  const out: ReasonCounts = { ...a };
  for (const [reason, n] of Object.entries(b ?? {})) out[reason] = (out[reason] ?? 0) + n;
  return out;
}

/** Offsets as Int search attributes: exact up to 2^53, the most a JS number holds. */
function offsetNumber(v: bigint): number {
  return Number(v > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : v);
}

/** The attributes a settleBatch workflow starts with (status RUNNING, no counts yet). */
export function batchStartAttributes(r: LogRange): SearchAttributePair[] {
  return [
    { key: SEARCH_ATTRIBUTES.topic, value: r.topic },
    { key: SEARCH_ATTRIBUTES.partition, value: String(r.partition) },
    { key: SEARCH_ATTRIBUTES.firstOffset, value: offsetNumber(BigInt(r.fromOffset)) },
    { key: SEARCH_ATTRIBUTES.lastOffset, value: offsetNumber(lastOffsetOf(r)) },
    { key: SEARCH_ATTRIBUTES.status, value: 'RUNNING' },
  ];
}

/** The attributes a workflow upserts once its counts are known. */
export function countAttributes(
  status: SettlementStatusKeyword,
  c: SettlementCounts,
): SearchAttributePair[] {
  const reasons = Object.entries(c.deadLetterReasons ?? {})
    .filter(([, n]) => n > 0)
    .map(([reason]) => reason)
    .sort();
  return [
    { key: SEARCH_ATTRIBUTES.status, value: status },
    { key: SEARCH_ATTRIBUTES.settled, value: c.settled },
    { key: SEARCH_ATTRIBUTES.rejected, value: c.rejected },
    { key: SEARCH_ATTRIBUTES.deadLettered, value: c.deadLettered },
    { key: SEARCH_ATTRIBUTES.deadLetterReasons, value: reasons },
  ];
}

/** The static summary of a settleBatch workflow, known at start: range and size. */
export function batchSummary(r: LogRange, messages: number, deadLetteredAtIngest: number): string {
  const dead =
    deadLetteredAtIngest > 0
      ? `, ${groupDigits(deadLetteredAtIngest)} dead-lettered at ingest`
      : '';
  return `${describeRange(r)}: ${groupDigits(messages)} message${messages === 1 ? '' : 's'}${dead}`;
}

/** The attributes a replay workflow starts with. */
export function replayStartAttributes(replayId: string, topic: string): SearchAttributePair[] {
  return [
    { key: SEARCH_ATTRIBUTES.replayId, value: replayId },
    { key: SEARCH_ATTRIBUTES.topic, value: topic },
    { key: SEARCH_ATTRIBUTES.status, value: 'RUNNING' },
  ];
}

/** `replay rpl-1 (settle) of transactions[0] offsets 0-99, transactions[1] offsets 0-49`. */
export function replaySummary(
  replayId: string,
  topic: string,
  mode: string,
  ranges: readonly { partition: number; fromOffset: string; toOffset: string }[],
): string {
  const shown = ranges.slice(0, 4).map((r) =>
    describeRange({
      topic,
      partition: r.partition,
      fromOffset: r.fromOffset,
      nextOffset: r.toOffset,
    }),
  );
  const more = ranges.length > 4 ? ` and ${ranges.length - 4} more partitions` : '';
  return `replay ${replayId} (${mode}) of ${shown.join(', ') || `${topic}: nothing to read`}${more}`;
}

/** `[name, type]` of every attribute, as `temporal operator search-attribute create` takes them. */
export function searchAttributeRegistrations(): [string, string][] {
  const typeName: Record<string, string> = {
    [SearchAttributeType.KEYWORD]: 'Keyword',
    [SearchAttributeType.INT]: 'Int',
    [SearchAttributeType.DOUBLE]: 'Double',
    [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
    [SearchAttributeType.TEXT]: 'Text',
    [SearchAttributeType.BOOL]: 'Bool',
    [SearchAttributeType.DATETIME]: 'Datetime',
  };
  return Object.values(SEARCH_ATTRIBUTES).map((k) => [k.name, typeName[k.type]]);
}

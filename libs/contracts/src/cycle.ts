/**
 * Settlement cycles as they travel between admin, the Schedule and the worker. Kept free of
 * Node and framework imports: workflow code imports it.
 *
 * A cycle covers the settlement-time window (previous cut-off, cut-off]. Its ids derive from
 * the cut-off alone, so the Schedule and an operator asking for the same cut-off meet on the
 * same workflow and the same row.
 */

/** Cut-offs are whole seconds in UTC (a Schedule fires on whole seconds). */
export function isWholeSecond(cutoff: Date): boolean {
  return cutoff.getTime() % 1000 === 0;
}

/** `2026-11-29T10:05:00Z`: the form Temporal appends to a scheduled workflow's id. */
export function cutoffText(cutoff: Date): string {
  return `${cutoff.toISOString().slice(0, 19)}Z`;
}

/** The cycle's id in the database and the admin API, `20261129T100500Z` (sorts by time). */
export function cycleIdFor(cutoff: Date): string {
  return cutoffText(cutoff).replace(/[-:]/g, '');
}

/** The cut-off a cycle id stands for, or undefined for anything else. */
export function cutoffOfCycleId(cycleId: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(cycleId);
  if (!m) return undefined;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(d.getTime()) || cycleIdFor(d) !== cycleId ? undefined : d;
}

/**
 * The prefix the Schedule's action carries; Temporal appends `-<cut-off>` for each run. The
 * source topic scopes it: each deployment (and each test) settles its own topic's ledger.
 */
export function cycleWorkflowIdPrefix(topic: string): string {
  return `cycle-${topic}`;
}

export function cycleWorkflowId(topic: string, cutoff: Date): string {
  return `${cycleWorkflowIdPrefix(topic)}-${cutoffText(cutoff)}`;
}

export function cycleScheduleId(topic: string): string {
  return `settlement-cycle-${topic}`;
}

/** The cut-off at the end of a scheduled run's workflow id, if it carries one. */
export function cutoffOfWorkflowId(workflowId: string): Date | undefined {
  const m = /-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$/.exec(workflowId);
  return m ? new Date(m[1]) : undefined;
}

export interface SettlementCycleInput {
  /** ISO time; absent when the Schedule started the run (its scheduled time is the cut-off). */
  cutoff?: string;
  /** Who asked: an operator's principal; the Schedule's runs say `schedule`. */
  requestedBy?: string;
}

export const CYCLE_STATUSES = ['CLOSED', 'COMPUTED', 'VERIFIED', 'COMPLETED', 'FAILED'] as const;
export type CycleStatus = (typeof CYCLE_STATUSES)[number];

/** Amounts as decimal strings (bigint minor units on the wire). */
export type CycleTotals = Record<string, { debits: string; credits: string }>;

export interface CycleWindow {
  cycleId: string;
  windowStart: string;
  cutoff: string;
  status: CycleStatus;
}

export interface CycleSummary extends CycleWindow {
  transactions: number;
  positions: number;
  totals: CycleTotals;
}

/** A cycle as the admin API reports it (GET /admin/cycles/:id). */
export interface CycleReport {
  cycleId: string;
  workflowId: string;
  status: CycleStatus;
  windowStart: string;
  cutoff: string;
  /** Settled transactions of the window. */
  transactions: number;
  rejected: number;
  totals: CycleTotals;
  requestedBy: string;
  error: string | null;
  createdAt: string;
  completedAt: string | null;
}

/** The `settlement-cycles` event (key: cycleId); consumers dedupe by cycleId. */
export interface SettlementCycleEvent extends CycleSummary {
  workflowId: string;
  completedAt: string;
}

/** Search attributes of a cycle's workflow (registered by scripts/stack/up.sh). */
export const CYCLE_SEARCH_ATTRIBUTES = {
  cutoff: 'SettlementCycleCutoff',
  windowStart: 'SettlementCycleWindowStart',
  status: 'SettlementCycleStatus',
  transactions: 'SettlementCycleTransactions',
  totals: 'SettlementCycleTotals',
} as const;

import type { CycleTotals } from '@settlement/contracts';
import type { CurrencyTotals } from '@settlement/ledger';

/** A partition a cycle's window waits for: the position ingest had read to at the cut-off. */
export interface PartitionTarget {
  topic: string;
  partition: number;
  /** Decimal offset (the cycle row keeps it as JSON text). */
  nextOffset: string;
}

export interface PartitionCursor {
  topic: string;
  partition: number;
  nextOffset: bigint;
}

/** A partition whose settlement cursor has not reached its target yet. */
export interface LaggingPartition {
  topic: string;
  partition: number;
  target: bigint;
  /** Where settlement stands; null when nothing of the partition has settled yet. */
  cursor: bigint | null;
}

/**
 * The partitions whose settlement cursor is still before the position read before the
 * cut-off (or that have no cursor), by topic then partition.
 */
export function partitionsBehind(
  targets: readonly PartitionTarget[],
  cursors: readonly PartitionCursor[],
): LaggingPartition[] {
  const cursorOf = new Map(cursors.map((c) => [`${c.partition}/${c.topic}`, c.nextOffset]));
  return targets
    .map((t) => ({
      topic: t.topic,
      partition: t.partition,
      target: BigInt(t.nextOffset),
      cursor: cursorOf.get(`${t.partition}/${t.topic}`) ?? null,
    }))
    .filter((p) => p.cursor === null || p.cursor < p.target)
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

/** `transactions/0 at 12 of 40, transactions/3 at no cursor of 7`. */
export const describeLagging = (lagging: readonly LaggingPartition[]): string =>
  lagging
    .map((p) => `${p.topic}/${p.partition} at ${p.cursor ?? 'no cursor'} of ${p.target}`)
    .join(', ');

/**
 * Whether the totals a cycle stored differ from those of its positions, per currency that
 * moved (a currency whose debits and credits are both zero need not be stored).
 */
export const storedTotalsDiffer = (
  totals: ReadonlyMap<string, CurrencyTotals>,
  stored: CycleTotals,
): boolean =>
  [...totals].some(
    ([currency, t]) =>
      (t.debits !== 0n || t.credits !== 0n) &&
      (stored[currency]?.debits !== t.debits.toString() ||
        stored[currency]?.credits !== t.credits.toString()),
  );

/**
 * Settlement-cycle netting: per-account, per-currency positions of a cycle's window, their
 * totals per currency, and the checks a cycle must pass before it is reported. Pure: the
 * worker computes positions with set-based SQL and runs these rules on what it read.
 *
 * Signs: `debits` and `credits` are the (non-negative) sums of the account's debit and credit
 * postings in the window; `net = credits - debits` is the change of its balance.
 */
import { compareIds, type Posting } from './posting';

export interface CyclePosition {
  accountId: string;
  currency: string;
  debits: bigint;
  credits: bigint;
  net: bigint;
}

export interface CurrencyTotals {
  debits: bigint;
  credits: bigint;
}

/** A position with the account's balance at the start and at the end of the window. */
export interface PositionBalances {
  position: CyclePosition;
  /** Balance at the window's start: the closing balance of the account's previous cycle, or 0. */
  opening: bigint;
  /** Balance at the cut-off. */
  closing: bigint;
}

export type CycleProblem =
  | { kind: 'CURRENCY_NOT_NETTING'; currency: string; debits: bigint; credits: bigint }
  | { kind: 'POSITION_INCONSISTENT'; accountId: string; currency: string }
  | {
      kind: 'BALANCE_CHANGE_MISMATCH';
      accountId: string;
      currency: string;
      net: bigint;
      opening: bigint;
      closing: bigint;
    };

export interface CycleCheck {
  ok: boolean;
  totals: Map<string, CurrencyTotals>;
  problems: CycleProblem[];
}

/** Positions of a set of postings (the window's), sorted by account id then currency. */
export function cyclePositions(postings: readonly Posting[]): CyclePosition[] {
  const byKey = new Map<string, CyclePosition>();
  for (const p of postings) {
    // '\n' is in neither charset, so the composite key is unambiguous.
    const key = `${p.accountId}\n${p.currency}`;
    const cur = byKey.get(key) ?? {
      accountId: p.accountId,
      currency: p.currency,
      debits: 0n,
      credits: 0n,
      net: 0n,
    };
    // Stryker disable next-line EqualityOperator: `<= 0n` is equivalent (a zero adds nothing)
    if (p.amount < 0n) cur.debits -= p.amount;
    else cur.credits += p.amount;
    cur.net += p.amount;
    byKey.set(key, cur);
  }
  return [...byKey.values()].sort(
    (a, b) => compareIds(a.accountId, b.accountId) || compareIds(a.currency, b.currency),
  );
}

/** Debits and credits per currency, currencies sorted. */
export function cycleTotals(positions: Iterable<CyclePosition>): Map<string, CurrencyTotals> {
  const sums = new Map<string, CurrencyTotals>();
  for (const p of positions) {
    const cur = sums.get(p.currency) ?? { debits: 0n, credits: 0n };
    cur.debits += p.debits;
    cur.credits += p.credits;
    sums.set(p.currency, cur);
  }
  return new Map([...sums].sort(([a], [b]) => compareIds(a, b)));
}

/**
 * The checks of a cycle: every position is self-consistent (non-negative sides whose
 * difference is its net), each currency nets to zero (debits equal credits), and each
 * account's net equals the change of its balance over the window (closing - opening).
 * Accounts without postings in the window take part with zero debits and credits: their
 * balance must not have moved.
 */
export function verifyCycle(rows: readonly PositionBalances[]): CycleCheck {
  const problems: CycleProblem[] = [];
  for (const { position: p, opening, closing } of rows) {
    if (p.debits < 0n || p.credits < 0n || p.credits - p.debits !== p.net) {
      problems.push({
        kind: 'POSITION_INCONSISTENT',
        accountId: p.accountId,
        currency: p.currency,
      });
    }
    if (closing - opening !== p.net) {
      problems.push({
        kind: 'BALANCE_CHANGE_MISMATCH',
        accountId: p.accountId,
        currency: p.currency,
        net: p.net,
        opening,
        closing,
      });
    }
  }
  const totals = cycleTotals(rows.map((r) => r.position));
  for (const [currency, t] of totals) {
    if (t.debits !== t.credits) {
      problems.push({
        kind: 'CURRENCY_NOT_NETTING',
        currency,
        debits: t.debits,
        credits: t.credits,
      });
    }
  }
  return { ok: problems.length === 0, totals, problems };
}

/** One line per problem, for the cycle's error and the logs. */
export function describeCycleProblem(p: CycleProblem): string {
  switch (p.kind) {
    case 'CURRENCY_NOT_NETTING':
      return `${p.currency} does not net to zero: debits ${p.debits}, credits ${p.credits}`;
    case 'POSITION_INCONSISTENT':
      return `position of ${p.accountId} in ${p.currency} is inconsistent (debits - credits != net)`;
    case 'BALANCE_CHANGE_MISMATCH':
      return `${p.accountId} in ${p.currency}: net ${p.net} but its balance moved from ${p.opening} to ${p.closing}`;
  }
}

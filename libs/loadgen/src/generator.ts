/**
 * Synthetic load for the settlement pipeline, with exactly predictable outcomes:
 * every message kind is built so that its outcome does not depend on timing.
 *
 * - valid: between funded accounts, amounts far below the funding, so always SETTLED;
 * - insufficient: debits an unfunded "poor" account (limit 0; nothing ever credits it);
 * - unknown: credits an account that does not exist;
 * - duplicate: an exact copy of an earlier valid message (same key, later offset);
 * - conflict: an earlier valid id with another amount (same key, later offset);
 * - malformed / schema / tooLarge: rejected by validation (dead letters).
 */

export const KINDS = [
  'valid',
  'insufficientFunds',
  'unknownAccount',
  'duplicate',
  'conflict',
  'malformedJson',
  'schemaViolation',
  'tooLarge',
] as const;
export type Kind = (typeof KINDS)[number];

export type Mix = Partial<Record<Exclude<Kind, 'valid'>, number>>;

export interface LoadMessage {
  key: string;
  value: string;
  kind: Kind | 'funding';
  /** Transaction id when the message has one. */
  id?: string;
}

export interface PlanOptions {
  runId: string;
  accounts: number;
  currency?: string;
  /** Shares (0..1) of each non-valid kind; the rest is valid. */
  mix?: Mix;
  seed?: number;
  /** Funding per account, minor units (decimal string). */
  funding?: string;
  /** Who the valid transfers touch; uniform over the accounts when absent. */
  skew?: Skew;
}

/**
 * A skewed traffic mix for the valid transfers (benchmark sweeps): hot merchants receiving a
 * large share of the credits, and one hot payer sending a share of all transfers.
 */
export interface Skew {
  /** Hot merchants: `accountShare` of the accounts (at least one) receive `creditShare` of the credits. */
  hotCredits?: { accountShare: number; creditShare: number };
  /** One debit account (the first) sends `share` of the transfers. */
  hotDebitShare?: number;
}

export interface ExpectedOutcomes {
  settled: number;
  rejected: { INSUFFICIENT_FUNDS: number; UNKNOWN_ACCOUNT: number };
  deadLettered: {
    MALFORMED_JSON: number;
    SCHEMA_VIOLATION: number;
    TOO_LARGE: number;
    DUPLICATE_CONFLICT: number;
  };
  duplicates: number;
  /** Messages in total (each gets exactly one of the outcomes above). */
  total: number;
}

/** The outcomes with `total` filled in: every message has exactly one outcome. */
export function withTotal(outcomes: Omit<ExpectedOutcomes, 'total'>): ExpectedOutcomes {
  const { settled, rejected, deadLettered, duplicates } = outcomes;
  const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
  return { ...outcomes, total: settled + sum(rejected) + sum(deadLettered) + duplicates };
}

/** Funding per account when the plan names none, minor units. */
export const DEFAULT_FUNDING = '1000000000000';

export const DEFAULT_MIX: Required<Mix> = {
  insufficientFunds: 0.02,
  unknownAccount: 0.01,
  duplicate: 0.01,
  conflict: 0.005,
  malformedJson: 0.005,
  schemaViolation: 0.005,
  tooLarge: 0.002,
};

/** Only valid, fundable transfers: the benchmark's load. */
export const VALID_ONLY: Required<Mix> = {
  insufficientFunds: 0,
  unknownAccount: 0,
  duplicate: 0,
  conflict: 0,
  malformedJson: 0,
  schemaViolation: 0,
  tooLarge: 0,
};

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function accountIds(runId: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${runId}-a${i}`);
}
export const bankId = (runId: string) => `${runId}-bank`;
export const poorIds = (runId: string, n: number) =>
  Array.from({ length: Math.max(1, Math.ceil(n / 10)) }, (_, i) => `${runId}-poor${i}`);

function hotMerchants(accounts: readonly string[], skew: Skew | undefined): string[] {
  const hot = skew?.hotCredits;
  if (!hot) return [];
  for (const [name, v] of Object.entries(hot))
    if (!(v >= 0 && v <= 1)) throw new Error(`skew.hotCredits.${name} must be between 0 and 1`);
  const n = Math.max(1, Math.round(accounts.length * hot.accountShare));
  return accounts.slice(accounts.length - n);
}

/** Builds messages one at a time and counts what it built. */
export class LoadGenerator {
  readonly sent: Record<Kind | 'funding', number> = {
    funding: 0,
    valid: 0,
    insufficientFunds: 0,
    unknownAccount: 0,
    duplicate: 0,
    conflict: 0,
    malformedJson: 0,
    schemaViolation: 0,
    tooLarge: 0,
  };
  readonly accounts: string[];
  readonly poor: string[];
  readonly bank: string;
  readonly currency: string;
  private readonly rnd: () => number;
  /** The hot merchants (the last accounts, so they never include the hot payer when n > 1). */
  private readonly hotCredit: string[];
  private readonly cumulative: [Kind, number][];
  private seq = 0;
  /** Recent valid messages, the originals of duplicates and conflicts. */
  private readonly recent: { id: string; key: string; body: Record<string, string> }[] = [];
  private readonly occurredAt = new Date().toISOString();

  constructor(private readonly opts: PlanOptions) {
    this.accounts = accountIds(opts.runId, Math.max(2, opts.accounts));
    this.poor = poorIds(opts.runId, opts.accounts);
    this.bank = bankId(opts.runId);
    this.currency = opts.currency ?? 'EUR';
    this.rnd = mulberry32(opts.seed ?? 42);
    this.hotCredit = hotMerchants(this.accounts, opts.skew);
    const mix = { ...DEFAULT_MIX, ...(opts.mix ?? {}) };
    let acc = 0;
    this.cumulative = [];
    for (const [k, share] of Object.entries(mix) as [Kind, number][]) {
      acc += share;
      this.cumulative.push([k, acc]);
    }
    if (acc > 1) throw new Error('the shares of the mix add up to more than 1');
    const hotDebit = opts.skew?.hotDebitShare;
    if (hotDebit !== undefined && !(hotDebit >= 0 && hotDebit <= 1))
      throw new Error('skew.hotDebitShare must be between 0 and 1');
  }

  /** One funding message per account, from the bank (settles before the load starts). */
  fundingMessages(): LoadMessage[] {
    const amount = this.opts.funding ?? DEFAULT_FUNDING;
    return this.accounts.map((acct, i) => {
      const id = `${this.opts.runId}-fund${i}`;
      this.sent.funding++;
      return {
        key: this.bank,
        kind: 'funding',
        id,
        value: this.json({ id, debitAccount: this.bank, creditAccount: acct, amount }),
      };
    });
  }

  next(): LoadMessage {
    const r = this.rnd();
    let kind: Kind = 'valid';
    for (const [k, upto] of this.cumulative) {
      if (r < upto) {
        kind = k;
        break;
      }
    }
    if ((kind === 'duplicate' || kind === 'conflict') && this.recent.length === 0) kind = 'valid';
    this.sent[kind]++;
    return this.build(kind);
  }

  expected(): ExpectedOutcomes {
    const s = this.sent;
    return {
      settled: s.funding + s.valid,
      rejected: { INSUFFICIENT_FUNDS: s.insufficientFunds, UNKNOWN_ACCOUNT: s.unknownAccount },
      deadLettered: {
        MALFORMED_JSON: s.malformedJson,
        SCHEMA_VIOLATION: s.schemaViolation,
        TOO_LARGE: s.tooLarge,
        DUPLICATE_CONFLICT: s.conflict,
      },
      duplicates: s.duplicate,
      total: Object.values(s).reduce((a, b) => a + b, 0),
    };
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)];
  }

  private json(body: Record<string, string>): string {
    return JSON.stringify({ currency: this.currency, occurredAt: this.occurredAt, ...body });
  }

  private transfer(debit: string, credit: string): { id: string; body: Record<string, string> } {
    const id = `${this.opts.runId}-t${this.seq++}`;
    const amount = String(1 + Math.floor(this.rnd() * 10_000));
    return { id, body: { id, debitAccount: debit, creditAccount: credit, amount } };
  }

  private otherAccount(than: string): string {
    for (;;) {
      const a = this.pick(this.accounts);
      if (a !== than) return a;
    }
  }

  // Without a skew no extra random draw is made: the unskewed sequence stays as it was.
  private validDebit(): string {
    const hot = this.opts.skew?.hotDebitShare;
    if (hot !== undefined && hot > 0 && this.rnd() < hot) return this.accounts[0];
    return this.pick(this.accounts);
  }

  private validCredit(debit: string): string {
    const hot = this.opts.skew?.hotCredits;
    if (hot !== undefined && this.hotCredit.length > 0 && this.rnd() < hot.creditShare) {
      for (;;) {
        const a = this.pick(this.hotCredit);
        if (a !== debit || this.accounts.length < 2) return a;
        if (this.hotCredit.length === 1) break;
      }
    }
    return this.otherAccount(debit);
  }

  private build(kind: Kind): LoadMessage {
    switch (kind) {
      case 'valid': {
        const debit = this.validDebit();
        const t = this.transfer(debit, this.validCredit(debit));
        this.recent.push({ id: t.id, key: debit, body: t.body });
        if (this.recent.length > 1000) this.recent.shift();
        return { key: debit, kind, id: t.id, value: this.json(t.body) };
      }
      case 'insufficientFunds': {
        const debit = this.pick(this.poor);
        const t = this.transfer(debit, this.pick(this.accounts));
        return { key: debit, kind, id: t.id, value: this.json(t.body) };
      }
      case 'unknownAccount': {
        const debit = this.pick(this.accounts);
        const t = this.transfer(debit, `${this.opts.runId}-ghost${this.seq}`);
        return { key: debit, kind, id: t.id, value: this.json(t.body) };
      }
      case 'duplicate': {
        const o = this.pick(this.recent);
        return { key: o.key, kind, id: o.id, value: this.json(o.body) };
      }
      case 'conflict': {
        const o = this.pick(this.recent);
        const body = { ...o.body, amount: (BigInt(o.body.amount) + 1n).toString() };
        return { key: o.key, kind, id: o.id, value: this.json(body) };
      }
      case 'malformedJson': {
        const debit = this.pick(this.accounts);
        return { key: debit, kind, value: `{"id":"${this.opts.runId}-m${this.seq++}","amount":` };
      }
      case 'schemaViolation': {
        const debit = this.pick(this.accounts);
        const t = this.transfer(debit, this.otherAccount(debit));
        const body = { ...t.body, amount: `0${t.body.amount}` };
        return { key: debit, kind, value: this.json(body) };
      }
      case 'tooLarge': {
        const debit = this.pick(this.accounts);
        const t = this.transfer(debit, this.otherAccount(debit));
        return { key: debit, kind, value: this.json({ ...t.body, padding: 'x'.repeat(5000) }) };
      }
    }
  }
}

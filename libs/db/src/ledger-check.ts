import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './client';
import { partitionCursors } from './schema';
import { jsonParam } from './sql-fragments';

/** The topics settlement keeps a cursor for: those whose committed offsets the check reads. */
export async function cursorTopics(db: Pick<Database, 'selectDistinct'>): Promise<string[]> {
  const rows = await db.selectDistinct({ topic: partitionCursors.topic }).from(partitionCursors);
  return rows.map((r) => r.topic);
}

/**
 * The operator's reconciliation of the whole ledger (`npm run ledger:check`). Every check is
 * one set-based statement returning only the breaching rows (at most `sampleLimit` of them,
 * with the full count), so millions of rows cost a few scans and no row travels to Node
 * unless something is wrong.
 */
export interface LedgerCheckOptions {
  /** A PENDING batch older than this was recorded but never settled: an orphan. */
  orphanAfterMs: number;
  /** An outbox row unpublished for longer than this was never delivered. */
  outboxStaleAfterMs: number;
  /** Breaching rows listed per check (the count is always complete). */
  sampleLimit?: number;
  /**
   * The consumer group's committed offsets by `topic/partition`; without them the cursor
   * check is not run (reported as such, never as passed).
   */
  committedOffsets?: ReadonlyMap<string, bigint>;
}

export interface LedgerCheckResult {
  name: string;
  /** What holds when the check passes, in the operator's words. */
  rule: string;
  status: 'PASSED' | 'BREACHED' | 'NOT_RUN';
  /** Breaching rows (the full number, not just the samples). */
  breaches: number;
  /** One line per breaching row, at most sampleLimit. */
  samples: string[];
  /** Context that is not a breach (e.g. partitions still in flight). */
  notes: string[];
  ms: number;
}

type Finding = {
  /** Total breaching rows, repeated on each sampled row by count(*) over (). */
  total: string;
  detail: string;
};

interface LedgerCheck {
  name: string;
  rule: string;
  /** A query selecting `detail` (text) for each breach; wrapped with the count and limit. */
  breaches: (options: LedgerCheckOptions) => SQL;
  /**
   * A cheaper whole-table test selecting one boolean `matches`; when it holds, the check
   * passes without running `breaches` (which then only lists what differs).
   */
  fingerprint?: () => SQL;
}

const intervalMs = (ms: number) => sql`(${String(ms)} || ' milliseconds')::interval`;

export const LEDGER_CHECKS: readonly LedgerCheck[] = [
  {
    name: 'conservation',
    rule: 'postings of each currency sum to zero',
    breaches: () => sql`
      select currency || ' sums to ' || sum(amount)::text || ' over ' || count(*)::text || ' postings' as detail
      from postings group by currency having sum(amount) <> 0`,
  },
  {
    name: 'two-postings',
    rule: 'a settled transaction has exactly its debit and its credit posting; a rejected one has none',
    // The exact listing: a full join grouped by transaction, where a missing, extra,
    // mis-signed, mis-routed or orphaned posting shows up as a wrong tally. It costs a hash
    // of every row of both tables, so it runs only when the fingerprint differs.
    breaches: () => sql`
      select coalesce(t.id, p.transaction_id) || ' (' || coalesce(t.status, 'no transaction row') || '): '
        || count(p.id)::text || ' postings, '
        || count(*) filter (where p.side = 'DEBIT' and p.account_id = t.debit_account
             and p.amount = -t.amount and p.currency = t.currency)::text || ' matching debit, '
        || count(*) filter (where p.side = 'CREDIT' and p.account_id = t.credit_account
             and p.amount = t.amount and p.currency = t.currency)::text || ' matching credit' as detail
      from transactions t full join postings p on p.transaction_id = t.id
      group by t.id, p.transaction_id, t.status
      having not (
        (t.status = 'SETTLED' and count(p.id) = 2
          and count(*) filter (where p.side = 'DEBIT' and p.account_id = t.debit_account
                and p.amount = -t.amount and p.currency = t.currency) = 1
          and count(*) filter (where p.side = 'CREDIT' and p.account_id = t.credit_account
                and p.amount = t.amount and p.currency = t.currency) = 1)
        or (t.status = 'REJECTED' and count(p.id) = 0))`,
    // The multiset of postings the settled transactions imply, against the one the table
    // holds, each summed as 64-bit row hashes: one sequential scan per table and no join.
    // Any missing, extra or altered posting changes a sum (a miss needs a 2^-64 collision).
    fingerprint: () => sql`
      select
        (select coalesce(sum(
            hashtextextended(id || '|DEBIT|' || debit_account || '|' || (-amount)::text || '|' || currency, 0)::numeric
            + hashtextextended(id || '|CREDIT|' || credit_account || '|' || amount::text || '|' || currency, 0)::numeric), 0)
          from transactions where status = 'SETTLED')
        = (select coalesce(sum(
            hashtextextended(transaction_id || '|' || side || '|' || account_id || '|' || amount::text || '|' || currency, 0)::numeric), 0)
          from postings) as matches`,
  },
  {
    name: 'balances',
    rule: 'each balance equals the sum of its postings',
    breaches: () => sql`
      select coalesce(a.id, p.account_id) || ': balance ' || coalesce(a.balance::text, 'no account row')
        || ', postings sum to ' || coalesce(p.total, 0)::text as detail
      from accounts a
      full join (select account_id, sum(amount) as total from postings group by account_id) p
        on p.account_id = a.id
      where a.id is null or a.balance <> coalesce(p.total, 0)`,
  },
  {
    name: 'limits',
    rule: 'no balance is below minus its overdraft limit',
    breaches: () => sql`
      select id || ': balance ' || balance::text || ' below -' || overdraft_limit::text as detail
      from accounts where balance < -overdraft_limit`,
  },
  {
    name: 'batch-counts',
    rule: "a settled batch's settled and rejected counts equal its transactions in the ledger",
    breaches: () => sql`
      select coalesce(b.id, t.batch_id) || ': batch says ' || coalesce(b.settled::text || ' settled/' || b.rejected::text
          || ' rejected', 'nothing (no settled batch row)') || ', ledger has '
        || coalesce(t.settled, 0)::text || ' settled/' || coalesce(t.rejected, 0)::text || ' rejected' as detail
      from (select id, settled, rejected from batches where status = 'SETTLED') b
      full join (
        select batch_id, count(*) filter (where status = 'SETTLED') as settled,
          count(*) filter (where status = 'REJECTED') as rejected
        from transactions group by batch_id) t on t.batch_id = b.id
      where b.id is null
        or b.settled <> coalesce(t.settled, 0) or b.rejected <> coalesce(t.rejected, 0)`,
  },
  {
    name: 'cursors',
    rule: "each partition cursor equals the consumer group's committed offset",
    breaches: (o) => {
      const committed = [...(o.committedOffsets ?? new Map<string, bigint>())].map(([tp, off]) => {
        const at = tp.lastIndexOf('/');
        return {
          topic: tp.slice(0, at),
          partition: Number(tp.slice(at + 1)),
          committed: String(off),
        };
      });
      // A gap covered by a young PENDING batch is work in flight, not a breach (noted instead).
      return sql`
        select c.topic || '/' || c.partition::text || ': cursor ' || c.next_offset::text || ', committed '
          || coalesce(k.committed::text, 'nothing') as detail
        from partition_cursors c
        left join json_to_recordset(${jsonParam(committed)}::json)
          as k(topic text, partition int, committed bigint)
          on k.topic = c.topic and k.partition = c.partition
        where c.next_offset is distinct from k.committed
          and not exists (
            select 1 from batches b
            where b.topic = c.topic and b.partition = c.partition and b.status = 'PENDING'
              and b.created_at >= now() - ${intervalMs(o.orphanAfterMs)})`;
    },
  },
  {
    name: 'outbox',
    rule: 'no outbox row waits unpublished past the stale limit',
    breaches: (o) => sql`
      select batch_id || ' -> ' || topic || ': ' || message_count::text || ' messages unpublished since '
        || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as detail
      from outbox
      where published_at is null and created_at < now() - ${intervalMs(o.outboxStaleAfterMs)}`,
  },
  {
    name: 'orphans',
    rule: 'no batch stays PENDING past the orphan limit, and only PENDING batches hold staged messages',
    breaches: (o) => sql`
      select id || ' (' || status || ', ' || topic || '/' || partition::text || ' ['
        || from_offset::text || ', ' || next_offset::text || ')): '
        || case when status = 'PENDING' then 'pending since '
             || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
           else 'still holds staged messages' end as detail
      from batches
      where (status = 'PENDING' and created_at < now() - ${intervalMs(o.orphanAfterMs)})
        or (status <> 'PENDING' and staged_messages is not null)`,
  },
];

/** Runs every check (one at a time: each is a scan, not worth a second connection). */
export async function checkLedger(
  db: Pick<Database, 'execute'>,
  options: LedgerCheckOptions,
): Promise<LedgerCheckResult[]> {
  const results: LedgerCheckResult[] = [];
  for (const check of LEDGER_CHECKS) {
    const started = Date.now();
    if (check.name === 'cursors' && !options.committedOffsets) {
      results.push({
        name: check.name,
        rule: check.rule,
        status: 'NOT_RUN',
        breaches: 0,
        samples: [],
        notes: ['committed offsets unavailable'],
        ms: 0,
      });
      continue;
    }
    if (check.fingerprint) {
      const [{ matches }] = await db.execute<{ matches: boolean }>(check.fingerprint());
      if (matches) {
        results.push(passed(check, Date.now() - started));
        continue;
      }
    }
    const rows = await db.execute<Finding>(sql`
      select count(*) over ()::text as total, f.detail
      from (${check.breaches(options)}) f
      order by f.detail limit ${options.sampleLimit ?? 10}`);
    const breaches = rows.length ? Number(rows[0].total) : 0;
    results.push({
      name: check.name,
      rule: check.rule,
      status: breaches > 0 ? 'BREACHED' : 'PASSED',
      breaches,
      samples: rows.map((r) => r.detail),
      notes: check.name === 'cursors' ? await cursorsInFlight(db, options) : [],
      ms: Date.now() - started,
    });
  }
  return results;
}

const passed = (check: LedgerCheck, ms: number): LedgerCheckResult => ({
  name: check.name,
  rule: check.rule,
  status: 'PASSED',
  breaches: 0,
  samples: [],
  notes: [],
  ms,
});

/** Partitions whose cursor trails the committed offset because a young batch is in flight. */
async function cursorsInFlight(
  db: Pick<Database, 'execute'>,
  options: LedgerCheckOptions,
): Promise<string[]> {
  const rows = await db.execute<{ detail: string }>(sql`
    select topic || '/' || partition::text || ': ' || count(*)::text || ' batch(es) in flight' as detail
    from batches
    where status = 'PENDING' and created_at >= now() - ${intervalMs(options.orphanAfterMs)}
    group by topic, partition order by 1`);
  return rows.map((r) => r.detail);
}

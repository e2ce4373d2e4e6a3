import { sql, type AnyColumn, type SQL } from 'drizzle-orm';

const NEEDS_ESCAPE = /[\\"]/;

/**
 * A JS array bound as one PostgreSQL array parameter in array-literal text form, cast by the
 * query (`::text[]`, `::bigint[]`...). Elements are quoted, so any text round-trips.
 */
export function pgArray(values: readonly (string | number | null)[]) {
  // Ids and amounts never need escaping: quote them all in one join instead of one string
  // per element (~17,000 elements per settled batch).
  if (values.every((v) => v !== null && !NEEDS_ESCAPE.test(String(v)))) {
    return sql.param(values.length === 0 ? '{}' : `{"${values.join('","')}"}`);
  }
  const literal = values
    .map((v) => (v === null ? 'NULL' : `"${String(v).replace(/[\\"]/g, (c) => `\\${c}`)}"`))
    .join(',');
  return sql.param(`{${literal}}`);
}

/** Rows (or any value) bound as one JSON text parameter; cast with `::json` in the query. */
export const jsonParam = (value: unknown) => sql.param(JSON.stringify(value));

/**
 * The database clock, for `updated_at`-style columns: one clock for every writer, whatever
 * the skew between the hosts that run the apps.
 */
export const dbNow = (): SQL<Date> => sql<Date>`now()`;

/** The database clock for a column set once: a retry keeps the first time (`finished_at`...). */
export const dbNowOnce = (column: AnyColumn): SQL<Date> => sql<Date>`coalesce(${column}, now())`;

/**
 * A timestamp as RFC 3339 UTC text, with microseconds unless `ms`, as the admin API shows it:
 * a JS Date would cut it to milliseconds, and a keyset cursor built from that would skip rows.
 */
export const isoUtc = <C extends AnyColumn>(column: C, precision: 'us' | 'ms' = 'us') =>
  sql<
    C['_']['notNull'] extends true ? string : string | null
  >`to_char(${column} at time zone 'UTC', ${sql.raw(
    precision === 'us' ? `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'` : `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`,
  )})`;

/**
 * `column = any($1)` with the values bound as ONE array parameter: an IN list would bind
 * one parameter per value, and PostgreSQL refuses more than 65535 in a statement.
 */
export const anyOf = (column: AnyColumn, values: readonly string[]): SQL =>
  sql`${column} = any(${pgArray(values)}::text[])`;

/**
 * A transaction-level advisory lock on `name`, held to the end of the transaction: serialises
 * a check-then-insert where there is no row to lock yet. Raw SQL: a function call, no table.
 */
export async function advisoryXactLock(
  tx: { execute: (query: SQL) => PromiseLike<unknown> },
  name: string,
): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${name}))`);
}

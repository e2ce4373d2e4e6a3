import { eq } from 'drizzle-orm';
import type { Database } from './client';
import type { LedgerTx } from './ledger-store';
import { accounts } from './schema';

/** Accounts as the admin API opens and reads them. */
export type Account = typeof accounts.$inferSelect;
export type NewAccount = Pick<typeof accounts.$inferInsert, 'id' | 'currency' | 'overdraftLimit'>;

/**
 * Opens the account with balance 0 unless its id exists: the new row, or undefined when an
 * account of that id was there already (whatever its settings; the caller compares them).
 */
export async function insertAccountIfAbsent(
  tx: Pick<LedgerTx, 'insert'>,
  account: NewAccount,
): Promise<Account | undefined> {
  const rows = await tx
    .insert(accounts)
    .values(account)
    .onConflictDoNothing({ target: accounts.id })
    .returning();
  return rows[0];
}

/** The account as it stands, without a lock (the admin's role may not lock accounts). */
export async function findAccount(
  db: Pick<Database, 'select'>,
  id: string,
): Promise<Account | undefined> {
  const rows = await db.select().from(accounts).where(eq(accounts.id, id)).limit(1);
  return rows[0];
}

/** Opens these accounts with balance 0, leaving any id that exists as it is (repeatable). */
export async function insertAccountsIfAbsent(
  db: Pick<Database, 'insert'>,
  rows: readonly NewAccount[],
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insert(accounts)
    .values([...rows])
    .onConflictDoNothing({ target: accounts.id });
}

import { sql } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from './support/database';

const APP_ROLES = ['settlement_ingest', 'settlement_worker', 'settlement_admin'] as const;

/**
 * The migrations' least-privilege roles on the real PostgreSQL: each statement runs in a
 * transaction under `SET LOCAL ROLE`, as an app connecting with that role would.
 */
describe('database roles: least privilege per app', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('db-roles');
    await db.db.execute(
      sql`insert into accounts (id, currency, balance, overdraft_limit) values ('acc-a', 'EUR', 0, 0), ('acc-b', 'EUR', 0, 0)`,
    );
  });

  afterAll(async () => {
    await db?.drop();
  });

  /** The SQLSTATE the statement fails with as `role`, or 'ok'. */
  async function as(role: string, statement: string): Promise<string> {
    try {
      await db.client.begin(async (tx) => {
        await tx.unsafe(`set local role ${role}`);
        await tx.unsafe(statement);
        throw new Error('rollback');
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      return code ?? 'ok';
    }
    return 'ok';
  }

  it('the admin role cannot write postings or transactions, change balances, or drop a trigger', async () => {
    const outcomes = {
      insertPosting: await as(
        'settlement_admin',
        `insert into postings (transaction_id, account_id, amount, currency) values ('t', 'acc-a', 1, 'EUR')`,
      ),
      insertTransaction: await as('settlement_admin', `insert into transactions (id) values ('t')`),
      updateBalance: await as('settlement_admin', `update accounts set balance = 100`),
      dropTrigger: await as(
        'settlement_admin',
        'drop trigger postings_no_update_delete on postings',
      ),
      truncate: await as('settlement_admin', 'truncate postings'),
    };
    process.stdout.write(`settlement_admin: ${JSON.stringify(outcomes)}\n`);
    // 42501 insufficient_privilege (grants), 42501 must be owner (drop trigger).
    for (const code of Object.values(outcomes)) expect(code).toBe('42501');
  });

  it('no app role may drop or disable the append-only triggers, or truncate the ledger', async () => {
    for (const role of APP_ROLES) {
      expect(await as(role, 'drop trigger postings_no_update_delete on postings')).toBe('42501');
      expect(await as(role, 'alter table postings disable trigger all')).toBe('42501');
      expect(await as(role, 'truncate postings')).toBe('42501');
    }
  });

  it('the ingest role cannot write the ledger; the admin role opens accounts and audits', async () => {
    expect(await as('settlement_ingest', `update accounts set balance = 1`)).toBe('42501');
    expect(await as('settlement_ingest', `insert into transactions (id) values ('t')`)).toBe(
      '42501',
    );
    expect(
      await as(
        'settlement_admin',
        `insert into accounts (id, currency, balance, overdraft_limit) values ('acc-c', 'EUR', 0, 0)`,
      ),
    ).toBe('ok');
  });

  it('every table is readable by every app role (a new table without its GRANT fails here)', async () => {
    const missing = await db.db.execute<{ role: string; table: string }>(sql`
      select r.role, t.tablename as table
      from pg_tables t cross join unnest(${sql.raw(`array['${APP_ROLES.join("','")}']`)}) as r(role)
      where t.schemaname = 'public' and t.tablename not like '\\_\\_%'
        and not has_table_privilege(r.role, format('public.%I', t.tablename), 'SELECT')`);
    expect([...missing]).toEqual([]);
  });
});

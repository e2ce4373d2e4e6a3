import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { APP_LOGINS, scramVerifier } from '@settlement/db';
import { openPipeline, waitFor, type Pipeline, type RunningApp } from './support/apps';
import { openAccounts, txValue } from './support/fixtures';

const TOKEN = 'app-logins-operator-token-0123456789';

/**
 * Least privilege in practice: the built apps, started as deployed, connect with their own
 * login roles (never the owner), still settle, dead-letter and administer, and their very
 * connection strings are refused everything outside their grants (SQLSTATE 42501).
 */
describe('each app connects with its own least-privilege login role', () => {
  let pipeline: Pipeline;
  let apps: Record<'ingest' | 'worker' | 'admin', RunningApp>;

  beforeAll(async () => {
    pipeline = await openPipeline('app-logins', {
      partitions: 1,
      extra: { ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'warn' },
    });
    await pipeline.start('ingest');
    await pipeline.start('admin');
    const byName = (name: string) => pipeline.apps.find((a) => a.name === name)!;
    apps = { ingest: byName('ingest'), worker: byName('worker'), admin: byName('admin') };
  }, 180_000);

  afterAll(() => pipeline?.close());

  /** The SQLSTATE `statement` fails with on the app's own connection string, or 'ok'. */
  async function asApp(app: RunningApp, statement: string): Promise<string> {
    const client = postgres(app.databaseUrl!, { max: 1, onnotice: () => undefined });
    try {
      await client.begin(async (tx) => {
        await tx.unsafe(statement);
        throw new Error('rollback');
      });
      return 'ok';
    } catch (err) {
      return (err as { code?: string }).code ?? 'ok';
    } finally {
      await client.end({ timeout: 5 });
    }
  }

  it('runs every app as its login role: their sessions are not the owner', async () => {
    const expected = Object.fromEntries(
      Object.entries(APP_LOGINS).map(([app, login]) => [app, login.user]),
    );
    const sessions = await waitFor('a session of each app', async () => {
      const rows = await pipeline.db.db.execute<{ app: string; usename: string }>(sql`
        select distinct application_name as app, usename from pg_stat_activity
        where datname = current_database() and application_name in ('ingest', 'worker', 'admin')`);
      const byApp = Object.fromEntries([...rows].map((r) => [r.app, r.usename]));
      return Object.keys(byApp).length === 3 ? byApp : undefined;
    });
    process.stdout.write(`sessions: ${JSON.stringify(sessions)}\n`);
    expect(sessions).toEqual(expected);
    for (const app of Object.values(apps)) expect(app.databaseUrl).not.toMatch(/\/\/postgres@/);
  });

  it('still settles, dead-letters and opens accounts with only those rights', async () => {
    await openAccounts(pipeline.db.db, [{ id: 'al-bank', overdraftLimit: 1_000_000n }]);
    const res = await fetch(`http://127.0.0.1:${apps.admin.port}/admin/accounts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'al-shop', currency: 'EUR' }),
    });
    expect(res.status).toBe(201);
    await pipeline.producer.send({
      topic: pipeline.topics.transactions,
      messages: [
        {
          key: 'al-bank',
          value: txValue({ id: 'al-tx-1', debit: 'al-bank', credit: 'al-shop', amount: '1250' }),
        },
        { key: 'al-bank', value: '{"id": "al-tx-2", not json' },
      ],
    });
    const outcome = await waitFor('the settlement and the dead letter', async () => {
      const [row] = await pipeline.db.db.execute<{ status: string; dead: number; balance: string }>(
        sql`select (select status from transactions where id = 'al-tx-1') as status,
                   (select count(*)::int from dead_letters) as dead,
                   (select balance::text from accounts where id = 'al-shop') as balance`,
      );
      return row.status && row.dead > 0 ? row : undefined;
    });
    expect(outcome).toEqual({ status: 'SETTLED', dead: 1, balance: '1250' });
  }, 120_000);

  it('refuses the admin connection the ledger, its own audit trail and the triggers', async () => {
    const outcomes = {
      insertPosting: await asApp(
        apps.admin,
        `insert into postings (transaction_id, account_id, amount, currency) values ('t', 'al-shop', 1, 'EUR')`,
      ),
      insertTransaction: await asApp(apps.admin, `insert into transactions (id) values ('t')`),
      updateBalance: await asApp(apps.admin, `update accounts set balance = balance + 100`),
      dropTrigger: await asApp(apps.admin, 'drop trigger postings_no_update_delete on postings'),
      disableTriggers: await asApp(apps.admin, 'alter table postings disable trigger all'),
      truncatePostings: await asApp(apps.admin, 'truncate postings'),
      eraseAudit: await asApp(apps.admin, 'delete from audit_log'),
    };
    process.stdout.write(`admin connection: ${JSON.stringify(outcomes)}\n`);
    for (const code of Object.values(outcomes)) expect(code).toBe('42501');
  });

  it('refuses the ingest connection the ledger and the balances', async () => {
    const outcomes = {
      updateBalance: await asApp(apps.ingest, `update accounts set balance = 0`),
      insertPosting: await asApp(
        apps.ingest,
        `insert into postings (transaction_id, account_id, amount, currency) values ('t', 'al-shop', 1, 'EUR')`,
      ),
      insertTransaction: await asApp(apps.ingest, `insert into transactions (id) values ('t')`),
      openAccount: await asApp(
        apps.ingest,
        `insert into accounts (id, currency, balance, overdraft_limit) values ('x', 'EUR', 0, 0)`,
      ),
      dropTrigger: await asApp(apps.ingest, 'drop trigger postings_no_update_delete on postings'),
    };
    process.stdout.write(`ingest connection: ${JSON.stringify(outcomes)}\n`);
    for (const code of Object.values(outcomes)) expect(code).toBe('42501');
  });

  it('sets passwords as the SCRAM verifier PostgreSQL itself derives (the password never sent)', async () => {
    const role = `it_scram_${Date.now().toString(36)}`;
    const password = 'Correct-Horse-Battery-9!';
    const client = pipeline.db.client;
    await client.begin(async (tx) => {
      await tx.unsafe(`set local password_encryption = 'scram-sha-256'`);
      await tx.unsafe(`create role ${role} nologin password '${password}'`);
    });
    try {
      const [{ stored }] = await client<{ stored: string }[]>`
        select rolpassword as stored from pg_authid where rolname = ${role}`;
      const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored)!;
      expect(scramVerifier(password, Buffer.from(salt, 'base64'), Number(iterations))).toBe(stored);
    } finally {
      await client.unsafe(`drop role ${role}`);
    }
  });

  it('refuses the worker connection rewriting history, the triggers and the audit', async () => {
    const outcomes = {
      deletePostings: await asApp(apps.worker, 'delete from postings'),
      updatePostings: await asApp(apps.worker, 'update postings set amount = 0'),
      dropTrigger: await asApp(apps.worker, 'drop trigger postings_no_update_delete on postings'),
      disableTriggers: await asApp(apps.worker, 'alter table postings disable trigger all'),
      truncatePostings: await asApp(apps.worker, 'truncate postings'),
      writeAudit: await asApp(
        apps.worker,
        `insert into audit_log (actor, role, action, outcome, status_code) values ('x', 'operator', 'x', 'SUCCESS', 200)`,
      ),
    };
    process.stdout.write(`worker connection: ${JSON.stringify(outcomes)}\n`);
    for (const code of Object.values(outcomes)) expect(code).toBe('42501');
  });
});

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import postgres from 'postgres';
import type { Admin } from 'kafkajs';
import { settleBatch } from '@settlement/activities';
import { recordPendingBatch } from '@settlement/db';
import { BASE_DATABASE_URL, createTestDatabase } from './support/database';
import { batch, openAccounts, startPartition } from './support/fixtures';
import { KAFKA_BROKERS, createTopics, testKafka } from './support/kafka';

const ROOT = path.resolve(__dirname, '../..');

/**
 * `npm run ledger:check` (the built command) against a real ledger: a clean one passes, and
 * each breach, injected as a superuser into a throwaway copy of it, is reported by name and
 * makes the command exit non-zero.
 */
describe('ledger:check', () => {
  let admin: Admin;
  let topic: string;
  const groupId = `ledger-check-${randomBytes(4).toString('hex')}`;
  let clean: string;
  const copies: string[] = [];
  const server = postgres(BASE_DATABASE_URL, { max: 1, onnotice: () => undefined });
  const urlOf = (name: string) => BASE_DATABASE_URL.replace(/\/[^/?]+(\?|$)/, `/${name}$1`);

  beforeAll(async () => {
    admin = testKafka('ledger-check').admin();
    await admin.connect();
    topic = (await createTopics(admin, 'ledger-check', 2)).transactions;
    const db = await createTestDatabase('ledger_check');
    clean = db.url.slice(db.url.lastIndexOf('/') + 1);
    const deps = { db: db.db, topics: { outcomes: 'o', deadLetters: 'd' } };
    await openAccounts(db.db, [
      { id: 'bank', overdraftLimit: 1000n },
      { id: 'bob' },
      { id: 'usd-bank', currency: 'USD', overdraftLimit: 500n },
      { id: 'usd-amy', currency: 'USD' },
    ]);
    await startPartition(db.db, topic, 0);
    await startPartition(db.db, topic, 1);
    await settleBatch(
      deps,
      batch(topic, 0, 0, [
        { id: 'tx1', debit: 'bank', credit: 'bob', amount: '10' },
        { id: 'tx2', debit: 'bank', credit: 'ghost', amount: '1' }, // rejected: unknown account
        { id: 'tx3', debit: 'bank', credit: 'bob', amount: '5000' }, // rejected: insufficient funds
      ]),
      'w0',
    );
    await settleBatch(
      deps,
      batch(topic, 1, 0, [
        { id: 'tx4', debit: 'usd-bank', credit: 'usd-amy', amount: '250', currency: 'USD' },
      ]),
      'w1',
    );
    // Published outcomes, and one batch in flight (recorded a moment ago, not an orphan).
    await db.client.unsafe(`update outbox set published_at = now()`);
    const inFlight = batch(topic, 1, 1, [
      { id: 'tx5', debit: 'usd-bank', credit: 'usd-amy', amount: '1' },
    ]);
    await recordPendingBatch(db.db, inFlight, 'w2', { messageCount: 1, staged: true });
    await admin.setOffsets({
      groupId,
      topic,
      partitions: [
        { partition: 0, offset: '3' },
        { partition: 1, offset: '1' },
      ],
    });
    await db.close();
  });

  afterAll(async () => {
    for (const name of [...copies, clean])
      await server.unsafe(`drop database if exists "${name}" with (force)`);
    await server.end();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  });

  /** A copy of the clean ledger with `breach` applied as a superuser (triggers and checks off). */
  async function copyWith(breach: string[]): Promise<string> {
    const name = `${clean}_${copies.length}`;
    copies.push(name);
    await server.unsafe(`create database "${name}" template "${clean}"`);
    const su = postgres(urlOf(name), { max: 1, onnotice: () => undefined });
    try {
      await su.begin(async (tx) => {
        await tx.unsafe(`set local session_replication_role = replica`);
        for (const statement of breach) await tx.unsafe(statement);
      });
    } finally {
      await su.end();
    }
    return name;
  }

  function ledgerCheck(database: string): Promise<{ code: number | null; stdout: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'dist/scripts/ledger-check.js')], {
        env: {
          ...process.env,
          DATABASE_URL: urlOf(database),
          KAFKA_BROKERS: KAFKA_BROKERS.join(','),
          KAFKA_GROUP_ID: groupId,
          LOG_LEVEL: 'error',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout }));
    });
  }

  const breachedChecks = (stdout: string) =>
    [...stdout.matchAll(/^ {2}BREACH {2}(\S+)/gm)].map((m) => m[1]).sort();

  it('passes a clean ledger with a batch in flight and exits 0', async () => {
    const { code, stdout } = await ledgerCheck(clean);
    expect(stdout).toMatch(/8 checks: 8 passed, 0 breached, 0 not run/);
    expect(stdout).toMatch(/note: .*\/1: 1 batch\(es\) in flight/);
    expect(code).toBe(0);
  });

  const cases: { check: string; breach: string[]; also?: string[]; shows: RegExp }[] = [
    {
      check: 'conservation',
      // Money created from nothing on both sides of the books: only the sum shows it.
      breach: [
        `insert into postings (transaction_id, account_id, side, amount, currency, batch_id)
           select id, debit_account, 'DEBIT', -1, currency, batch_id from transactions where id = 'tx2'`,
      ],
      also: ['balances', 'two-postings'],
      shows: /EUR sums to -1 over 3 postings/,
    },
    {
      check: 'two-postings',
      breach: [`delete from postings where transaction_id = 'tx4' and side = 'CREDIT'`],
      also: ['balances', 'conservation'],
      shows: /tx4 \(SETTLED\): 1 postings, 1 matching debit, 0 matching credit/,
    },
    {
      check: 'balances',
      breach: [`update accounts set balance = balance + 7 where id = 'bob'`],
      shows: /bob: balance 17, postings sum to 10/,
    },
    {
      check: 'limits',
      breach: [
        `alter table accounts drop constraint accounts_balance_within_limit`,
        `update accounts set overdraft_limit = 5 where id = 'bank'`,
      ],
      shows: /bank: balance -10 below -5/,
    },
    {
      check: 'batch-counts',
      breach: [`update batches set rejected = 1 where partition = 0 and status = 'SETTLED'`],
      shows: /batch says 1 settled\/1 rejected, ledger has 1 settled\/2 rejected/,
    },
    {
      check: 'cursors',
      breach: [`update partition_cursors set next_offset = 2 where partition = 0`],
      shows: /\/0: cursor 2, committed 3/,
    },
    {
      check: 'outbox',
      breach: [`update outbox set published_at = null, created_at = now() - interval '1 hour'`],
      shows: /-> o: \d+ messages unpublished since/,
    },
    {
      check: 'orphans',
      breach: [
        `update batches set created_at = now() - interval '1 hour' where status = 'PENDING'`,
      ],
      shows: /\(PENDING, .*\/1 \[1, 2\)\): pending since/,
    },
  ];

  it.each(cases)(
    'reports a breach of $check and exits 1',
    async ({ check, breach, also, shows }) => {
      const { code, stdout } = await ledgerCheck(await copyWith(breach));
      expect(breachedChecks(stdout)).toEqual([check, ...(also ?? [])].sort());
      expect(stdout).toMatch(shows);
      expect(code).toBe(1);
    },
  );

  it('reports staged messages left on a settled batch as an orphaned payload', async () => {
    const { code, stdout } = await ledgerCheck(
      await copyWith([
        `update batches set staged_messages = '[]' where status = 'SETTLED' and partition = 1`,
      ]),
    );
    expect(breachedChecks(stdout)).toEqual(['orphans']);
    expect(stdout).toMatch(/\(SETTLED, .*\): still holds staged messages/);
    expect(code).toBe(1);
  });

  it('exits 2 when the database cannot be reached', async () => {
    const { code } = await ledgerCheck(`${clean}_missing`);
    expect(code).toBe(2);
  });
});

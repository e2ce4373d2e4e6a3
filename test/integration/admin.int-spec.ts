import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { Kafka, logLevel } from 'kafkajs';
import { settleBatch } from '@settlement/activities';
import { isConsumptionPaused, recordPendingBatch } from '@settlement/db';
import { loadAdminConfig } from '../../apps/admin/src/config';
import { startAdmin } from './support/admin';
import { createTestDatabase, type TestDatabase } from './support/database';
import { batch, count, openAccounts, startPartition } from './support/fixtures';

const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const OPERATOR = `op-${randomBytes(16).toString('hex')}`;
const OPERATOR2 = `op2-${randomBytes(16).toString('hex')}`;
const READER = `ro-${randomBytes(16).toString('hex')}`;
const topics = { outcomes: 'settlements', deadLetters: 'transactions.dlq' };

describe('admin API on the real stack', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  let kafka: Kafka;
  const topic = `it-admin-${randomBytes(4).toString('hex')}`;
  const group = `it-admin-group-${randomBytes(4).toString('hex')}`;
  const op = { Authorization: `Bearer ${OPERATOR}` };
  const ro = { Authorization: `Bearer ${READER}` };

  beforeAll(async () => {
    db = await createTestDatabase('admin');
    kafka = new Kafka({
      clientId: 'it-admin',
      brokers: BROKERS.split(','),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
    });
    await admin.disconnect();
    ({ app, http } = await startAdmin(db.url, {
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: group,
      ADMIN_TOKEN: OPERATOR,
      ADMIN_OPERATOR_TOKENS: `ops-two:${OPERATOR2}`,
      ADMIN_READONLY_TOKENS: `auditor:${READER}`,
    }));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('refuses to start without any token, naming ADMIN_TOKEN', () => {
    expect(() => loadAdminConfig({ DATABASE_URL: 'postgres://x@h:1/d' })).toThrow(/ADMIN_TOKEN/);
  });

  describe('authentication and roles', () => {
    it('401 without a token, with a wrong token, and with a non-bearer scheme; nothing changes', async () => {
      for (const headers of [
        {},
        { Authorization: 'Bearer wrong-token-wrong-token' },
        { Authorization: `Basic ${OPERATOR}` },
      ]) {
        const res = await http
          .post('/admin/accounts')
          .set(headers)
          .send({ id: 'nope', currency: 'EUR' });
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ error: 'UNAUTHORIZED', message: expect.any(String) });
        expect((await http.get('/admin/accounts/nope').set(headers)).status).toBe(401);
      }
      expect(await count(db.db, 'accounts')).toBe(0);
    });

    it('403 for a read-only token on every changing route, which still reads; nothing changes', async () => {
      await openAccounts(db.db, [{ id: 'ro-acc' }]);
      for (const path of [
        '/admin/accounts',
        '/admin/consumers/pause',
        '/admin/consumers/resume',
        '/admin/replays',
        '/admin/replays/x/cancel',
      ]) {
        const res = await http.post(path).set(ro).send({ id: 'ro-new', currency: 'EUR' });
        expect(res.status).toBe(403);
        expect(res.body.error).toBe('FORBIDDEN');
      }
      expect(await count(db.db, 'accounts')).toBe(1);
      expect(await count(db.db, 'consumer_controls')).toBe(0);
      expect(await count(db.db, 'replays')).toBe(0);
      expect((await http.get('/admin/accounts/ro-acc').set(ro)).status).toBe(200);
      // The failed attempts are audited under the token holder's name, never the token.
      const audit = await db.db.execute<{ actor: string; outcome: string; status_code: number }>(
        sql`select actor, outcome, status_code from audit_log where role = 'readonly'`,
      );
      expect(audit.length).toBe(5);
      expect(
        audit.every(
          (a) => a.actor === 'auditor' && a.outcome === 'FAILURE' && a.status_code === 403,
        ),
      ).toBe(true);
      const all = JSON.stringify(await db.db.execute(sql`select * from audit_log`));
      expect(all).not.toContain(READER);
      expect(all).not.toContain(OPERATOR);
    });

    it('accepts every configured operator token (rotation)', async () => {
      const res = await http
        .get('/admin/accounts/ro-acc')
        .set({ Authorization: `Bearer ${OPERATOR2}` });
      expect(res.status).toBe(200);
    });

    it('leaves health, metrics and the OpenAPI docs open', async () => {
      expect((await http.get('/health/live')).status).toBe(200);
      expect((await http.get('/health/ready')).status).toBe(200);
      expect((await http.get('/metrics')).text).toContain('settlement_ingest_paused');
      const docs = await http.get('/docs/openapi.json');
      expect(docs.status).toBe(200);
      expect(Object.keys(docs.body.paths)).toEqual(
        expect.arrayContaining([
          '/admin/accounts',
          '/admin/replays',
          '/admin/lag',
          '/admin/dead-letters',
        ]),
      );
      expect((await http.get('/docs')).status).toBe(200);
    });
  });

  describe('accounts', () => {
    it('opens an account (201, amounts as strings), idempotently, with an audit row in the same transaction', async () => {
      const body = { id: 'acc-1', currency: 'EUR', overdraftLimit: '99999999999999999999999' };
      const res = await http.post('/admin/accounts').set(op).send(body);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: 'acc-1',
        currency: 'EUR',
        balance: '0',
        overdraftLimit: '99999999999999999999999',
      });
      expect((await http.post('/admin/accounts').set(op).send(body)).status).toBe(201);
      expect((await http.get('/admin/accounts/acc-1').set(op)).body).toEqual(res.body);
      const audit = await db.db.execute<{
        actor: string;
        action: string;
        target: string;
        outcome: string;
      }>(
        sql`select actor, action, target, outcome from audit_log where target = 'acc-1' order by id`,
      );
      expect(audit).toEqual([
        {
          actor: 'admin',
          action: 'POST /admin/accounts',
          target: 'acc-1',
          outcome: 'SUCCESS',
        },
        {
          actor: 'admin',
          action: 'POST /admin/accounts',
          target: 'acc-1',
          outcome: 'SUCCESS',
        },
      ]);
    });

    it('409 when it exists with other settings, and changes nothing', async () => {
      const res = await http.post('/admin/accounts').set(op).send({ id: 'acc-1', currency: 'USD' });
      expect(res.status).toBe(409);
      expect(res.body.error).toBe('CONFLICT');
      expect((await http.get('/admin/accounts/acc-1').set(op)).body.currency).toBe('EUR');
    });

    it('400 naming the field for malformed bodies; nothing is created', async () => {
      const cases: [unknown, string][] = [
        [{ currency: 'EUR' }, 'id'],
        [{ id: 'bad id!', currency: 'EUR' }, 'id'],
        [{ id: 'x1', currency: 'eur' }, 'currency'],
        [{ id: 'x1', currency: 'XXY' }, 'currency'],
        [{ id: 'x1', currency: 'EUR', overdraftLimit: 5 }, 'overdraftLimit'],
        [{ id: 'x1', currency: 'EUR', overdraftLimit: '-5' }, 'overdraftLimit'],
        [{ id: 'x1', currency: 'EUR', overdraftLimit: '05' }, 'overdraftLimit'],
      ];
      for (const [body, field] of cases) {
        const res = await http
          .post('/admin/accounts')
          .set(op)
          .send(body as object);
        expect(res.status).toBe(400);
        expect(res.body.error).toBe('BAD_REQUEST');
        expect(res.body.message).toContain(`'${field}'`);
      }
      const malformed = await http
        .post('/admin/accounts')
        .set(op)
        .set('Content-Type', 'application/json')
        .send('{"id": ');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error).toBe('BAD_REQUEST');
      expect(await count(db.db, 'accounts', sql`id = 'x1'`)).toBe(0);
    });

    it('404 for an unknown account', async () => {
      const res = await http.get('/admin/accounts/missing').set(op);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: 'NOT_FOUND', message: expect.stringContaining('missing') });
    });
  });

  describe('transactions, batches and dead letters', () => {
    beforeAll(async () => {
      await openAccounts(db.db, [{ id: 'bank', overdraftLimit: 10n ** 20n }, { id: 'alice' }]);
      await startPartition(db.db, 'transactions', 0);
      await startPartition(db.db, 'transactions', 1);
      await settleBatch(
        { db: db.db, topics },
        batch('transactions', 0, 0, [
          { id: 'tx-ok', debit: 'bank', credit: 'alice', amount: '100' },
          { id: 'tx-no', debit: 'alice', credit: 'bank', amount: '1000' },
        ]),
        'wf-a',
      );
      // Three more batches for pagination; one with a DUPLICATE_CONFLICT dead letter.
      for (let i = 0; i < 3; i++) {
        await settleBatch(
          { db: db.db, topics },
          batch('transactions', 1, i, [
            i === 2
              ? { id: 'tx-ok', debit: 'bank', credit: 'alice', amount: '7' }
              : { id: `tx-p${i}`, debit: 'bank', credit: 'alice', amount: '1' },
          ]),
          `wf-p${i}`,
        );
      }
    });

    it('GET /admin/transactions/:id answers SETTLED, REJECTED with reason, 404 unknown', async () => {
      const ok = await http.get('/admin/transactions/tx-ok').set(ro);
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({
        id: 'tx-ok',
        status: 'SETTLED',
        batchId: 'transactions-0-0-2',
        amount: '100',
      });
      expect(ok.body.reason).toBeUndefined();
      // Every admin answer names its request id (the caller's, when given) for the logs.
      expect(ok.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const traced = await http
        .get('/admin/transactions/tx-ok')
        .set(ro)
        .set('x-request-id', 'req-42');
      expect(traced.headers['x-request-id']).toBe('req-42');
      expect(new Date(ok.body.settledAt).getTime()).toBeGreaterThan(0);
      // From a transaction to its batch and the batch's workflow in the Temporal Web UI.
      expect(ok.body).toMatchObject({
        workflowId: 'wf-a',
        workflowUrl: 'http://127.0.0.1:8233/namespaces/default/workflows/wf-a',
        batch: {
          id: 'transactions-0-0-2',
          workflowId: 'wf-a',
          counts: { settled: 1, rejected: 1 },
        },
      });
      const no = await http.get('/admin/transactions/tx-no').set(ro);
      expect(no.body).toMatchObject({ status: 'REJECTED', reason: 'INSUFFICIENT_FUNDS' });
      expect((await http.get('/admin/transactions/never').set(ro)).status).toBe(404);
    });

    it('GET /admin/batches pages newest first with an opaque keyset cursor and filters by status', async () => {
      const first = await http.get('/admin/batches?limit=2').set(ro);
      expect(first.status).toBe(200);
      expect(first.body.items.map((b: { id: string }) => b.id)).toEqual([
        'transactions-1-2-3',
        'transactions-1-1-2',
      ]);
      expect(first.body.items[0]).toMatchObject({
        topic: 'transactions',
        partition: 1,
        fromOffset: '2',
        nextOffset: '3',
        workflowId: 'wf-p2',
        status: 'SETTLED',
        counts: { messages: 1, settled: 0, rejected: 0, duplicates: 0, deadLettered: 1 },
      });
      const second = await http
        .get(`/admin/batches?limit=2&cursor=${first.body.nextCursor}`)
        .set(ro);
      expect(second.body.items.map((b: { id: string }) => b.id)).toEqual([
        'transactions-1-0-1',
        'transactions-0-0-2',
      ]);
      expect(second.body.nextCursor).toBeNull();
      expect((await http.get('/admin/batches?status=FAILED').set(ro)).body.items).toEqual([]);
      expect(
        (await http.get('/admin/batches?status=SETTLED&limit=500').set(ro)).body.items,
      ).toHaveLength(4);
      const one = await http.get('/admin/batches/transactions-0-0-2').set(ro);
      expect(one.body).toMatchObject({
        id: 'transactions-0-0-2',
        counts: { settled: 1, rejected: 1 },
      });
      expect((await http.get('/admin/batches/nope').set(ro)).status).toBe(404);
    });

    it('400 naming the parameter for a bad status, limit or cursor', async () => {
      for (const [q, field] of [
        ['status=NOPE', 'status'],
        ['limit=0', 'limit'],
        ['limit=501', 'limit'],
        ['limit=x', 'limit'],
        ['cursor=zzz', 'cursor'],
      ]) {
        const res = await http.get(`/admin/batches?${q}`).set(ro);
        expect(res.status).toBe(400);
        expect(res.body.message).toContain(`'${field}'`);
      }
      expect((await http.get('/admin/dead-letters?reason=NOPE').set(ro)).status).toBe(400);
    });

    it('GET /admin/transactions/:id answers PENDING for an id in a staged, unsettled batch', async () => {
      const pending = batch('transactions', 3, 0, [
        { id: 'tx-wait', debit: 'bank', credit: 'alice', amount: '5' },
        { id: 'tx-wait-2', debit: 'bank', credit: 'alice', amount: '6' },
      ]);
      await recordPendingBatch(db.db, pending, 'wf-pending', { messageCount: 2, staged: true });
      const res = await http.get('/admin/transactions/tx-wait').set(ro);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: 'tx-wait',
        status: 'PENDING',
        batchId: pending.batchId,
        workflowId: 'wf-pending',
        batch: { status: 'PENDING' },
      });
      // A prefix of a staged id is not a match.
      expect((await http.get('/admin/transactions/tx-wai').set(ro)).status).toBe(404);
    });

    it('GET /admin/dead-letters lists newest first, filters by reason', async () => {
      const res = await http.get('/admin/dead-letters?reason=DUPLICATE_CONFLICT&limit=10').set(ro);
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(1);
      expect(res.body.items[0]).toMatchObject({
        reason: 'DUPLICATE_CONFLICT',
        partition: 1,
        offset: '2',
        transactionId: 'tx-ok',
      });
      expect((await http.get('/admin/dead-letters?reason=TOO_LARGE').set(ro)).body).toEqual({
        items: [],
        nextCursor: null,
      });
    });
  });

  describe('pause, resume and lag', () => {
    it('pause is durable, audited, and shows in /admin/lag and the metrics; resume undoes it', async () => {
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: [0, 1, 2].map((i) => ({ partition: i % 2, key: 'k', value: `v${i}` })),
      });
      await producer.disconnect();

      const paused = await http
        .post('/admin/consumers/pause')
        .set(op)
        .send({ reason: 'maintenance' });
      expect(paused.status).toBe(200);
      expect(paused.body).toMatchObject({
        groupId: group,
        paused: true,
        reason: 'maintenance',
        updatedBy: 'admin',
      });
      expect(await isConsumptionPaused(db.db, group)).toBe(true);
      const lag = await http.get('/admin/lag').set(ro);
      expect(lag.status).toBe(200);
      expect(lag.body).toMatchObject({
        groupId: group,
        topic,
        totalLag: '3',
        consumption: { paused: true, reason: 'maintenance' },
      });
      expect(lag.body.partitions).toEqual([
        { partition: 0, committedOffset: null, startOffset: '0', endOffset: '2', lag: '2' },
        { partition: 1, committedOffset: null, startOffset: '0', endOffset: '1', lag: '1' },
      ]);
      expect((await http.get('/metrics')).text).toMatch(/settlement_ingest_paused 1/);

      expect((await http.post('/admin/consumers/resume').set(op).send({})).body.paused).toBe(false);
      expect(await isConsumptionPaused(db.db, group)).toBe(false);
      expect((await http.get('/admin/lag').set(ro)).body.consumption.paused).toBe(false);
      expect((await http.get('/metrics')).text).toMatch(/settlement_ingest_paused 0/);
      const audit = await db.db.execute<{ action: string }>(
        sql`select action from audit_log where target = ${group} order by id`,
      );
      expect(audit.map((a) => a.action)).toEqual([
        'POST /admin/consumers/pause',
        'POST /admin/consumers/resume',
      ]);
      const bad = await http.post('/admin/consumers/pause').set(op).send({ reason: 5 });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toContain("'reason'");
      expect(await isConsumptionPaused(db.db, group)).toBe(false);
    });
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import type request from 'supertest';
import { startAdmin } from './support/admin';
import { waitFor } from './support/apps';
import { createTestDatabase, type TestDatabase } from './support/database';
import { count } from './support/fixtures';
import { createTopics, testKafka } from './support/kafka';
import { uniqueTaskQueue } from './support/temporal';

const OPERATOR = `op-${randomBytes(16).toString('hex')}`;
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');

/**
 * Delivers SIGHUP to the app's listener. Jest gives each test file its own `process` object,
 * so a real signal would reach Node's default handler instead of the one the app installed.
 */
const sighup = () => process.emit('SIGHUP' as never);

describe('admin API: bounded input, rate limits, replay limits, headers, token rotation', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  let topics: { transactions: string; outcomes: string; deadLetters: string };
  const tokensDir = mkdtempSync(join(tmpdir(), 'admin-tokens-'));
  const tokensFile = join(tokensDir, 'tokens');
  const op = { Authorization: `Bearer ${OPERATOR}` };

  // The admin app connects as its own login role, as deployed (docs/security.md).
  const startHardened = (extra: Record<string, string> = {}) =>
    startAdmin(db.url, {
      KAFKA_TOPIC: topics.transactions,
      KAFKA_GROUP_ID: `${topics.transactions}-group`,
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue('it-hardening'),
      ADMIN_TOKEN: OPERATOR,
      LOG_LEVEL: 'fatal',
      ...extra,
    });

  beforeAll(async () => {
    db = await createTestDatabase('admin-hardening');
    const admin = testKafka('it-hardening').admin();
    await admin.connect();
    topics = await createTopics(admin, 'hardening', 1);
    await admin.disconnect();
    writeFileSync(tokensFile, '# no extra tokens yet\n');
    ({ app, http } = await startHardened({ ADMIN_TOKENS_FILE: tokensFile }));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const failures = (action: string) =>
    count(db.db, 'audit_log', sql`outcome = 'FAILURE' and action like ${`%${action}%`}`);

  it('413 for a body over the limit, audited; nothing is created', async () => {
    const res = await http
      .post('/admin/accounts')
      .set(op)
      .send({ id: 'big', currency: 'EUR', pad: 'x'.repeat(200 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: 'PAYLOAD_TOO_LARGE', message: expect.any(String) });
    expect(await count(db.db, 'accounts')).toBe(0);
    expect(await failures('/admin/accounts')).toBeGreaterThan(0);
  });

  it('415 for form-encoded and text bodies on changing routes; 400 for malformed JSON', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'text/plain']) {
      const res = await http
        .post('/admin/accounts')
        .set(op)
        .set('Content-Type', type)
        .send('id=form&currency=EUR');
      expect(res.status).toBe(415);
      expect(res.body.error).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    const malformed = await http
      .post('/admin/accounts')
      .set(op)
      .set('Content-Type', 'application/json')
      .send('{"id": nope');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({
      error: 'BAD_REQUEST',
      message: "field 'body': malformed JSON",
    });
    expect(await count(db.db, 'accounts')).toBe(0);
  });

  it('400 for out-of-range cursors, bad cursor timestamps, control characters in ids, year 0001', async () => {
    const cases: [string, RegExp][] = [
      [`/admin/dead-letters?cursor=${b64('9999999999999999999')}`, /cursor|range/],
      [`/admin/batches?cursor=${b64(['2026-13-45 99:99:99', 'x'])}`, /cursor|range/],
      ['/admin/transactions/a%00b', /control characters/],
      ['/admin/accounts/%1b%5b31m', /control characters/],
    ];
    for (const [path, message] of cases) {
      const res = await http.get(path).set(op);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(res.body.message).toMatch(message);
    }
    const nul = await http.post('/admin/replays/a%00b/cancel').set(op);
    expect(nul.status).toBe(400);
    expect(await failures('/admin/replays/:id/cancel')).toBe(1);
    const ancient = await http
      .post('/admin/replays')
      .set(op)
      .send({ from: { timestamp: '0001-01-01T00:00:00Z' }, to: { offset: '0' } });
    expect(ancient.status).toBe(400);
    expect(ancient.body.message).toMatch(/from.timestamp/);
  });

  it('replays read only the configured source topic and at most REPLAY_MAX_RUNNING run at once', async () => {
    for (const topic of [topics.outcomes, topics.deadLetters, '__consumer_offsets']) {
      const res = await http
        .post('/admin/replays')
        .set(op)
        .send({ topic, from: { offset: '0' }, to: { offset: '0' } });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/field 'topic': replays read only/);
    }
    // No worker polls this test's task queue, so started replays stay RUNNING.
    const range = { from: { offset: '0' }, to: { offset: '0' } };
    for (let i = 0; i < 2; i++) {
      expect((await http.post('/admin/replays').set(op).send(range)).status).toBe(202);
    }
    const third = await http.post('/admin/replays').set(op).send(range);
    expect(third.status).toBe(409);
    expect(third.body.message).toMatch(/at most 2/);
    expect(await count(db.db, 'replays')).toBe(2);
  });

  it('sends helmet headers and no X-Powered-By; Swagger UI still renders from its own assets', async () => {
    const docs = await http.get('/docs/');
    expect(docs.status).toBe(200);
    expect(docs.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(docs.headers['x-content-type-options']).toBe('nosniff');
    expect(docs.headers['x-powered-by']).toBeUndefined();
    // Every script the page runs is a file under /docs (the CSP forbids inline scripts).
    const scripts = [...docs.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, inline] of scripts) {
      expect(attrs).toMatch(/src="\.?\/?[^":]+"/);
      expect(inline.trim()).toBe('');
    }
    const init = await http.get('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
  });

  it('rotates tokens from the tokens file without a restart (on change and on SIGHUP)', async () => {
    const alice = `alice-${randomBytes(16).toString('hex')}`;
    const bob = `bob-${randomBytes(16).toString('hex')}`;
    expect(
      (await http.get('/admin/consumers').set('Authorization', `Bearer ${alice}`)).status,
    ).toBe(401);
    writeFileSync(tokensFile, `operator alice:${alice}\nreadonly bob:${bob}\n`);
    sighup();
    await waitFor('alice accepted', async () => {
      const res = await http.get('/admin/consumers').set('Authorization', `Bearer ${alice}`);
      return res.status === 200 ? true : undefined;
    });
    const ro = await http.post('/admin/consumers/pause').set('Authorization', `Bearer ${bob}`);
    expect(ro.status).toBe(403);
    // A broken file keeps the tokens in force; removing alice's line revokes her (file watch).
    writeFileSync(tokensFile, 'operator short\n');
    sighup();
    await new Promise((r) => setTimeout(r, 300));
    expect(
      (await http.get('/admin/consumers').set('Authorization', `Bearer ${alice}`)).status,
    ).toBe(200);
    writeFileSync(tokensFile, `readonly bob:${bob}\n`);
    await waitFor('alice revoked by the file watch', async () => {
      const res = await http.get('/admin/consumers').set('Authorization', `Bearer ${alice}`);
      return res.status === 401 ? true : undefined;
    });
    expect((await http.get('/admin/consumers').set(op)).status).toBe(200);
  });

  it('429 with the error body over the per-token rate limit; another token keeps its own budget', async () => {
    const other = `other-${randomBytes(16).toString('hex')}`;
    const limited = await startHardened({
      ADMIN_RATE_LIMIT_PER_MINUTE: '3',
      ADMIN_OPERATOR_TOKENS: `other:${other}`,
    });
    try {
      const h = limited.http;
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await h.get('/admin/consumers').set(op)).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const res = await h.get('/admin/consumers').set(op);
      expect(res.body).toEqual({
        error: 'TOO_MANY_REQUESTS',
        message: expect.stringMatching(/3 requests per minute/),
      });
      expect(res.headers['retry-after']).toBeDefined();
      expect((await h.get('/admin/consumers').set('Authorization', `Bearer ${other}`)).status).toBe(
        200,
      );
      expect((await h.get('/health/live')).status).toBe(200);
    } finally {
      await limited.app.close();
    }
  });
});

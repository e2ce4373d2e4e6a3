import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { startAdmin } from './support/admin';
import { createTestDatabase, type TestDatabase } from './support/database';
import { count } from './support/fixtures';
import { registeredRoutes, type Route } from './support/routes';

const OPERATOR = `op-${randomBytes(16).toString('hex')}`;
const READER = `ro-${randomBytes(16).toString('hex')}`;
const HEALTH = ['GET /health/live', 'GET /health/ready', 'GET /metrics'];
/**
 * Public: the probes, the scrape target, the OpenAPI document with Swagger UI's assets, and
 * the operations console's static files (no data: it calls /admin with the user's token).
 */
const isPublic = (r: Route): boolean =>
  HEALTH.includes(`${r.method} ${r.path}`) ||
  (r.method === 'GET' &&
    ['/docs', '/console'].some((p) => r.path === p || r.path.startsWith(`${p}/`)));
const CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The same path as an attacker would write it: other case, encoded, trailing slash, doubled. */
function variants(path: string): string[] {
  const upper = path.toUpperCase();
  const capital = path.replace(/^\/([a-z])/, (_, c: string) => `/${c.toUpperCase()}`);
  const encoded = path.replace(/^\/([a-z])/, (_, c: string) => `/%${c.charCodeAt(0).toString(16)}`);
  return [path, upper, capital, encoded, `${path}/`, `/${path}`, `${path}%2f`, `${path}?x=1`];
}

describe('admin authentication: deny by default over every registered route', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  let routes: Route[];

  beforeAll(async () => {
    db = await createTestDatabase('admin-auth');
    ({ app, http } = await startAdmin(db.url, {
      ADMIN_TOKEN: OPERATOR,
      ADMIN_READONLY_TOKENS: `auditor:${READER}`,
    }));
    routes = registeredRoutes(app);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const send = (method: string, path: string, headers: Record<string, string>) => {
    const verbs = http as unknown as Record<string, (p: string) => request.Test>;
    return verbs[method.toLowerCase()](path)
      .set(headers)
      .send(CHANGING.has(method) ? { id: 'probe', currency: 'EUR', reason: 'probe' } : undefined);
  };

  it('finds the routes in the router, and only health and metrics are public', async () => {
    expect(routes.filter((r) => r.path.startsWith('/admin/')).length).toBeGreaterThan(12);
    const open: string[] = [];
    for (const r of routes) {
      const res = await send(r.method, r.path, {});
      if (res.status !== 401) open.push(`${r.method} ${r.path}`);
    }
    expect(open.sort()).toEqual(
      routes
        .filter(isPublic)
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    );
    expect(open).toEqual(expect.arrayContaining(HEALTH));
  });

  it("serves the console's static files without a token, and only them", async () => {
    for (const file of ['/console', '/console/console.js', '/console/console.css']) {
      const res = await http.get(file);
      expect(res.status).toBe(200);
      expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
    }
    // Paths that try to climb out of the console's folder reach no data.
    for (const path of [
      '/console/../admin/lag',
      '/console/%2e%2e/admin/lag',
      '/console/%2fadmin',
    ]) {
      const res = await http.get(path);
      expect([400, 403, 404]).toContain(res.status);
      expect(JSON.stringify(res.body ?? {})).not.toMatch(/totalLag|partitions/);
    }
    expect((await http.post('/console').send({})).status).toBe(401);
  });

  it('answers 401 to no token and to a wrong token on every variant of every other route', async () => {
    const leaks: string[] = [];
    const bad: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer wrong-token-wrong-token' },
      { Authorization: OPERATOR },
    ];
    for (const r of routes.filter((r) => !isPublic(r))) {
      for (const path of variants(r.path)) {
        for (const headers of bad) {
          const res = await send(r.method, path, headers);
          if (res.status !== 401)
            leaks.push(`${r.method} ${path} ${JSON.stringify(headers)}: ${res.status}`);
          else if (r.method !== 'HEAD')
            expect(res.body).toEqual({ error: 'UNAUTHORIZED', message: expect.any(String) });
        }
      }
    }
    expect(leaks).toEqual([]);
    process.stdout.write(
      `checked ${routes.length} routes x ${variants('/a').length} path variants x ${bad.length} bad credentials\n`,
    );
  });

  it('answers 401 before parsing the body: a malformed or huge body without a token is not read', async () => {
    const res = await http
      .post('/admin/accounts')
      .set('Content-Type', 'application/json')
      .send('{"id": nope');
    expect(res.status).toBe(401);
  });

  it('gives a read-only token 403 on every changing admin route and never a success on its variants', async () => {
    const ro = { Authorization: `Bearer ${READER}` };
    const wrong: string[] = [];
    for (const r of routes.filter((r) => CHANGING.has(r.method) && r.path.startsWith('/admin/'))) {
      const exact = await send(r.method, r.path, ro);
      // A wildcard matches no route of ours: 404 for an authenticated caller, never a success.
      if (r.wildcard ? exact.status < 400 : exact.status !== 403)
        wrong.push(`${r.method} ${r.path}: ${exact.status}`);
      for (const path of variants(r.path).slice(1)) {
        const res = await send(r.method, path, ro);
        if (res.status < 400) wrong.push(`${r.method} ${path}: ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('changed nothing and audited no success', async () => {
    for (const table of ['accounts', 'consumer_controls', 'replays']) {
      expect(await count(db.db, table)).toBe(0);
    }
    expect(await count(db.db, 'audit_log', sql`outcome = 'SUCCESS'`)).toBe(0);
  });
});

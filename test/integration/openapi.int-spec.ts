import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import Ajv, { type ValidateFunction } from 'ajv';
import { sql } from 'drizzle-orm';
import { Partitioners, type Kafka } from 'kafkajs';
import type request from 'supertest';
import { closeCycleWindow, computeNetPositions, settleBatch } from '@settlement/activities';
import { startAdmin } from './support/admin';
import { createTestDatabase, type TestDatabase } from './support/database';
import { batch, openAccounts, startPartition } from './support/fixtures';
import { createTopics, testKafka } from './support/kafka';
import { registeredRoutes, type Route } from './support/routes';
import { temporalClient, uniqueTaskQueue } from './support/temporal';

const OPERATOR = `op-${randomBytes(16).toString('hex')}`;
const OPERATOR2 = `op2-${randomBytes(16).toString('hex')}`;
const READER = `ro-${randomBytes(16).toString('hex')}`;
const op = { Authorization: `Bearer ${OPERATOR}` };
const op2 = { Authorization: `Bearer ${OPERATOR2}` };
const ro = { Authorization: `Bearer ${READER}` };

type Operation = {
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
};
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};

/** `/admin/accounts/:id` as the document writes it: `/admin/accounts/{id}`. */
const documentPath = (pattern: string) => pattern.replace(/:([A-Za-z]+)/g, '{$1}');
/** Swagger UI's own pages and the console's static files are not API operations. */
const isApi = (r: Route) =>
  !r.wildcard && r.method !== 'HEAD' && !/^\/(docs|console)(\/|$|-json|-yaml)/.test(r.pattern);

/**
 * The OpenAPI document is complete enough to generate a client: every route the router
 * registered is in it, and the real answers of every route (successes on real data, and the
 * errors) are documented for their status and validate against the document's schemas.
 */
describe('OpenAPI document against the real answers of every route', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  let kafka: Kafka;
  let temporal: Client;
  let doc: Document;
  let topics: { transactions: string; outcomes: string; deadLetters: string };
  const workflows: string[] = [];
  let cycleId: string;

  beforeAll(async () => {
    db = await createTestDatabase('openapi');
    kafka = testKafka('it-openapi');
    const admin = kafka.admin();
    await admin.connect();
    topics = await createTopics(admin, 'openapi');
    await admin.disconnect();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: topics.transactions, messages: [{ key: 'a', value: '{}' }] });
    await producer.disconnect();
    temporal = await temporalClient();
    ({ app, http } = await startAdmin(db.url, {
      KAFKA_TOPIC: topics.transactions,
      KAFKA_OUTCOME_TOPIC: topics.outcomes,
      KAFKA_DLQ_TOPIC: topics.deadLetters,
      KAFKA_GROUP_ID: `it-openapi-${randomBytes(4).toString('hex')}`,
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue('openapi'),
      ADMIN_TOKEN: OPERATOR,
      ADMIN_OPERATOR_TOKENS: `second:${OPERATOR2}`,
      ADMIN_READONLY_TOKENS: `auditor:${READER}`,
    }));
    doc = (await http.get('/docs/openapi.json')).body as Document;

    // Real data for the lookups: a settled and a rejected transaction, dead letters (a
    // DUPLICATE_CONFLICT, two SCHEMA_VIOLATIONs to repair), a cycle with its positions.
    await openAccounts(db.db, [{ id: 'bank', overdraftLimit: 10n ** 20n }, { id: 'alice' }]);
    await startPartition(db.db, topics.transactions, 0);
    const settle = { db: db.db, topics };
    await settleBatch(
      settle,
      batch(topics.transactions, 0, 0, [
        { id: 'tx-ok', debit: 'bank', credit: 'alice', amount: '100' },
        { id: 'tx-no', debit: 'alice', credit: 'bank', amount: '1000' },
      ]),
      'wf-openapi-a',
    );
    await settleBatch(
      settle,
      batch(topics.transactions, 0, 2, [
        { id: 'tx-ok', debit: 'bank', credit: 'alice', amount: '7' },
      ]),
      'wf-openapi-b',
    );
    const invalid = batch(topics.transactions, 0, 3, [
      { id: 'tx-bad1', debit: 'bank', credit: 'alice', amount: '-5' },
      { id: 'tx-bad2', debit: 'bank', credit: 'alice', amount: '-6' },
    ]);
    await settleBatch(settle, invalid, 'wf-openapi-c');
    await settleBatch(
      { ...settle, now: () => new Date('2001-01-01T00:00:10Z') },
      batch(topics.transactions, 0, 5, [
        { id: 'tx-old', debit: 'bank', credit: 'alice', amount: '3' },
      ]),
      'wf-openapi-d',
    );
    const cycles = { db: db.db, topic: topics.outcomes, graceMs: 0 };
    const window = await closeCycleWindow(cycles, {
      cutoff: '2001-01-01T00:01:00.000Z',
      workflowId: 'wf-openapi-cycle',
      requestedBy: 'test',
    });
    await computeNetPositions(cycles, { cycleId: window.cycleId });
    cycleId = window.cycleId;
  });

  afterAll(async () => {
    // The runs this test started have no worker: end them, they must not linger on the stack.
    for (const id of workflows) {
      await temporal.workflow
        .getHandle(id)
        .terminate('openapi test done')
        .catch(() => undefined);
    }
    await temporal?.connection.close();
    await app?.close();
    await db?.drop();
  });

  function validatorFor(schema: unknown): ValidateFunction {
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ components: doc.components }, 'openapi.json');
    return ajv.compile(
      JSON.parse(JSON.stringify(schema).replace(/"#\/components/g, '"openapi.json#/components')),
    );
  }

  /** What went wrong with one answer, or undefined when the document describes it. */
  function check(method: string, pattern: string, res: request.Response): string | undefined {
    const at = `${method} ${pattern} -> ${res.status}`;
    const operation = doc.paths[documentPath(pattern)]?.[method.toLowerCase()];
    if (!operation) return `${at}: not in the document`;
    const answer = operation.responses[String(res.status)];
    if (!answer) return `${at}: status not documented (${JSON.stringify(res.body)})`;
    const contentType = String(res.headers['content-type'] ?? '').split(';')[0];
    const media = answer.content?.[contentType];
    if (!media) return `${at}: ${contentType} not documented`;
    if (contentType !== 'application/json') return undefined;
    const validate = validatorFor(media.schema);
    if (validate(res.body)) return undefined;
    return `${at}: ${ajvText(validate)} in ${JSON.stringify(res.body).slice(0, 300)}`;
  }

  const ajvText = (v: ValidateFunction) =>
    (v.errors ?? [])
      .map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`)
      .join('; ');

  const send = (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const verbs = http as unknown as Record<string, (p: string) => request.Test>;
    const req = verbs[method.toLowerCase()](path).set(headers);
    return body === undefined ? req : req.send(body as object);
  };

  it('documents every route the router registered, with component schemas', () => {
    const routes = registeredRoutes(app).filter(isApi);
    expect(routes.length).toBeGreaterThan(20);
    const missing = routes.filter(
      (r) => !doc.paths[documentPath(r.pattern)]?.[r.method.toLowerCase()],
    );
    expect(missing.map((r) => `${r.method} ${r.pattern}`)).toEqual([]);
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['Error', 'Account', 'Transaction', 'Batch', 'DeadLetter', 'Lag']),
    );
    // Every operation names a schema for each of its answers (a generator needs them).
    const bare: string[] = [];
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, operation] of Object.entries(item))
        for (const [status, answer] of Object.entries(operation.responses))
          if (!answer.content) bare.push(`${method} ${path} ${status}`);
    expect(bare).toEqual([]);
  });

  it("validates a real success of every route and its errors against the document's schemas", async () => {
    const deadLetters = await db.db.execute<{ id: string; reason: string }>(
      sql`select id::text, reason from dead_letters order by id`,
    );
    const [deadLetterId, asIs, corrected] = deadLetters.map((d) => d.id);
    expect(deadLetters.map((d) => d.reason)).toEqual([
      'DUPLICATE_CONFLICT',
      'SCHEMA_VIOLATION',
      'SCHEMA_VIOLATION',
    ]);
    const fixed = {
      id: 'tx-bad2',
      debitAccount: 'bank',
      creditAccount: 'alice',
      amount: '6',
      currency: 'EUR',
      occurredAt: '2026-11-25T10:00:00Z',
    };
    const batchId = (await http.get('/admin/transactions/tx-ok').set(op)).body.batchId as string;
    // After the cycle above, a second of 2002 no other test asks for (cycle ids come from it).
    const cutoff = new Date(Date.UTC(2002, 0, 1) + Math.floor(Math.random() * 31_536_000) * 1000);

    // A success on real data for each route, in an order where one step makes the next's data.
    const steps: [string, string, string, unknown?][] = [
      ['POST', '/admin/accounts', '/admin/accounts', { id: 'carol', currency: 'EUR' }],
      ['GET', '/admin/accounts/:id', '/admin/accounts/carol'],
      ['GET', '/admin/transactions/:id', '/admin/transactions/tx-ok'],
      ['GET', '/admin/transactions/:id', '/admin/transactions/tx-no'],
      ['GET', '/admin/batches', '/admin/batches?limit=1'],
      ['GET', '/admin/batches/:id', `/admin/batches/${batchId}`],
      ['GET', '/admin/dead-letters', '/admin/dead-letters'],
      ['GET', '/admin/dead-letters/:id', `/admin/dead-letters/${deadLetterId}`],
      ['POST', '/admin/dead-letters/:id/resubmit', `/admin/dead-letters/${asIs}/resubmit`, {}],
      [
        'POST',
        '/admin/dead-letters/:id/resubmit',
        `/admin/dead-letters/${corrected}/resubmit`,
        { correctedMessage: fixed },
      ],
      ['GET', '/admin/dead-letters/:id', `/admin/dead-letters/${corrected}`],
      ['GET', '/admin/dead-letters/:id', `/admin/dead-letters/${asIs}`],
      [
        'POST',
        '/admin/dead-letters/redrive',
        '/admin/dead-letters/redrive',
        { filter: {}, dryRun: true },
      ],
      [
        'POST',
        '/admin/dead-letters/:id/discard',
        `/admin/dead-letters/${deadLetterId}/discard`,
        { reason: 'test' },
      ],
      ['GET', '/admin/dead-letters/:id', `/admin/dead-letters/${deadLetterId}`],
      [
        'POST',
        '/admin/dead-letters/redrive',
        '/admin/dead-letters/redrive',
        { filter: { reason: 'TOO_LARGE' } },
      ],
      ['GET', '/admin/lag', '/admin/lag'],
      ['GET', '/admin/consumers', '/admin/consumers'],
      ['POST', '/admin/consumers/pause', '/admin/consumers/pause', { reason: 'openapi test' }],
      ['POST', '/admin/consumers/resume', '/admin/consumers/resume', {}],
      [
        'POST',
        '/admin/replays',
        '/admin/replays',
        { from: { offset: '0' }, to: { offset: '1' }, mode: 'verify' },
      ],
      ['GET', '/admin/replays', '/admin/replays'],
      ['POST', '/admin/cycles', '/admin/cycles', { cutoff: cutoff.toISOString() }],
      ['GET', '/admin/cycles', '/admin/cycles'],
      ['GET', '/admin/cycles/:id', `/admin/cycles/${cycleId}`],
      ['GET', '/admin/cycles/:id/positions', `/admin/cycles/${cycleId}/positions`],
      ['GET', '/admin/session', '/admin/session'],
      ['GET', '/health/live', '/health/live'],
      ['GET', '/health/ready', '/health/ready'],
      ['GET', '/metrics', '/metrics'],
    ];
    const wrong: string[] = [];
    const succeeded = new Set<string>();
    const record = (method: string, pattern: string, res: request.Response) => {
      const problem = check(method, pattern, res);
      if (problem) wrong.push(problem);
      if (res.status < 300) succeeded.add(`${method} ${pattern}`);
      return res;
    };
    for (const [method, pattern, path, body] of steps) {
      // The request bodies a client would send, against the document's request schemas.
      if (body !== undefined) {
        const operation = doc.paths[documentPath(pattern)][method.toLowerCase()];
        const validate = validatorFor(operation.requestBody?.content['application/json'].schema);
        if (!validate(body)) wrong.push(`${method} ${pattern} request: ${ajvText(validate)}`);
      }
      const res = record(method, pattern, await send(method, path, op, body));
      const started = res.body as {
        workflowId?: string;
        redriveId?: string;
        replayId?: string;
        cycleId?: string;
      };
      if (res.status === 202 && started.workflowId) workflows.push(started.workflowId);
      // The runs just started give the routes that read and cancel them their ids.
      if (started.redriveId && !('dryRun' in started)) {
        record(
          'GET',
          '/admin/dead-letters/redrives/:id',
          await send('GET', `/admin/dead-letters/redrives/${started.redriveId}`, op),
        );
        record(
          'POST',
          '/admin/dead-letters/redrives/:id/cancel',
          await send('POST', `/admin/dead-letters/redrives/${started.redriveId}/cancel`, op),
        );
      }
      if (started.replayId && res.status === 202) {
        record(
          'GET',
          '/admin/replays/:id',
          await send('GET', `/admin/replays/${started.replayId}`, op),
        );
        record(
          'POST',
          '/admin/replays/:id/cancel',
          await send('POST', `/admin/replays/${started.replayId}/cancel`, op),
        );
      }
      if (pattern === '/admin/dead-letters/:id/resubmit' && res.body.status === 'PROPOSED') {
        // Four eyes: another operator approves the correction.
        const approve = `/admin/dead-letters/${corrected}/approve`;
        record('POST', '/admin/dead-letters/:id/approve', await send('POST', approve, op2, {}));
      }
    }

    // The errors of every route: no token, a read-only token on a changing route, unknown
    // ids, a malformed body, a body that is not JSON, one too large.
    const routes = registeredRoutes(app).filter(isApi);
    let errors = 0;
    for (const r of routes) {
      const changing = r.method !== 'GET';
      const cases: [Record<string, string>, unknown][] = [
        [{}, undefined],
        [op, changing ? { unexpected: 1 } : undefined],
      ];
      if (changing) cases.push([ro, {}]);
      for (const [headers, body] of cases) {
        const res = await send(r.method, r.path, headers, body);
        if (res.status >= 400) errors++;
        record(r.method, r.pattern, res);
      }
      if (changing && r.pattern.startsWith('/admin')) {
        const notJson = await send(r.method, r.path, { ...op, 'Content-Type': 'text/plain' }, 'x');
        const tooLarge = await send(r.method, r.path, op, { reason: 'x'.repeat(200 * 1024) });
        record(r.method, r.pattern, notJson);
        record(r.method, r.pattern, tooLarge);
        errors += 2;
      }
    }

    expect(wrong).toEqual([]);
    const without = routes.map((r) => `${r.method} ${r.pattern}`).filter((k) => !succeeded.has(k));
    expect(without).toEqual([]);
    process.stdout.write(
      `validated ${succeeded.size} routes' successes and ${errors} error answers against ${Object.keys(doc.components.schemas).length} component schemas\n`,
    );
  });
});

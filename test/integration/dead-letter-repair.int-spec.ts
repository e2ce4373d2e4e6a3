import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import type request from 'supertest';
import { DEAD_LETTER_ID_HEADER, publishResubmission } from '@settlement/activities';
import { startAdmin } from './support/admin';
import { openPipeline, waitFor, type Pipeline } from './support/apps';
import { count, openAccounts, txValue } from './support/fixtures';
import { temporalClient } from './support/temporal';
import { SEARCH_ATTRIBUTES } from '@settlement/contracts';
import { readTopic } from './support/kafka';

const ALICE = `alice-${randomBytes(16).toString('hex')}`;
const BOB = `bob-${randomBytes(16).toString('hex')}`;
const READER = `ro-${randomBytes(16).toString('hex')}`;

/**
 * Dead-letter repair through the real pipeline: bad messages produced to Kafka and
 * dead-lettered by the built ingest, repaired through the admin API (four eyes for
 * corrections), resubmitted through Kafka and settled by the built worker.
 */
describe('dead-letter repair (built ingest + worker, admin API, real stack)', () => {
  let pipeline: Pipeline;
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  const alice = { Authorization: `Bearer ${ALICE}` };
  const bob = { Authorization: `Bearer ${BOB}` };
  const ro = { Authorization: `Bearer ${READER}` };
  const run = randomBytes(3).toString('hex');
  const acc = (n: string) => `dlr-${run}-${n}`;

  beforeAll(async () => {
    pipeline = await openPipeline('dlrepair', { partitions: 2 });
    await pipeline.start('ingest');
    await openAccounts(pipeline.db.db, [
      { id: acc('funder'), overdraftLimit: 1_000_000n },
      { id: acc('a') },
      { id: acc('b') },
    ]);
    ({ app, http } = await startAdmin(pipeline.db.url, {
      ...pipeline.env,
      ADMIN_OPERATOR_TOKENS: `alice:${ALICE},bob:${BOB}`,
      ADMIN_READONLY_TOKENS: `auditor:${READER}`,
      RESUBMIT_RELAY_INTERVAL_MS: '1000',
      REDRIVE_MAX_PER_SECOND: '50',
    }));
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await pipeline?.close();
  });

  const produce = async (key: string | null, value: string | Buffer) =>
    pipeline.producer.send({
      topic: pipeline.topics.transactions,
      acks: -1,
      messages: [{ key, value }],
    });

  /** Every message of the transactions topic so far. */
  const readAll = async () => {
    const offsets = await pipeline.admin.fetchTopicOffsets(pipeline.topics.transactions);
    const n = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
    return readTopic(pipeline.kafka, pipeline.topics.transactions, n, 30_000);
  };
  const carrying = async (deadLetterId: string) =>
    (await readAll()).filter((m) => m.headers[DEAD_LETTER_ID_HEADER] === deadLetterId);

  /** The OPEN dead letter whose bytes contain `marker`, once ingest recorded it. */
  const deadLetterWith = (marker: string) =>
    waitFor(`dead letter ${marker}`, async () => {
      const res = await http.get('/admin/dead-letters?status=OPEN&limit=500').set(ro);
      expect(res.status).toBe(200);
      return (res.body.items as { id: string; payload: { text: string } }[]).find((d) =>
        d.payload.text.includes(marker),
      );
    });

  const settled = (id: string) =>
    waitFor(`outcome of ${id}`, async () => {
      const res = await http.get(`/admin/transactions/${id}`).set(ro);
      return res.status === 200 && res.body.status !== 'PENDING' ? res.body : undefined;
    });

  it('a correction proposed by one operator settles only once another approves it', async () => {
    const id = `dlr-${run}-fix`;
    // A decimal amount: SCHEMA_VIOLATION on field amount.
    const bad = txValue({ id, debit: acc('funder'), credit: acc('a'), amount: '12.50' });
    await produce(acc('funder'), bad);
    const dl = await deadLetterWith(id);
    const got = await http.get(`/admin/dead-letters/${dl.id}`).set(ro);
    expect(got.body).toMatchObject({
      status: 'OPEN',
      reason: 'SCHEMA_VIOLATION',
      field: 'amount',
      payload: { encoding: 'utf8', text: bad },
    });

    const corrected = txValue({ id, debit: acc('funder'), credit: acc('a'), amount: '1250' });
    // Read-only tokens change nothing.
    expect(
      (
        await http
          .post(`/admin/dead-letters/${dl.id}/resubmit`)
          .set(ro)
          .send({ correctedMessage: corrected })
      ).status,
    ).toBe(403);
    // A correction that is still invalid is refused with the field.
    const invalid = await http
      .post(`/admin/dead-letters/${dl.id}/resubmit`)
      .set(alice)
      .send({ correctedMessage: bad });
    expect(invalid.status).toBe(422);
    expect(invalid.body.message).toMatch(/amount/);

    const proposed = await http
      .post(`/admin/dead-letters/${dl.id}/resubmit`)
      .set(alice)
      .send({ correctedMessage: corrected });
    expect(proposed.status).toBe(202);
    expect(proposed.body).toMatchObject({ status: 'PROPOSED', proposedBy: 'alice' });
    expect((await http.get(`/admin/dead-letters/${dl.id}`).set(ro)).body.status).toBe('PROPOSED');

    const own = await http.post(`/admin/dead-letters/${dl.id}/approve`).set(alice).send({});
    expect(own.status).toBe(403);
    expect(own.body.message).toMatch(/four eyes/);
    // Nothing was published: the transaction has no outcome and the dead letter is PROPOSED.
    expect((await http.get(`/admin/transactions/${id}`).set(ro)).status).toBe(404);

    const approved = await http.post(`/admin/dead-letters/${dl.id}/approve`).set(bob).send({});
    expect(approved.status).toBe(202);
    expect(approved.body).toMatchObject({
      status: 'RESUBMITTED',
      proposedBy: 'alice',
      approvedBy: 'bob',
      transactionId: id,
    });
    expect(await settled(id)).toMatchObject({ status: 'SETTLED', amount: '1250' });

    // Linked to the message it produced and to its outcome.
    const after = await waitFor('the outcome link', async () => {
      const r = (await http.get(`/admin/dead-letters/${dl.id}`).set(ro)).body;
      return r.resubmission?.outcome ? r : undefined;
    });
    expect(after).toMatchObject({
      status: 'RESUBMITTED',
      proposal: { proposedBy: 'alice', approvedBy: 'bob' },
      resubmission: {
        corrected: true,
        transactionId: id,
        outcome: { status: 'SETTLED' },
        offset: expect.stringMatching(/^[0-9]+$/),
      },
    });
    const messages = await carrying(dl.id);
    expect(messages.map((m) => [m.key, m.value])).toEqual([[acc('funder'), corrected]]);

    // The audit log names proposer and approver.
    const audit = await pipeline.db.db.execute<{ actor: string; details: Record<string, unknown> }>(
      sql`select actor, details from audit_log where target = ${`dead-letter:${dl.id}`} and outcome = 'SUCCESS' order by id`,
    );
    expect(audit.map((a) => a.actor)).toEqual(['alice', 'bob']);
    expect(audit[1].details).toMatchObject({ proposedBy: 'alice', approvedBy: 'bob' });

    // A second resubmit, as is or corrected, is refused.
    for (const body of [{}, { correctedMessage: corrected }]) {
      const again = await http.post(`/admin/dead-letters/${dl.id}/resubmit`).set(alice).send(body);
      expect(again.status).toBe(409);
    }
  }, 120_000);

  it('refuses a correction whose transaction id already has an outcome, with the reason', async () => {
    const id = `dlr-${run}-taken`;
    await produce(
      acc('funder'),
      txValue({ id, debit: acc('funder'), credit: acc('b'), amount: '5' }),
    );
    await settled(id);
    await produce(acc('funder'), '{"id": "not json');
    const dl = await deadLetterWith('not json');
    const res = await http
      .post(`/admin/dead-letters/${dl.id}/resubmit`)
      .set(alice)
      .send({
        correctedMessage: txValue({ id, debit: acc('funder'), credit: acc('b'), amount: '7' }),
      });
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(new RegExp(`${id} already has an outcome: SETTLED`));
    expect((await http.get(`/admin/dead-letters/${dl.id}`).set(ro)).body.status).toBe('OPEN');

    // Written off with a reason, by one operator; nothing more can happen to it.
    expect(
      (await http.post(`/admin/dead-letters/${dl.id}/discard`).set(alice).send({})).status,
    ).toBe(400);
    const discarded = await http
      .post(`/admin/dead-letters/${dl.id}/discard`)
      .set(alice)
      .send({ reason: 'test garbage from a load test' });
    expect(discarded.status).toBe(200);
    expect(discarded.body).toMatchObject({ status: 'DISCARDED', discardedBy: 'alice' });
    expect(
      (await http.post(`/admin/dead-letters/${dl.id}/resubmit`).set(alice).send({})).status,
    ).toBe(409);
    const listed = await http.get('/admin/dead-letters?status=DISCARDED').set(ro);
    expect(listed.body.items.map((d: { id: string }) => d.id)).toContain(dl.id);
  }, 60_000);

  it('resubmits as is through Kafka with x-dead-letter-id; one that fails again links to its new dead letter', async () => {
    const garbage = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x3c, 0x62, 0x3e]); // not UTF-8
    await produce(null, garbage);
    const dl = await waitFor('the non-UTF-8 dead letter', async () => {
      const res = await http.get('/admin/dead-letters?status=OPEN&reason=MALFORMED_JSON').set(ro);
      return (res.body.items as { id: string; value: string }[]).find(
        (d) => d.value === garbage.toString('base64'),
      );
    });
    const shown = (await http.get(`/admin/dead-letters/${dl.id}`).set(ro)).body;
    expect(shown.payload).toEqual({ encoding: 'hex', text: garbage.toString('hex') });

    const res = await http.post(`/admin/dead-letters/${dl.id}/resubmit`).set(bob).send({});
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      status: 'RESUBMITTED',
      resubmittedBy: 'bob',
      published: true,
    });
    expect(
      (await http.post(`/admin/dead-letters/${dl.id}/resubmit`).set(alice).send({})).status,
    ).toBe(409);
    const linked = await waitFor('the new dead letter', async () => {
      const r = (await http.get(`/admin/dead-letters/${dl.id}`).set(ro)).body;
      return r.resubmission?.deadLetteredAgainAs ? r : undefined;
    });
    const again = (
      await http.get(`/admin/dead-letters/${linked.resubmission.deadLetteredAgainAs}`).set(ro)
    ).body;
    expect(again).toMatchObject({ status: 'OPEN', reason: 'MALFORMED_JSON', value: dl.value });
    expect(again.headers[DEAD_LETTER_ID_HEADER]).toBe(dl.id);
  }, 60_000);

  it('publishes a resubmission exactly once when the process died after sending', async () => {
    await produce(acc('a'), '[]');
    const dl = await deadLetterWith('[]');
    // The state change committed and the message was sent, but the process died before
    // marking it published: simulate by sending it ourselves and leaving the mark undone.
    await pipeline.db.db.execute(sql`
      insert into dead_letter_repairs (dead_letter_id, status, resubmitted_by, resubmitted_at,
        message_topic, message_key, message_value, message_headers, publish_attempts)
      values (${dl.id}::bigint, 'RESUBMITTED', 'alice', now(), ${pipeline.topics.transactions},
        ${acc('a')}, ${Buffer.from('[]').toString('base64')},
        ${JSON.stringify({ [DEAD_LETTER_ID_HEADER]: dl.id })}::jsonb, 1)`);
    await pipeline.producer.send({
      topic: pipeline.topics.transactions,
      messages: [{ key: acc('a'), value: '[]', headers: { [DEAD_LETTER_ID_HEADER]: dl.id } }],
    });
    const deps = { db: pipeline.db.db, kafka: pipeline.kafka, producer: pipeline.producer };
    expect(await publishResubmission(deps, dl.id)).toBe('found-earlier-attempt');
    expect(await publishResubmission(deps, dl.id)).toBe('not-claimed');
    expect(await carrying(dl.id)).toHaveLength(1);
    const row = await pipeline.db.db.execute<{ published: boolean; attempts: number }>(
      sql`select published_at is not null as published, publish_attempts as attempts
          from dead_letter_repairs where dead_letter_id = ${dl.id}::bigint`,
    );
    expect(row[0]).toEqual({ published: true, attempts: 2 });
  }, 60_000);

  it('re-drives OPEN dead letters in bulk: dry run, then a workflow, idempotent per dead letter', async () => {
    const ids = [1, 2, 3].map((i) => `dlr-${run}-rd${i}`);
    // Valid transactions with a wrong key: SCHEMA_VIOLATION on key; resubmitted as is they
    // fail again, which is fine here: the re-drive is what is under test.
    for (const id of ids) {
      await produce(
        'wrong-key',
        txValue({ id, debit: acc('funder'), credit: acc('a'), amount: '1' }),
      );
    }
    for (const id of ids) await deadLetterWith(id);
    const since = new Date(Date.now() - 120_000).toISOString();
    const filter = { reason: 'SCHEMA_VIOLATION', since };
    const open = await count(
      pipeline.db.db,
      'dead_letters',
      sql`reason = 'SCHEMA_VIOLATION' and not exists (select 1 from dead_letter_repairs r where r.dead_letter_id = dead_letters.id)`,
    );
    const dry = await http
      .post('/admin/dead-letters/redrive')
      .set(alice)
      .send({ filter, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, matched: open, resubmitted: open, skipped: 0 });
    expect(await count(pipeline.db.db, 'dead_letter_repairs', sql`redrive_id is not null`)).toBe(0);

    expect((await http.post('/admin/dead-letters/redrive').set(ro).send({ filter })).status).toBe(
      403,
    );
    const started = await http.post('/admin/dead-letters/redrive').set(alice).send({ filter });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({
      redriveId: expect.stringMatching(/^rdr-/),
      workflowId: expect.stringMatching(/^dead-letter-redrive-/),
      matched: open,
    });
    const done = await waitFor(
      're-drive completion',
      async () => {
        const r = await http.get(`/admin/dead-letters/redrives/${started.body.redriveId}`).set(ro);
        return r.body.status === 'COMPLETED' ? r.body : undefined;
      },
      60_000,
    );
    expect(done.counts).toEqual({ matched: open, resubmitted: open, skipped: 0, published: open });
    // Visible in the Temporal Web UI: summary, status attribute, progress sentence.
    const temporal = await temporalClient();
    // The row says COMPLETED from the workflow's last activity; the run closes right after.
    const handle = temporal.workflow.getHandle(started.body.workflowId);
    await handle.result();
    const described = await handle.describe();
    expect(described.status.name).toBe('COMPLETED');
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.status)).toBe('COMPLETED');
    expect(await described.staticSummary()).toMatch(
      /^re-drive rdr-.* OPEN dead letters \(reason SCHEMA_VIOLATION/,
    );
    await temporal.connection.close();
    // Each matched dead letter left OPEN once, through this re-drive.
    expect(
      await count(
        pipeline.db.db,
        'dead_letter_repairs',
        sql`redrive_id = ${started.body.redriveId} and published_at is not null`,
      ),
    ).toBe(open);
    const perDeadLetter = new Map<string, number>();
    for (const m of await readAll()) {
      const k = m.headers[DEAD_LETTER_ID_HEADER];
      if (k !== undefined) perDeadLetter.set(k, (perDeadLetter.get(k) ?? 0) + 1);
    }
    expect(perDeadLetter.size).toBeGreaterThanOrEqual(open);
    expect([...perDeadLetter.values()].every((n) => n === 1)).toBe(true);
  }, 120_000);
});

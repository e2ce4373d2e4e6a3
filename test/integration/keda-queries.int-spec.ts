import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { createTestDatabase, type TestDatabase } from './support/database';

const ROOT = path.resolve(__dirname, '../..');

interface Trigger {
  name: string;
  type: string;
  metadata: Record<string, string>;
}

const workerTrigger = (name: string): Trigger => {
  const so = parse(readFileSync(path.join(ROOT, 'k8s/base/keda-worker.yaml'), 'utf8'));
  const hit = (so.spec.triggers as Trigger[]).find((t) => t.name === name);
  if (!hit) throw new Error(`k8s/base/keda-worker.yaml has no trigger ${name}`);
  return hit;
};

/** Ingest's recent-batches trigger, as the local overlay's patch puts it in. */
const localIngestRecentBatches = (): Trigger => {
  const k = parse(readFileSync(path.join(ROOT, 'k8s/overlays/local/kustomization.yaml'), 'utf8'));
  for (const p of k.patches ?? []) {
    if (p.target?.name !== 'settlement-ingest') continue;
    for (const op of parse(p.patch) as { op: string; value?: Trigger }[])
      if (op.op === 'replace' && op.value?.name === 'recent-batches') return op.value;
  }
  throw new Error('k8s/overlays/local puts no recent-batches trigger on settlement-ingest');
};

/**
 * The queries KEDA's PostgreSQL triggers run, from the manifests, on the real PostgreSQL and
 * under the role of the app whose DATABASE_URL KEDA uses: what they count, and that
 * batches_status_idx can serve them.
 */
describe('KEDA PostgreSQL trigger queries', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('keda-queries');
    // Now: one batch of each status and a replayed one; two minutes ago: an old one.
    await db.client.unsafe(`
      insert into batches (id, topic, partition, from_offset, next_offset, workflow_id, status, replay_id, created_at)
      values ('b-pending', 'transactions', 0, 0, 10, 'wf-1', 'PENDING', null, now()),
             ('b-settled', 'transactions', 1, 0, 10, 'wf-2', 'SETTLED', null, now()),
             ('b-failed', 'transactions', 2, 0, 10, 'wf-3', 'FAILED', null, now()),
             ('b-replayed', 'transactions', 3, 0, 10, 'wf-4', 'SETTLED', 'replay-1', now()),
             ('b-old', 'transactions', 4, 0, 10, 'wf-5', 'SETTLED', null, now() - interval '2 minutes')`);
  });

  afterAll(async () => {
    await db?.drop();
  });

  /** The query's count as `role` (SET LOCAL ROLE, as the app's login role would). */
  async function countAs(role: string, query: string): Promise<number> {
    return db.client.begin(async (tx) => {
      await tx.unsafe(`set local role ${role}`);
      const [row] = await tx.unsafe<{ count: string }[]>(query);
      return Number(row.count);
    });
  }

  /** The plan with sequential scans off: whether the index can serve the query at all. */
  async function planOf(query: string): Promise<string> {
    return db.client.begin(async (tx) => {
      await tx.unsafe('set local enable_seqscan = off');
      const rows = await tx.unsafe<{ 'QUERY PLAN': string }[]>(`explain ${query}`);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
  }

  it("counts the worker's batches in flight and the batches formed within its window, replays included", async () => {
    const inFlight = workerTrigger('in-flight-batches').metadata.query;
    const recent = workerTrigger('recent-batches').metadata.query;
    expect(await countAs('settlement_worker', inFlight)).toBe(1);
    expect(await countAs('settlement_worker', recent)).toBe(4);
    expect(await planOf(recent)).toContain('batches_status_idx');
  });

  it("counts the batches ingest formed within its window, without replays (the local overlay's stand-in for Prometheus)", async () => {
    const recent = localIngestRecentBatches().metadata.query;
    expect(await countAs('settlement_ingest', recent)).toBe(3);
    expect(await planOf(recent)).toContain('batches_status_idx');
  });
});

import { readText } from './support';

/** docs/operations.md and the Grafana dashboard name metrics the apps really export. */

function registeredMetrics(): Set<string> {
  const source = readText('libs/observability/src/metrics.ts');
  return new Set([...source.matchAll(/name:\s*'([a-z_:]+)'/g)].map((m) => m[1]));
}
/** A histogram's series are <name>_bucket, _sum and _count. */
function baseName(series: string): string {
  return series.replace(/_(bucket|sum|count)$/, '');
}

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readText('docs/grafana/settlement-dashboard.json'));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const exprs: string[] = dashboard.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr));

  it('queries only metrics the apps export (plus kube-state-metrics and KEDA)', () => {
    const metrics = registeredMetrics();
    const used = exprs.flatMap((e) =>
      [...e.matchAll(/\b(settlement_[a-z_]+)/g)].map((m) => baseName(m[1])),
    );
    expect(used.length).toBeGreaterThan(0);
    expect([...new Set(used)].filter((m) => !metrics.has(m))).toEqual([]);
  });

  it.each([
    ['lag', 'settlement_ingest_consumer_lag'],
    ['inbound rate', 'settlement_ingest_messages_total'],
    ['batch latency', 'settlement_batch_settle_duration_seconds_bucket'],
    ['replicas', 'kube_deployment_status_replicas'],
    ['dead letters', 'settlement_dead_letters_total'],
  ])('has a panel for %s', (_what, metric) => {
    expect(exprs.some((e) => e.includes(metric))).toBe(true);
  });

  it('has unique panel ids and non-overlapping positions', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const ids = dashboard.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const cells = dashboard.panels.map((p: any) => `${p.gridPos.x},${p.gridPos.y}`);
    expect(new Set(cells).size).toBe(cells.length);
  });
});

describe('docs/operations.md', () => {
  const doc = readText('docs/operations.md');

  it.each([
    'Deploying to EKS, step by step',
    'Autoscaling: how KEDA decides',
    'Worked example: 1,000 messages per second',
    'Worked example: 100,000 messages per second',
    'Grafana dashboard',
    'Pausing and resuming consumption',
    'Dead letters',
    'Replay',
  ])('has the section "%s"', (title) => {
    expect(doc).toMatch(new RegExp(`^#+ ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
  });

  it('names only metrics the apps export', () => {
    const metrics = registeredMetrics();
    const used = [...doc.matchAll(/\b(settlement_[a-z_]+)/g)].map((m) => baseName(m[1]));
    expect([...new Set(used)].filter((m) => !metrics.has(m))).toEqual([]);
  });
});

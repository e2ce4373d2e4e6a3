/**
 * npm run bench:sweep: how the micro-batch path's cost grows (docs/benchmarks.md, "How cost
 * grows"). Runs `bench/run.js` with BENCH_ONLY=micro-batch once per point, accounts opened and
 * funded by SQL, and prints each point's JSON line with a `sweep` label. SWEEP_ONLY picks groups
 * (accounts,skew,batch,ledger), SWEEP_COUNT the transactions per point (50,000).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from '../scripts/apps-runner';

interface Point {
  group: 'accounts' | 'skew' | 'batch' | 'ledger';
  label: string;
  env: Record<string, string>;
}

const POINTS: Point[] = [
  { group: 'accounts', label: 'accounts=100', env: { BENCH_ACCOUNTS: '100' } },
  { group: 'accounts', label: 'accounts=10000', env: { BENCH_ACCOUNTS: '10000' } },
  { group: 'accounts', label: 'accounts=1000000', env: { BENCH_ACCOUNTS: '1000000' } },
  // 1 % of the accounts receive half the credits.
  { group: 'skew', label: 'hot-merchants', env: { BENCH_HOT_CREDIT_SHARE: '0.5' } },
  // One debit account sends a tenth of the transfers.
  { group: 'skew', label: 'hot-payer', env: { BENCH_HOT_DEBIT_SHARE: '0.1' } },
  { group: 'batch', label: 'batch=500', env: { BATCH_MAX_SIZE: '500' } },
  { group: 'batch', label: 'batch=2000', env: { BATCH_MAX_SIZE: '2000' } },
  { group: 'batch', label: 'batch=10000', env: { BATCH_MAX_SIZE: '10000' } },
  {
    group: 'ledger',
    label: 'postings=10000000',
    env: { BENCH_PREFILL_POSTINGS: '10000000', BENCH_LEDGER_CHECK: '1' },
  },
];

function main(): number {
  const only = process.env.SWEEP_ONLY?.split(',');
  const count = process.env.SWEEP_COUNT ?? '50000';
  let failed = 0;
  for (const point of POINTS) {
    if (only && !only.includes(point.group) && !only.includes(point.label)) continue;
    process.stderr.write(`[sweep] ${point.label}\n`);
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/bench/run.js')], {
      cwd: ROOT,
      env: {
        BENCH_ACCOUNTS: '10000',
        ...process.env,
        BENCH_ONLY: 'micro-batch',
        BENCH_COUNT: count,
        BENCH_FUNDING: 'sql',
        ...point.env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('{"scenario":"micro-batch"'));
    if (r.status !== 0 || !line) {
      failed++;
      process.stderr.write(`[sweep] ${point.label} failed (exit ${r.status})\n`);
      continue;
    }
    process.stdout.write(
      `${JSON.stringify({ sweep: point.label, ...(JSON.parse(line) as object) })}\n`,
    );
  }
  return failed > 0 ? 1 : 0;
}

process.exit(main());

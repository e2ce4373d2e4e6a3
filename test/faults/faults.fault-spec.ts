import { sql } from 'drizzle-orm';
import { openPipeline, type Pipeline, type RunningApp } from '../integration/support/apps';
import { openAccounts } from '../integration/support/fixtures';
import {
  countCopies,
  infraPid,
  restartInfra,
  rssMb,
  runLedgerCheck,
  runLoadgen,
  sleep,
  type Infra,
} from './support';

/**
 * The fault suite (npm run test:faults; docs/reliability.md). On a stack instance of its own,
 * under paced load of every message kind from the built loadgen, it kills -9 in turn the
 * ingest, the worker, Kafka, Temporal and the PostgreSQL postmaster, restarts it after a
 * short outage, and then requires: every message's outcome reconciled exactly by kind,
 * `ledger:check` clean, every outcome on the `settlements` and dead-letter topics (copies
 * counted), and prints the recovery time. Then a soak at half the measured capacity shows
 * whether ingest's and the worker's memory stay flat. A report table closes the run.
 */

const RATE = Number(process.env.FAULTS_RATE ?? 400);
const LOAD_SECONDS = Number(process.env.FAULTS_LOAD_SECONDS ?? 20);
const OUTAGE_MS = Number(process.env.FAULTS_OUTAGE_MS ?? 3000);
const SOAK_SECONDS = Number(process.env.FAULTS_SOAK_SECONDS ?? 75);
const ACCOUNTS = '200';

interface Row {
  fault: string;
  messages: number;
  restartS: string;
  recoveryS: string;
  reconciled: string;
  ledgerCheck: string;
  settlementCopies: string;
  dlqCopies: string;
  appRestarts: number;
}
const report: Row[] = [];
type Supervised = RunningApp & { killedOnPurpose?: boolean };
const soakLines: string[] = [];

describe('fault suite: kill -9 under load, on its own stack', () => {
  let pipeline: Pipeline;
  const apps: Record<'ingest' | 'worker', Supervised | undefined> = {
    ingest: undefined,
    worker: undefined,
  };
  let restarts = 0;
  let supervising = true;

  /** Restarts an app that exited on its own, as its orchestrator would (counted in the report). */
  function supervise(name: 'ingest' | 'worker', app: Supervised): void {
    apps[name] = app;
    void app.exited.then(async () => {
      if (!supervising || apps[name] !== app || app.killedOnPurpose) return;
      restarts++;
      await sleep(1000);
      if (supervising) supervise(name, await startWithRetry(name));
    });
  }

  async function startWithRetry(name: 'ingest' | 'worker'): Promise<Supervised> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await pipeline.start(name, `faults-${name}`);
      } catch (err) {
        if (attempt >= 5) throw err;
        await sleep(2000);
      }
    }
  }

  beforeAll(async () => {
    pipeline = await openPipeline('faults', {
      partitions: 4,
      extra: { LOG_LEVEL: 'warn' },
    });
    await openAccounts(pipeline.db.db, [
      { id: 'probe-bank', overdraftLimit: 10n ** 18n },
      { id: 'probe-shop' },
    ]);
    supervise('worker', pipeline.apps[0]);
    supervise('ingest', await startWithRetry('ingest'));
  }, 300_000);

  afterAll(async () => {
    supervising = false;
    printReport();
    await pipeline?.close().catch(() => undefined);
  }, 120_000);

  const loadEnv = () => ({
    DATABASE_URL: pipeline.env.DATABASE_URL,
    KAFKA_TOPIC: pipeline.env.KAFKA_TOPIC,
  });

  /**
   * Recovery probe: one valid transaction published once the killed part is back, timed
   * until the ledger holds it, so the figure covers the whole path (consume, start, settle).
   */
  let probes = 0;
  async function probeSettledAt(timeoutMs = 300_000): Promise<number> {
    const id = `probe-${++probes}`;
    const deadline = Date.now() + timeoutMs;
    const value = JSON.stringify({
      id,
      debitAccount: 'probe-bank',
      creditAccount: 'probe-shop',
      amount: '1',
      currency: 'EUR',
      occurredAt: new Date().toISOString(),
    });
    for (;;) {
      try {
        await pipeline.producer.send({
          topic: pipeline.env.KAFKA_TOPIC,
          acks: -1,
          messages: [{ key: 'probe-bank', value }],
        });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(250);
      }
    }
    for (;;) {
      const rows = await pipeline.db.db
        .execute<{ n: string }>(sql`select count(*)::text as n from transactions where id = ${id}`)
        .catch(() => [{ n: '0' }]);
      if (rows[0].n === '1') return Date.now();
      if (Date.now() > deadline) throw new Error(`probe ${id} not settled within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  async function kill(target: string): Promise<void> {
    if (target === 'ingest' || target === 'worker') {
      const app = apps[target] as Supervised;
      app.killedOnPurpose = true;
      await app.kill();
      return;
    }
    process.kill(infraPid(target as Infra), 'SIGKILL');
  }

  async function bringBack(target: string): Promise<void> {
    if (target === 'ingest' || target === 'worker') supervise(target, await startWithRetry(target));
    else restartInfra();
  }

  async function outboxDrained(): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const rows = await pipeline.db.db.execute<{ n: string }>(
        sql`select count(*)::text as n from outbox where published_at is null`,
      );
      if (rows[0].n === '0') return;
      if (Date.now() > deadline) throw new Error(`${rows[0].n} outbox rows never published`);
      await sleep(500);
    }
  }

  it.each(['ingest', 'worker', 'kafka', 'temporal', 'postgres'])(
    'kill -9 of %s under load: every outcome exactly once, ledger clean, recovery printed',
    async (target) => {
      const restartsBefore = restarts;
      const load = runLoadgen(loadEnv(), [
        '--accounts',
        ACCOUNTS,
        '--rate',
        String(RATE),
        '--count',
        String(RATE * LOAD_SECONDS),
        '--wait',
        '300',
        '--seed',
        String(target.length),
      ]);
      await load.publishing;
      await sleep((LOAD_SECONDS * 1000) / 3);
      await kill(target);
      await sleep(OUTAGE_MS);
      const launchedAt = Date.now();
      await bringBack(target);
      const readyAt = Date.now();
      const resumedAt = await probeSettledAt();
      const { code, summary, stderr } = await load.done;
      const row: Row = {
        fault: `kill -9 ${target}`,
        messages: summary?.expected.total ?? 0,
        restartS: ((readyAt - launchedAt) / 1000).toFixed(1),
        recoveryS: ((resumedAt - launchedAt) / 1000).toFixed(1),
        reconciled: summary?.reconciled ? 'exact' : 'NO',
        ledgerCheck: '-',
        settlementCopies: '-',
        dlqCopies: '-',
        appRestarts: restarts - restartsBefore,
      };
      report.push(row);
      expect({
        code,
        reconciled: summary?.reconciled,
        stderr: summary ? '' : stderr.slice(-2000),
      }).toEqual({
        code: 0,
        reconciled: true,
        stderr: '',
      });

      await outboxDrained();
      const check = await runLedgerCheck({
        DATABASE_URL: pipeline.env.DATABASE_URL,
        KAFKA_GROUP_ID: pipeline.env.KAFKA_GROUP_ID,
      });
      row.ledgerCheck = check.code === 0 ? 'clean' : `exit ${check.code}`;
      expect({ code: check.code, report: check.code === 0 ? '' : check.report }).toEqual({
        code: 0,
        report: '',
      });

      const runId = (summary as { runId: string }).runId;
      const outcomes = await pipeline.db.db.execute<{ tx: string; dl: string }>(sql`
        select (select count(*) from transactions where id like ${`${runId}-%`})::text as tx,
               (select count(*) from dead_letters where key like ${`${runId}-%`})::text as dl`);
      const settlements = await countCopies(
        pipeline.kafka,
        pipeline.env.KAFKA_OUTCOME_TOPIC,
        runId,
        'key',
      );
      const dlq = await countCopies(pipeline.kafka, pipeline.env.KAFKA_DLQ_TOPIC, runId, 'source');
      row.settlementCopies = `${settlements.messages}/${settlements.distinct} (+${settlements.messages - settlements.distinct})`;
      row.dlqCopies = `${dlq.messages}/${dlq.distinct} (+${dlq.messages - dlq.distinct})`;
      // Every outcome reached its topic at least once; extra copies are counted, not hidden.
      expect({ settlements: settlements.distinct, dlq: dlq.distinct }).toEqual({
        settlements: Number(outcomes[0].tx),
        dlq: Number(outcomes[0].dl),
      });
    },
  );

  it('keeps ingest and worker memory flat in a soak at half the measured capacity', async () => {
    // Capacity: a burst of valid messages as fast as loadgen sends them, settled per second.
    const noInvalid = [
      '--malformed',
      '0',
      '--schema',
      '0',
      '--too-large',
      '0',
      '--duplicates',
      '0',
    ];
    const valid = [...noInvalid, '--conflicts', '0', '--insufficient', '0', '--unknown', '0'];
    const probe = runLoadgen(loadEnv(), [
      '--accounts',
      ACCOUNTS,
      '--count',
      '20000',
      '--wait',
      '300',
      ...valid,
    ]);
    const probeStart = await probe.publishing;
    const probed = await probe.done;
    expect(probed.summary?.reconciled).toBe(true);
    const lastSettled = await pipeline.db.db.execute<{ at: string }>(
      sql`select (extract(epoch from max(settled_at)) * 1000)::bigint::text as at from batches where status = 'SETTLED'`,
    );
    const capacity = Math.round(20000 / ((Number(lastSettled[0].at) - probeStart) / 1000));
    const rate = Math.max(50, Math.floor(capacity / 2));

    const samples: { t: number; ingest?: number; worker?: number }[] = [];
    const soak = runLoadgen(loadEnv(), [
      '--accounts',
      ACCOUNTS,
      '--rate',
      String(rate),
      '--duration',
      String(SOAK_SECONDS),
      '--wait',
      '300',
    ]);
    const soakStart = await soak.publishing;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push({
          t: Math.round((Date.now() - soakStart) / 1000),
          ingest: rssMb(apps.ingest?.child.pid),
          worker: rssMb(apps.worker?.child.pid),
        });
        await sleep(Math.max(1000, (SOAK_SECONDS * 1000) / 30));
      }
    })();
    const soaked = await soak.done;
    sampling = false;
    await sampler;
    expect(soaked.summary?.reconciled).toBe(true);

    // Flat: the last third of the run holds no more than the middle third plus a margin for
    // a collection cycle (V8 grows its heap in steps; a leak grows with every message).
    const during = samples.filter((s) => s.t <= SOAK_SECONDS);
    const third = Math.max(1, Math.floor(during.length / 3));
    const peak = (xs: typeof samples, k: 'ingest' | 'worker') =>
      Math.max(...xs.map((s) => s[k] ?? 0));
    for (const k of ['ingest', 'worker'] as const) {
      const middle = peak(during.slice(third, 2 * third), k);
      const last = peak(during.slice(2 * third), k);
      const series = during.map((s) => s[k] ?? 0);
      soakLines.push(
        `${k}: RSS MiB at start ${series[0]}, middle-third peak ${middle}, last-third peak ${last} ` +
          `(${during.length} samples over ${SOAK_SECONDS} s at ${rate}/s of a measured ${capacity}/s)`,
      );
      expect({ k, last: last <= middle * 1.25 + 24 }).toEqual({ k, last: true });
    }
    report.push({
      fault: `soak ${SOAK_SECONDS} s at ${rate}/s`,
      messages: soaked.summary?.expected.total ?? 0,
      restartS: '-',
      recoveryS: '-',
      reconciled: soaked.summary?.reconciled ? 'exact' : 'NO',
      ledgerCheck: '-',
      settlementCopies: '-',
      dlqCopies: '-',
      appRestarts: 0,
    });
    const check = await runLedgerCheck({
      DATABASE_URL: pipeline.env.DATABASE_URL,
      KAFKA_GROUP_ID: pipeline.env.KAFKA_GROUP_ID,
    });
    report[report.length - 1].ledgerCheck = check.code === 0 ? 'clean' : `exit ${check.code}`;
    expect(check.code).toBe(0);
  });
});

function printReport(): void {
  const header: Row = {
    fault: 'fault',
    messages: 0,
    restartS: 'ready s',
    recoveryS: 'recovery s',
    reconciled: 'outcomes',
    ledgerCheck: 'ledger:check',
    settlementCopies: 'settlements sent/distinct',
    dlqCopies: 'dlq sent/distinct',
    appRestarts: 0,
  };
  const cells = (r: Row, h = false) => [
    r.fault,
    h ? 'messages' : String(r.messages),
    r.restartS,
    r.recoveryS,
    r.reconciled,
    r.ledgerCheck,
    r.settlementCopies,
    r.dlqCopies,
    h ? 'app restarts' : String(r.appRestarts),
  ];
  const rows = [cells(header, true), ...report.map((r) => cells(r))];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const out = [
    '',
    `fault suite report: each part killed -9 under load, replaced after ${OUTAGE_MS / 1000} s; ready: ` +
      'replacement launched until ready; recovery: launched until a probe transaction sent then is settled',
    line(rows[0]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
    ...soakLines,
    '',
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

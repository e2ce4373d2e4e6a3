/* The main job end to end (npm run demo): stack up, build, migrate, start the apps (each as its
 * own database login role), open accounts, publish a synthetic load, wait until every message has an outcome, print a
 * summary that reconciles with what was sent, stop the apps. */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '@settlement/config';
import type { CycleReport } from '@settlement/contracts';
import { createDatabase } from '@settlement/db';
import { createKafka, KeyHashPartitioner } from '@settlement/kafka';
import { createLogger } from '@settlement/observability';
import {
  LoadGenerator,
  openAccounts,
  publish,
  sendAll,
  waitForIds,
  waitForOutcomes,
} from '@settlement/loadgen';
import {
  appLoginEnv,
  appNames,
  localEnv,
  ROOT,
  spawnApp,
  stopAll,
  waitHealthy,
  type Child,
} from './apps-runner';

const say = (s: string) => process.stderr.write(`[demo] ${s}\n`);

/**
 * Closes a settlement cycle right after the load (an operator's POST /admin/cycles; the
 * Schedule cuts off every minute as well) and waits until it has completed: its window,
 * transaction count and per-currency totals go into the summary.
 */
async function settlementCycle(adminUrl: string, token: string): Promise<CycleReport> {
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${adminUrl}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const cutoff = new Date(Math.ceil((Date.now() + 1) / 1000) * 1000);
  await new Promise((r) => setTimeout(r, cutoff.getTime() - Date.now() + 50));
  say(`closing a settlement cycle at ${cutoff.toISOString()}`);
  const started = await call('/admin/cycles', {
    method: 'POST',
    body: JSON.stringify({ cutoff: cutoff.toISOString() }),
  });
  // 409: a scheduled cycle cut off later in the meantime; it covers the load as well.
  const cycleId =
    started.status === 202
      ? String(started.body.cycleId)
      : String(
          ((await call('/admin/cycles?limit=1')).body.items as { cycleId: string }[])[0].cycleId,
        );
  const deadline = Date.now() + 600_000;
  for (;;) {
    const { body } = await call(`/admin/cycles/${cycleId}`);
    const cycle = body as unknown as CycleReport;
    if (cycle.status === 'COMPLETED' || cycle.status === 'FAILED') return cycle;
    if (Date.now() > deadline) throw new Error(`cycle ${cycleId} is still ${cycle.status}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function run(cmd: string, args: string[]): void {
  say(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
}

async function main(): Promise<void> {
  const count = Number(process.env.DEMO_COUNT ?? 50_000);
  const accounts = Number(process.env.DEMO_ACCOUNTS ?? 1_000);
  if (process.env.DEMO_SKIP_SETUP !== '1') {
    run('npm', ['run', '--silent', 'stack:up']);
    run('npm', ['run', '--silent', 'build']);
    run('npm', ['run', '--silent', 'db:migrate']);
  }
  const config = loadConfig(['kafka', 'database']);
  const env = localEnv({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  const envOf = await appLoginEnv(env);
  const children: Child[] = appNames().map((name) => spawnApp(name, envOf(name), 'inherit'));
  const stop = () => stopAll(children);
  process.on('SIGINT', () => void stop().then(() => process.exit(130)));
  const database = createDatabase({
    url: config.DATABASE_URL,
    poolMax: 2,
    applicationName: 'demo',
  });
  const kafka = createKafka(config, createLogger('demo', 'warn'), 'demo');
  const producer = kafka.producer({ createPartitioner: KeyHashPartitioner });
  try {
    await waitHealthy(Number(process.env.WORKER_HTTP_PORT ?? 3002));
    await waitHealthy(Number(process.env.INGEST_HTTP_PORT ?? 3001));
    await waitHealthy(Number(process.env.ADMIN_PORT ?? 3000));
    say(`apps up: ${children.map((c) => `${c.name} (pid ${c.proc.pid})`).join(', ')}`);
    await producer.connect();
    const runId = `demo${randomBytes(3).toString('hex')}`;
    const gen = new LoadGenerator({ runId, accounts });
    const since = new Date();
    say(`opening ${accounts} accounts (+ ${gen.poor.length} unfunded, + bank ${gen.bank})`);
    await openAccounts(database.db, gen);
    const funding = gen.fundingMessages();
    await sendAll(producer, config.KAFKA_TOPIC, funding);
    await waitForIds(
      database.db,
      funding.map((m) => m.id!),
      300_000,
    );
    say(`funded; publishing ${count} messages (valid, invalid, duplicates, conflicts, rejects)`);
    const started = Date.now();
    await publish(producer, () => gen.next(), { topic: config.KAFKA_TOPIC, count });
    const expected = gen.expected();
    say('waiting until every message has an outcome');
    const actual = await waitForOutcomes(
      database.db,
      runId,
      config.KAFKA_TOPIC,
      since,
      expected,
      600_000,
    );
    const seconds = (Date.now() - started) / 1000;
    const reconciled = JSON.stringify(actual) === JSON.stringify(expected);
    const cycle = await settlementCycle(
      `http://127.0.0.1:${process.env.ADMIN_PORT ?? 3000}`,
      env.ADMIN_TOKEN ?? '',
    );
    const summary = {
      runId,
      sent: gen.sent,
      outcomes: actual,
      expected,
      reconciled,
      seconds: Number(seconds.toFixed(1)),
      messagesPerSecond: Math.round((count / seconds) * 10) / 10,
      temporalUi: 'http://127.0.0.1:8233/namespaces/default/workflows',
      cycle,
    };
    const line = (k: string, v: number | string) =>
      process.stdout.write(`  ${k.padEnd(28)} ${v}\n`);
    process.stdout.write(
      `\nDemo run ${runId}: ${expected.total} messages (incl. ${funding.length} funding)\n`,
    );
    line('SETTLED', actual.settled);
    line('REJECTED INSUFFICIENT_FUNDS', actual.rejected.INSUFFICIENT_FUNDS);
    line('REJECTED UNKNOWN_ACCOUNT', actual.rejected.UNKNOWN_ACCOUNT);
    for (const [k, v] of Object.entries(actual.deadLettered)) line(`DEAD-LETTERED ${k}`, v);
    line('DUPLICATE (no effect)', actual.duplicates);
    line('total outcomes', `${actual.total} of ${expected.total} sent`);
    line('reconciled with loadgen', reconciled ? 'yes, exactly' : 'NO');
    line('throughput', `${summary.messagesPerSecond} messages/s over ${summary.seconds} s`);
    line(
      `settlement cycle ${cycle.cycleId}`,
      `${cycle.status}${cycle.error ? ` (${cycle.error})` : ''}`,
    );
    line('  window', `(${cycle.windowStart}, ${cycle.cutoff}]`);
    line('  transactions settled', cycle.transactions);
    for (const [currency, t] of Object.entries(cycle.totals))
      line(`  ${currency} totals`, `debits ${t.debits}, credits ${t.credits}`);
    line(
      '  in the Temporal Web UI',
      `${summary.temporalUi}/${encodeURIComponent(cycle.workflowId)}`,
    );
    line('Temporal Web UI', summary.temporalUi);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (!reconciled || cycle.status !== 'COMPLETED') process.exitCode = 2;
  } finally {
    await producer.disconnect().catch(() => undefined);
    await database.close();
    say('stopping the apps');
    await stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[demo] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

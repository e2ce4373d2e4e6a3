/* npm run ledger:check: the operator's reconciliation of the whole ledger (docs/reliability.md).
 * Prints one line per check and exits 0 when all pass, 1 on any breach, 2 when a check could
 * not run (database or Kafka unreachable). */
import { parseArgs } from 'node:util';
import { loadConfig } from '@settlement/config';
import {
  checkLedger,
  createDatabase,
  cursorTopics,
  type Database,
  type LedgerCheckResult,
} from '@settlement/db';
import { createKafka } from '@settlement/kafka';
import { createLogger } from '@settlement/observability';

const HELP = `ledger:check: reconciles the whole ledger; exit 0 clean, 1 breach, 2 could not check

  npm run ledger:check -- [options]

  --orphan-after S    a PENDING batch older than S seconds is an orphan (default 300)
  --outbox-after S    an outbox row unpublished for S seconds is stale (default 120)
  --samples N         breaching rows listed per check (default 10)
  --no-kafka          skip the cursor check against the consumer group's committed offsets
  --json              one JSON object instead of the table
Environment: DATABASE_URL, KAFKA_BROKERS, KAFKA_GROUP_ID.`;

const out = (s: string) => process.stdout.write(`${s}\n`);

async function committedOffsets(
  config: ReturnType<typeof loadConfig<['kafka']>>,
  db: Database,
): Promise<Map<string, bigint>> {
  const topics = await cursorTopics(db);
  const committed = new Map<string, bigint>();
  if (topics.length === 0) return committed;
  const admin = createKafka(config, createLogger('ledger-check', 'error'), 'ledger-check').admin();
  await admin.connect();
  try {
    const groups = await admin.fetchOffsets({ groupId: config.KAFKA_GROUP_ID, topics });
    for (const g of groups)
      for (const p of g.partitions)
        if (p.offset !== '' && BigInt(p.offset) >= 0n)
          committed.set(`${g.topic}/${p.partition}`, BigInt(p.offset));
  } finally {
    await admin.disconnect();
  }
  return committed;
}

function printReport(results: LedgerCheckResult[], target: string, ms: number): void {
  out(`ledger check of ${target} at ${new Date().toISOString()}`);
  for (const r of results) {
    const label = r.status === 'PASSED' ? 'ok' : r.status === 'BREACHED' ? 'BREACH' : 'NOT RUN';
    const count = r.status === 'BREACHED' ? ` (${r.breaches})` : '';
    out(`  ${label.padEnd(8)}${r.name.padEnd(14)}${r.rule}${count}  [${r.ms} ms]`);
    for (const s of r.samples) out(`            - ${s}`);
    if (r.breaches > r.samples.length)
      out(`            ... and ${r.breaches - r.samples.length} more`);
    for (const n of r.notes) out(`            note: ${n}`);
  }
  const breached = results.filter((r) => r.status === 'BREACHED').length;
  const notRun = results.filter((r) => r.status === 'NOT_RUN').length;
  out(
    `${results.length} checks: ${results.length - breached - notRun} passed, ${breached} breached, ${notRun} not run in ${ms} ms`,
  );
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'orphan-after': { type: 'string', default: '300' },
      'outbox-after': { type: 'string', default: '120' },
      samples: { type: 'string', default: '10' },
      'no-kafka': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    out(HELP);
    return 0;
  }
  const config = loadConfig(['kafka', 'database']);
  const database = createDatabase({
    url: config.DATABASE_URL,
    poolMax: 1,
    applicationName: 'ledger-check',
  });
  const started = Date.now();
  try {
    let committed: Map<string, bigint> | undefined;
    let kafkaError: string | undefined;
    if (!values['no-kafka']) {
      committed = await committedOffsets(config, database.db).catch((err: Error) => {
        kafkaError = `Kafka: ${err.message}`;
        return undefined;
      });
    }
    const results = await checkLedger(database.db, {
      orphanAfterMs: Number(values['orphan-after']) * 1000,
      outboxStaleAfterMs: Number(values['outbox-after']) * 1000,
      sampleLimit: Number(values.samples),
      committedOffsets: committed,
    });
    if (kafkaError) results.find((r) => r.name === 'cursors')?.notes.push(kafkaError);
    const ms = Date.now() - started;
    const target = new URL(config.DATABASE_URL);
    if (values.json) out(JSON.stringify({ ms, results }));
    else printReport(results, `${target.host}${target.pathname}`, ms);
    if (results.some((r) => r.status === 'BREACHED')) return 1;
    // A skipped check is not a pass, unless the operator asked to skip it.
    return kafkaError ? 2 : 0;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // drizzle wraps the driver's error: its cause says what went wrong (refused, no such database).
    const cause = (err as Error).cause as Error | undefined;
    const reason = cause?.message ?? (err as Error).message ?? String(err);
    process.stderr.write(`ledger:check could not run: ${reason}\n`);
    process.exit(2);
  },
);

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Kafka } from 'kafkajs';
import { DLQ_HEADERS } from '@settlement/contracts';
import { ROOT } from '../integration/support/apps';

/**
 * Helpers of the fault suite: the suite's own stack instance (scripts/test-faults.sh sets
 * STACK_STATE_DIR and the STACK_*_PORT overrides), the built loadgen and ledger:check as
 * child processes, resident memory from /proc, and copies counted on the output topics.
 */

export type Infra = 'kafka' | 'temporal' | 'postgres';

/** The pid the stack recorded for an infrastructure process of THIS suite's stack. */
export function infraPid(name: Infra): number {
  const dir = process.env.STACK_STATE_DIR;
  if (!dir || path.resolve(dir) === path.resolve(ROOT, '.stack') || !process.env.STACK_PG_PORT) {
    throw new Error('the fault suite runs only on its own stack (npm run test:faults)');
  }
  return Number(readFileSync(path.join(dir, 'pids', `${name}.pid`), 'utf8').trim());
}

/** up.sh is idempotent: it starts only what is not running, and returns once all is healthy. */
export function restartInfra(): void {
  const r = spawnSync('bash', [path.join(ROOT, 'scripts/stack/up.sh')], {
    cwd: ROOT,
    env: process.env,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`stack:up failed (${r.status}): ${r.stderr.slice(-2000)}`);
}

/** Resident set of a live process in MiB (VmRSS), undefined when it is gone. */
export function rssMb(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

export interface LoadgenRun {
  /** Resolves when loadgen starts publishing (accounts opened and funded). */
  publishing: Promise<number>;
  /** Its JSON summary and exit code. */
  done: Promise<{ code: number | null; summary: LoadgenSummary | undefined; stderr: string }>;
}

export interface LoadgenSummary {
  runId: string;
  expected: { total: number };
  actual?: { total: number };
  reconciled?: boolean;
  elapsedMs?: number;
}

/** The built load generator against the suite's stack, waiting for every outcome at the end. */
export function runLoadgen(env: Record<string, string>, args: string[]): LoadgenRun {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'dist/apps/loadgen/src/main.js'), ...args],
    {
      cwd: ROOT,
      env: { ...process.env, ...env, LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  let onPublishing: (at: number) => void = () => undefined;
  const publishing = new Promise<number>((resolve) => (onPublishing = resolve));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.includes('publishing')) onPublishing(Date.now());
  });
  const done = new Promise<{
    code: number | null;
    summary: LoadgenSummary | undefined;
    stderr: string;
  }>((resolve) =>
    child.on('close', (code) => {
      onPublishing(Date.now());
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let summary: LoadgenSummary | undefined;
      try {
        summary = JSON.parse(last) as LoadgenSummary;
      } catch {
        summary = undefined;
      }
      resolve({ code, summary, stderr });
    }),
  );
  return { publishing, done };
}

/** The built `npm run ledger:check` against the suite's database and consumer group. */
export function runLedgerCheck(
  env: Record<string, string>,
): Promise<{ code: number | null; report: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/scripts/ledger-check.js')], {
      cwd: ROOT,
      env: { ...process.env, ...env, LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let report = '';
    child.stdout.on('data', (d: Buffer) => (report += d.toString()));
    child.stderr.on('data', (d: Buffer) => (report += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, report }));
  });
}

export interface TopicCopies {
  /** Messages of the run on the topic. */
  messages: number;
  /** Distinct outcomes among them (transaction id, or source partition/offset for dead letters). */
  distinct: number;
}

/**
 * Reads a whole topic up to its current end and counts the run's messages and how many
 * distinct outcomes they carry: the difference is the copies a crash window re-sent.
 */
export async function countCopies(
  kafka: Kafka,
  topic: string,
  runId: string,
  identity: 'key' | 'source',
): Promise<TopicCopies> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(
    ends
      .filter((e) => BigInt(e.high) > BigInt(e.low))
      .map((e) => [e.partition, BigInt(e.high) - 1n]),
  );
  const seen = new Set<string>();
  let messages = 0;
  if (remaining.size === 0) return { messages, distinct: 0 };
  const consumer = kafka.consumer({ groupId: `faults-reader-${Date.now()}-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reading ${topic} timed out`)), 120_000);
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const key = m.key?.toString() ?? '';
          if (key.startsWith(`${runId}-`)) {
            messages++;
            const header = (name: string) => m.headers?.[name]?.toString() ?? '';
            seen.add(
              identity === 'key'
                ? key
                : `${header(DLQ_HEADERS.sourcePartition)}/${header(DLQ_HEADERS.sourceOffset)}`,
            );
          }
          const last = remaining.get(batch.partition);
          if (last !== undefined && BigInt(m.offset) >= last) remaining.delete(batch.partition);
        }
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return { messages, distinct: seen.size };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

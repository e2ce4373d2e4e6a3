import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { defaults } from '@settlement/config';
import { appDatabaseUrl, ensureAppLogins, type AppName } from '@settlement/db';

/** Runs the built apps (dist/) as child processes; shared by start-all, demo and bench. */
export const ROOT = path.resolve(__dirname, '..', '..');

export interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
}

export function appNames(): string[] {
  return ['worker', 'ingest', 'admin'];
}

/** Locally a settlement cycle cuts off every minute, so `npm start` and the demo show cycles. */
export const LOCAL_CYCLE_CRON = '@every 1m';

/**
 * The local scripts' environment: when no admin token is configured (CONTRACT.md), one is
 * generated for this run and printed, so the admin API starts and an operator can use it.
 */
export function localEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...base };
  env.SETTLEMENT_CYCLE_CRON ||= LOCAL_CYCLE_CRON;
  if (!env.ADMIN_TOKEN && !env.ADMIN_OPERATOR_TOKENS && !env.ADMIN_READONLY_TOKENS) {
    env.ADMIN_TOKEN = randomBytes(24).toString('hex');
    console.error(`[settlement] ADMIN_TOKEN was unset; generated for this run: ${env.ADMIN_TOKEN}`);
  }
  return env;
}

/**
 * Each app connects as its own least-privilege login role (docs/security.md), at the database
 * of DATABASE_URL, the owner's URL that the migrations use. Makes the login roles where missing
 * (the database must be migrated) and returns the environment of each app.
 */
export async function appLoginEnv(
  env: NodeJS.ProcessEnv,
): Promise<(name: string) => NodeJS.ProcessEnv> {
  const ownerUrl = env.DATABASE_URL || defaults.DATABASE_URL;
  await ensureAppLogins(ownerUrl);
  return (name) => ({ ...env, DATABASE_URL: appDatabaseUrl(ownerUrl, name as AppName) });
}

/**
 * V8 heap caps per app (MiB of old space): the heap is what grows with load (batches in
 * hand), so capping it bounds the resident set at any lag - worker ~ 170 MiB of native memory
 * (Node, Temporal's core, the workflow thread) plus its heap; ingest ~ 110 MiB plus its heap.
 * Deployments set the same through NODE_OPTIONS (k8s/base). Measured in docs/benchmarks.md.
 */
export const APP_HEAP_MB: Readonly<Record<string, number>> = { worker: 192, ingest: 128 };
/**
 * Young generation per app (MiB per semi-space): with a small old space V8 also shrinks the
 * young generation, and the apps' per-batch garbage then costs a quarter of their CPU in
 * scavenges (profiled); set back near Node's default.
 */
export const APP_SEMI_SPACE_MB: Readonly<Record<string, number>> = { worker: 16, ingest: 8 };

/**
 * V8 flags of the worker and ingest, on the command line (Node refuses them in NODE_OPTIONS):
 * garbage collection on the app's own thread. On two busy cores the collector's helper threads
 * only compete with the apps and PostgreSQL for the same CPU: collecting on the main thread
 * cost the worker and ingest 12-20 % less CPU per transaction (docs/benchmarks.md), for longer
 * pauses of the main thread. k8s/base and docker-compose.yml run the same command (test/static
 * checks it).
 */
export const APP_NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  worker: ['--single-threaded-gc'],
  ingest: ['--single-threaded-gc'],
};

/**
 * The C library's settings for every app: two malloc arenas instead of glibc's eight per core.
 * Temporal's core (Rust threads), the workflow thread and libuv's pool each got an arena of
 * their own, and memory freed there stayed resident. The Dockerfile sets the same for the
 * images (test/static checks it); a value in the environment wins. Measured in
 * docs/benchmarks.md.
 */
export const APP_NATIVE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/**
 * The Node.js options an app runs with wherever it is started (the local scripts, the bench,
 * the integration and fault suites): its heap caps, unless `env` or `nodeArgs` set their own,
 * and its V8 flags, then `nodeArgs`.
 */
export function appNodeOptions(
  name: string,
  env: NodeJS.ProcessEnv,
  nodeArgs: readonly string[] = [],
): string[] {
  const heap = APP_HEAP_MB[name];
  const heapArgs =
    heap && !`${env.NODE_OPTIONS ?? ''} ${nodeArgs.join(' ')}`.includes('--max-old-space-size')
      ? [`--max-old-space-size=${heap}`, `--max-semi-space-size=${APP_SEMI_SPACE_MB[name]}`]
      : [];
  return [...heapArgs, ...(APP_NODE_FLAGS[name] ?? []), ...nodeArgs];
}

export function spawnApp(
  name: string,
  env: NodeJS.ProcessEnv,
  stdio: 'inherit' | 'ignore' | 'pipe' = 'inherit',
  nodeArgs: readonly string[] = [],
): Child {
  const main = path.join(ROOT, 'dist/apps', name, 'src/main.js');
  const proc = spawn(process.execPath, [...appNodeOptions(name, env, nodeArgs), main], {
    cwd: ROOT,
    env: { ...APP_NATIVE_ENV, ...env },
    stdio: ['ignore', stdio, stdio],
    // Own process group: a terminal's Ctrl-C reaches only us, and each app then gets exactly
    // one SIGTERM (a second signal would cut Nest's shutdown hooks short).
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))),
  );
  return { name, proc, exited };
}

/** SIGTERM to each child (by its pid), SIGKILL after the grace time. */
export async function stopAll(children: Child[], graceMs = 35_000): Promise<void> {
  await Promise.all(
    children.map(async (c) => {
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
      c.proc.kill('SIGTERM');
      const timer = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
      await c.exited;
      clearTimeout(timer);
    }),
  );
}

export async function waitHealthy(port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`port ${port} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Peak resident set (VmHWM) of a live process in MiB, from /proc; undefined elsewhere. */
export function peakRssMb(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

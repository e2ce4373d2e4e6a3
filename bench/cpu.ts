/**
 * CPU time per process from /proc (Linux): utime + stime of a process and its live
 * descendants, plus the time of children already reaped (cutime + cstime), in seconds.
 * Sampled before and after a scenario's load; the difference is what the load cost.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const CLOCK_TICKS = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, clock ticks. */
  ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
    const f = (n: number) => Number(rest[n - 3]);
    return { pid, ppid: f(4), ticks: f(14) + f(15) + f(16) + f(17) };
  } catch {
    return undefined; // gone meanwhile
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function allProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** A process and its descendants; `keep` may leave out some descendants (by command line). */
function treeTicks(
  procs: readonly ProcStat[],
  root: number,
  keep: (pid: number) => boolean = () => true,
): number {
  const children = new Map<number, ProcStat[]>();
  for (const p of procs) {
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const self = procs.find((p) => p.pid === root);
  if (!self) return 0;
  let ticks = self.ticks;
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const p = stack.pop()!;
    if (keep(p.pid)) ticks += p.ticks;
    stack.push(...(children.get(p.pid) ?? []));
  }
  return ticks;
}

export interface CpuTargets {
  worker?: number;
  ingest?: number;
  /** The shared stack's pid files ($STACK_STATE_DIR/pids/<name>.pid). */
  stackPids?: string;
  /** PostgreSQL backends count only when connected to this database (others are other users'). */
  database?: string;
  /** This process's share counts as the load generator's. */
  includeSelfAs?: string;
}

export type CpuSample = Record<string, number>;

function stackPid(dir: string | undefined, name: string): number | undefined {
  if (!dir) return undefined;
  try {
    const pid = Number(readFileSync(path.join(dir, `${name}.pid`), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Seconds of CPU consumed so far by each named process (tree). */
export function sampleCpu(t: CpuTargets): CpuSample {
  const procs = allProcesses();
  const sample: CpuSample = {};
  const add = (name: string, ticks: number) => (sample[name] = ticks / CLOCK_TICKS);
  if (t.worker) add('worker', treeTicks(procs, t.worker));
  if (t.ingest) add('ingest', treeTicks(procs, t.ingest));
  const pg = stackPid(t.stackPids, 'postgres');
  if (pg) {
    // Client backends show "postgres: <user> <database> <client>": keep ours and the shared
    // background processes (WAL writer, checkpointer...), leave other databases' out.
    const db = t.database;
    add(
      'postgres',
      treeTicks(procs, pg, (pid) => {
        if (!db) return true;
        const cmd = cmdline(pid);
        return cmd.includes(` ${db} `) || !/^postgres: \S+ \S+ [\d.:[\]a-f]+\(\d+\)/.test(cmd);
      }),
    );
  }
  const temporal = stackPid(t.stackPids, 'temporal');
  if (temporal) add('temporal', treeTicks(procs, temporal));
  const kafka = stackPid(t.stackPids, 'kafka');
  if (kafka) add('kafka', treeTicks(procs, kafka));
  if (t.includeSelfAs) {
    const u = process.cpuUsage();
    sample[t.includeSelfAs] = (u.user + u.system) / 1e6;
  }
  return sample;
}

/** after - before per process, seconds rounded to 0.1. */
export function cpuDelta(before: CpuSample, after: CpuSample): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(after)) {
    out[name] = Math.round((v - (before[name] ?? 0)) * 10) / 10;
  }
  return out;
}

/** Whole-machine CPU seconds (all processes, from /proc/stat), for the load situation. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
}

/** CPU seconds (user + system) one process has used so far, 0 when it is gone. */
export function processCpuSeconds(pid: number): number {
  return (readStat(pid)?.ticks ?? 0) / CLOCK_TICKS;
}

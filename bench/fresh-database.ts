import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { ROOT } from '../scripts/apps-runner';

export interface FreshDatabase {
  name: string;
  url: string;
  drop: () => Promise<void>;
}

/** A new, migrated database beside the one of `baseUrl` (each bench scenario gets its own). */
export async function freshDatabase(baseUrl: string, label: string): Promise<FreshDatabase> {
  const name = `bench_${label}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = baseUrl.replace(/\/[^/?]+(\?|$)/, `/${name}$1`);
  const r = spawnSync('npx', ['drizzle-kit', 'migrate'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url },
    stdio: 'ignore',
  });
  if (r.status !== 0) throw new Error('migration failed');
  return {
    name,
    url,
    drop: async () => {
      const a = postgres(baseUrl, { max: 1, onnotice: () => undefined });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
    },
  };
}

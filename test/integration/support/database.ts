import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { applyMigrations, createDatabase, type DatabaseHandle } from '@settlement/db';

export const BASE_DATABASE_URL =
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/settlement';

export interface TestDatabase extends DatabaseHandle {
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database on the real PostgreSQL of the stack, one per test file, so
 * tests never see each other's rows and the ledger's append-only triggers stay on.
 */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `it_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(BASE_DATABASE_URL, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = BASE_DATABASE_URL.replace(/\/[^/?]+(\?|$)/, `/${name}$1`);
  const handle = createDatabase({ url, poolMax: 8, applicationName: `test-${label}` });
  await applyMigrations(handle.db);
  return {
    ...handle,
    url,
    async drop() {
      await handle.close();
      const a = postgres(BASE_DATABASE_URL, { max: 1, onnotice: () => undefined });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
    },
  };
}

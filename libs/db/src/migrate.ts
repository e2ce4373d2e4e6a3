import path from 'node:path';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { Database } from './client';

/** Where drizzle-kit writes the generated SQL (committed). */
export const MIGRATIONS_FOLDER = path.resolve(__dirname, '../migrations');

export async function applyMigrations(db: Database): Promise<void> {
  await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
}

import { defineConfig } from 'drizzle-kit';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/settlement';
// Migrations re-run "if not exists" statements; PostgreSQL's NOTICEs about them are noise.
const quiet = url.includes('client_min_messages')
  ? url
  : `${url}${url.includes('?') ? '&' : '?'}client_min_messages=warning`;

export default defineConfig({
  dialect: 'postgresql',
  schema: './libs/db/src/schema.ts',
  out: './libs/db/migrations',
  dbCredentials: { url: quiet },
  migrations: { table: '__drizzle_migrations', schema: 'public' },
  strict: true,
});

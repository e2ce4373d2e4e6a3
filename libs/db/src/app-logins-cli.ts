/**
 * The migrate step's second half (npm run db:migrate; the migrate image and Job): as the
 * owner, after the migrations, makes each app's login role a member of its group role and sets
 * the passwords DATABASE_<APP>_PASSWORD give (docs/security.md).
 */
import { loadConfig } from '@settlement/config';
import { APP_LOGINS, ensureAppLogins } from './app-logins';

async function main(): Promise<void> {
  const config = loadConfig(['database', 'logins']);
  await ensureAppLogins(config.DATABASE_URL, {
    ingest: config.DATABASE_INGEST_PASSWORD,
    worker: config.DATABASE_WORKER_PASSWORD,
    admin: config.DATABASE_ADMIN_PASSWORD,
  });
  const users = Object.values(APP_LOGINS).map((l) => l.user);
  process.stdout.write(`app login roles ready: ${users.join(', ')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`db logins: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import postgres from 'postgres';

/**
 * The login role each app connects with, a member of its migration-made group role
 * (migration 0008). Migrations keep running as the owner; the apps never do.
 */
export const APP_LOGINS = {
  ingest: { user: 'settlement_ingest_app', group: 'settlement_ingest' },
  worker: { user: 'settlement_worker_app', group: 'settlement_worker' },
  admin: { user: 'settlement_admin_app', group: 'settlement_admin' },
} as const;

export type AppName = keyof typeof APP_LOGINS;

export const APP_NAMES = Object.keys(APP_LOGINS) as AppName[];

/** Passwords by app; an app left out keeps the password its login role already has. */
export type AppLoginPasswords = Partial<Record<AppName, string>>;

// Roles are cluster-wide: concurrent callers (tests of several databases) take turns so that
// CREATE/ALTER ROLE never fails with "tuple concurrently updated".
const LOGINS_LOCK = 0x5e771e;

/**
 * Creates the apps' login roles where missing (LOGIN, no password: usable only where the
 * server trusts the connection, i.e. locally), sets the passwords given, and makes each a
 * member of its group role. Idempotent; runs as the migration owner after the migrations.
 */
export async function ensureAppLogins(
  ownerUrl: string,
  passwords: AppLoginPasswords = {},
): Promise<void> {
  const sql = postgres(ownerUrl, { max: 1, onnotice: () => undefined });
  try {
    await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${LOGINS_LOCK})`;
      for (const app of APP_NAMES) {
        const { user, group } = APP_LOGINS[app];
        const [{ groupExists }] = await tx<{ groupExists: boolean }[]>`
          select exists (select 1 from pg_roles where rolname = ${group}) as "groupExists"`;
        if (!groupExists) {
          throw new Error(
            `role ${group} is missing: apply the migrations first (npm run db:migrate)`,
          );
        }
        const [{ exists }] = await tx<{ exists: boolean }[]>`
          select exists (select 1 from pg_roles where rolname = ${user}) as exists`;
        if (!exists) await tx.unsafe(`create role ${user} login in role ${group}`);
        else await tx.unsafe(`grant ${group} to ${user}`);
        const password = passwords[app];
        // Only the SCRAM verifier crosses the wire and could reach a statement log, never the
        // password; DDL takes no bind parameters, and the verifier's alphabet needs no quoting.
        if (password)
          await tx.unsafe(`alter role ${user} login password '${scramVerifier(password)}'`);
      }
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677, the format of
 * pg_authid.rolpassword): what `\\password` in psql sends instead of the password itself.
 * Passwords are printable ASCII (config), which SASLprep leaves as they are.
 */
export function scramVerifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = 4096,
): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest('base64');
  const serverKey = createHmac('sha256', salted).update('Server Key').digest('base64');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey}:${serverKey}`;
}

/** The owner's URL with an app's login role (and password, if any) in place of the owner. */
export function appDatabaseUrl(ownerUrl: string, app: AppName, password?: string): string {
  const url = new URL(ownerUrl);
  url.username = APP_LOGINS[app].user;
  url.password = password ? encodeURIComponent(password) : '';
  return url.toString();
}

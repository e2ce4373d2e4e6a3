import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';

export type Database = PostgresJsDatabase<typeof schema>;

export interface DatabaseHandle {
  db: Database;
  /** The underlying postgres.js client, for health checks and shutdown. */
  client: postgres.Sql;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url: string;
  poolMax?: number;
  applicationName?: string;
}

export function createDatabase({
  url,
  poolMax = 10,
  applicationName = 'settlement',
}: DatabaseOptions): DatabaseHandle {
  const client = postgres(url, {
    max: poolMax,
    onnotice: () => undefined,
    connection: { application_name: applicationName },
    // Money columns stay strings on the wire and become bigint in the schema's mappers.
  });
  const db = drizzle(client, { schema });
  return { db, client, close: () => client.end({ timeout: 5 }) };
}

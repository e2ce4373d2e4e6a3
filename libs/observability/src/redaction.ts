/**
 * Every configuration variable that carries a secret (tokens, passwords, keys, connection
 * strings with credentials). The logger censors them wherever they appear in a log object,
 * and a unit test in libs/config fails when a new secret-looking variable is not listed.
 */
export const SECRET_VARIABLES = [
  'ADMIN_TOKEN',
  'ADMIN_OPERATOR_TOKENS',
  'ADMIN_READONLY_TOKENS',
  'ADMIN_TOKENS_FILE',
  'KAFKA_SASL_PASSWORD',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_KEY',
  'DATABASE_URL',
  'MIGRATION_DATABASE_URL',
  'INGEST_DATABASE_URL',
  'WORKER_DATABASE_URL',
  'ADMIN_DATABASE_URL',
  'DATABASE_INGEST_PASSWORD',
  'DATABASE_WORKER_PASSWORD',
  'DATABASE_ADMIN_PASSWORD',
] as const;

/** Pino redact paths: each secret variable at the top level and one level down (`config.X`). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.headers.authorization',
  'password',
  '*.password',
  ...SECRET_VARIABLES.flatMap((name) => [name, `*.${name}`]),
];

interface QueryError {
  query: string;
  params: unknown;
  cause?: unknown;
}

interface PostgresErrorFields {
  code?: string;
  severity?: string;
  table_name?: string;
  column_name?: string;
  constraint_name?: string;
  routine?: string;
}

const isQueryError = (e: unknown): e is Error & QueryError =>
  e instanceof Error && typeof (e as Partial<QueryError>).query === 'string' && 'params' in e;

const isPostgresError = (e: unknown): e is Error & PostgresErrorFields =>
  e instanceof Error &&
  e.name === 'PostgresError' &&
  typeof (e as PostgresErrorFields).code === 'string';

/**
 * The name of a SQL statement without any value: its verb and first table
 * (`insert into postings`, `select from accounts`). Statements are parameterised, but the
 * name never needs more than this to find the code that sent it.
 */
export function queryName(sqlText: string): string {
  const text = sqlText.replace(/\s+/g, ' ').trim();
  const verb =
    /^(?:with\b.*?\)\s*)?(select|insert|update|delete|lock|call|create|alter|drop|set|begin|commit|rollback)\b/i.exec(
      text,
    );
  const table = /\b(?:from|into|update|table)\s+("?[A-Za-z_][\w.]*"?)/i.exec(text);
  return [verb?.[1]?.toLowerCase() ?? 'sql', table?.[1]?.replace(/"/g, '')]
    .filter(Boolean)
    .join(' ');
}

/** What PostgreSQL said, without its message or detail: they can quote the values sent. */
function postgresFields(e: PostgresErrorFields) {
  return {
    code: e.code,
    severity: e.severity,
    table: e.table_name,
    column: e.column_name,
    constraint: e.constraint_name,
    routine: e.routine,
  };
}

/** Drizzle puts every parameter into a failed query's message and stack: cut them out. */
const withoutParams = (text: string | undefined) =>
  text?.replace(/\nparams: [\s\S]*?(?=\n\s+at |$)/, '\nparams: [redacted]');

/**
 * The `err` serializer of every logger: a failed SQL statement is logged with its query name
 * and SQLSTATE code, never its parameters (message bodies, amounts) or PostgreSQL's message.
 */
export function serializeError(err: unknown): unknown {
  if (isQueryError(err)) {
    const name = queryName(err.query);
    const pg: ReturnType<typeof postgresFields> | undefined = isPostgresError(err.cause)
      ? postgresFields(err.cause)
      : undefined;
    return {
      type: 'QueryError',
      query: name,
      ...pg,
      message: `query '${name}' failed${pg?.code ? ` with SQLSTATE ${pg.code}` : ''}`,
      stack: withoutParams(err.stack),
    };
  }
  if (isPostgresError(err)) {
    return {
      type: 'PostgresError',
      ...postgresFields(err),
      message: `PostgreSQL error ${err.code}`,
    };
  }
  if (!(err instanceof Error)) return err;
  // Own fields only (pino's serializer would append every cause's message and stack, where a
  // PostgreSQL message can quote values); the cause chain goes through this serializer again.
  const out: Record<string, unknown> = { type: err.constructor?.name ?? err.name };
  for (const [key, value] of Object.entries(err)) {
    if (key !== 'cause' && (typeof value !== 'object' || value === null)) out[key] = value;
  }
  out.message = withoutParams(err.message);
  out.stack = withoutParams(err.stack?.split('\ncaused by:')[0]);
  if (err.cause !== undefined) out.cause = serializeError(err.cause);
  return out;
}

import { DrizzleQueryError } from 'drizzle-orm/errors';
import { createLogger } from './logger';
import { queryName, SECRET_VARIABLES } from './redaction';

function capture() {
  const lines: string[] = [];
  const logger = createLogger('test', 'info', { write: (line: string) => lines.push(line) });
  return { logger, text: () => lines.join('') };
}

class FakePostgresError extends Error {
  override name = 'PostgresError';
  code = '23505';
  severity = 'ERROR';
  constraint_name = 'postings_pkey';
  table_name = 'postings';
}

describe('log redaction', () => {
  it('censors every secret variable at the top level and inside a config object', () => {
    const { logger, text } = capture();
    const secrets = Object.fromEntries(SECRET_VARIABLES.map((n) => [n, `secret-${n}-value`]));
    logger.info(secrets, 'top');
    logger.info({ config: secrets }, 'nested');
    logger.info({ req: { headers: { authorization: 'Bearer secret-header' } } }, 'req');
    expect(text()).not.toMatch(/secret-/);
    expect(text()).toMatch(/\[redacted\]/);
  });

  it('logs a failed query with its name and SQLSTATE, never its parameters or message', () => {
    const { logger, text } = capture();
    const cause = new FakePostgresError('duplicate key value (id)=(tx-secret-amount-991)');
    const err = new DrizzleQueryError(
      'insert into "postings" ("id", "amount") values ($1, $2)',
      ['tx-secret-id', '991000'],
      cause,
    );
    logger.error({ err }, 'settle failed');
    logger.error({ err: new Error('outer', { cause: err }) }, 'wrapped');
    const out = text();
    expect(out).not.toMatch(/tx-secret|991000/);
    const first = JSON.parse(out.split('\n')[0]) as { err: Record<string, unknown> };
    expect(first.err).toMatchObject({
      query: 'insert postings',
      code: '23505',
      constraint: 'postings_pkey',
    });
  });

  it('names statements by verb and first table', () => {
    expect(queryName('select "id" from "accounts" where "id" = $1')).toBe('select accounts');
    expect(queryName('update settlement.batches set status = $1')).toBe(
      'update settlement.batches',
    );
    expect(queryName('with x as (select 1) insert into outbox values ($1)')).toBe('insert outbox');
  });
});

import {
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { isTransientOutage, resilient } from './outage';

const pgError = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('isTransientOutage', () => {
  it.each([
    ['a refused PostgreSQL connection', pgError('ECONNREFUSED')],
    ['a connection closed by postgres.js', pgError('CONNECTION_CLOSED')],
    ['PostgreSQL shutting down (57P01)', pgError('57P01')],
    ['PostgreSQL starting up (57P03)', pgError('57P03')],
    [
      'a driver error wrapped by drizzle',
      Object.assign(new Error('Failed query'), { cause: pgError('ECONNRESET') }),
    ],
    [
      'a Kafka connection error',
      new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'),
    ],
    [
      'kafkajs giving up its own retries',
      new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('refused'), {
        retryCount: 8,
        retryTime: 1,
      }),
    ],
  ])('waits out %s', (_what, err) => {
    expect(isTransientOutage(err)).toBe(true);
  });

  it.each([
    ['a SQL syntax error', pgError('42601')],
    ['a unique violation', pgError('23505')],
    ['a plain bug', new TypeError('x is undefined')],
    [
      'a message too large for the topic',
      new KafkaJSProtocolError({
        message:
          'The request included a message larger than the max message size the server will accept',
        type: 'MESSAGE_TOO_LARGE',
        code: 10,
        retriable: false,
      } as unknown as string),
    ],
    ['a non-error', 'boom'],
  ])('fails at once on %s', (_what, err) => {
    expect(isTransientOutage(err)).toBe(false);
  });
});

describe('resilient', () => {
  it('retries a step through a short outage, logging each attempt and the recovery', async () => {
    const lines: string[] = [];
    const retry = resilient({
      maxWaitMs: 5000,
      initialDelayMs: 1,
      maxDelayMs: 2,
      log: (l) => lines.push(l),
    });
    let calls = 0;
    const result = await retry('PostgreSQL: opening accounts', async () => {
      if (++calls < 3) throw pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432');
      return 'done';
    });
    expect(result).toBe('done');
    expect(calls).toBe(3);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^PostgreSQL: opening accounts: unavailable \(ECONNREFUSED: connect ECONNREFUSED .*\); attempt 2 in/,
    );
    expect(lines[2]).toMatch(/^PostgreSQL: opening accounts: recovered after \d+\.\d s$/);
  });

  it('gives up once the outage outlasts its bound, with the last error', async () => {
    const lines: string[] = [];
    const retry = resilient({
      maxWaitMs: 30,
      initialDelayMs: 5,
      maxDelayMs: 5,
      log: (l) => lines.push(l),
    });
    const err = pgError('57P03', 'the database system is starting up');
    await expect(retry('PostgreSQL: reading outcomes', () => Promise.reject(err))).rejects.toBe(
      err,
    );
    expect(lines.at(-1)).toMatch(
      /^PostgreSQL: reading outcomes: giving up after \d+\.\d s of outage: 57P03/,
    );
  });

  it('does not retry an error that no waiting can fix', async () => {
    const lines: string[] = [];
    const retry = resilient({ maxWaitMs: 5000, log: (l) => lines.push(l) });
    let calls = 0;
    const err = pgError('42601', 'syntax error');
    await expect(
      retry('PostgreSQL: opening accounts', async () => {
        calls++;
        throw err;
      }),
    ).rejects.toBe(err);
    expect(calls).toBe(1);
    expect(lines).toEqual([]);
  });
});

import { SECRET_VARIABLES } from '@settlement/observability';
import { ConfigError, knownVariables, loadConfig } from './config';

describe('loadConfig', () => {
  it('applies the contract defaults', () => {
    const config = loadConfig(['kafka', 'temporal', 'database', 'ingest'], {});
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.KAFKA_TOPIC).toBe('transactions');
    expect(config.KAFKA_DLQ_TOPIC).toBe('transactions.dlq');
    expect(config.KAFKA_OUTCOME_TOPIC).toBe('settlements');
    expect(config.KAFKA_GROUP_ID).toBe('settlement-ingest');
    expect(config.TEMPORAL_ADDRESS).toBe('127.0.0.1:7233');
    expect(config.TEMPORAL_NAMESPACE).toBe('default');
    expect(config.TEMPORAL_TASK_QUEUE).toBe('settlement');
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/settlement');
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig(['kafka', 'database', 'ingest'], {
        KAFKA_BROKERS: 'no-port',
        DATABASE_URL: 'mysql://x',
        BATCH_MAX_SIZE: 'ten',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/KAFKA_BROKERS is invalid/);
    expect(message).toMatch(/DATABASE_URL is invalid/);
    expect(message).toMatch(/BATCH_MAX_SIZE is invalid/);
  });

  it('requires the region for MSK IAM and credentials for SCRAM', () => {
    expect(() => loadConfig(['kafka'], { KAFKA_SASL_MECHANISM: 'aws-msk-iam' })).toThrow(
      /AWS_REGION is missing/,
    );
    expect(() =>
      loadConfig(['kafka'], { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' }),
    ).toThrow(/KAFKA_SASL_PASSWORD is missing/);
    expect(
      loadConfig(['kafka'], { KAFKA_SASL_MECHANISM: 'aws-msk-iam', AWS_REGION: 'eu-west-1' })
        .KAFKA_SSL,
    ).toBe(false);
  });

  it('lists every variable the apps read', () => {
    expect(knownVariables()).toEqual(
      expect.arrayContaining(['KAFKA_BROKERS', 'ADMIN_TOKEN', 'BATCH_MAX_SIZE']),
    );
  });

  it('refuses SASL PLAIN/SCRAM without TLS unless allowed for a local broker', () => {
    const sasl = {
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
    };
    expect(() => loadConfig(['kafka'], sasl)).toThrow(/KAFKA_SSL is false/);
    expect(() => loadConfig(['kafka'], { ...sasl, KAFKA_SSL: 'true' })).not.toThrow();
    expect(() =>
      loadConfig(['kafka'], { ...sasl, KAFKA_SASL_ALLOW_PLAINTEXT: 'true' }),
    ).not.toThrow();
  });

  it('needs both halves of a Temporal client certificate', () => {
    expect(() => loadConfig(['temporal'], { TEMPORAL_TLS_CERT_PATH: '/tls/tls.crt' })).toThrow(
      /TEMPORAL_TLS_KEY is missing/,
    );
    expect(() =>
      loadConfig(['temporal'], { TEMPORAL_TLS_CERT: 'pem', TEMPORAL_TLS_KEY_PATH: '/tls/tls.key' }),
    ).not.toThrow();
  });

  it('lists every secret-looking variable for log redaction', () => {
    const secretLooking = knownVariables().filter((name) =>
      /TOKEN|PASSWORD|SECRET|API_KEY|TLS_KEY$|DATABASE_URL/.test(name),
    );
    expect(
      secretLooking.filter((name) => !(SECRET_VARIABLES as readonly string[]).includes(name)),
    ).toEqual([]);
  });

  it('reads the settlement-cycle schedule: off by default, intervals, shorthands and cron fields', () => {
    const cycles = (env: Record<string, string>) => loadConfig(['cycles'], env);
    expect(cycles({})).toMatchObject({
      SETTLEMENT_CYCLE_CRON: 'off',
      SETTLEMENT_CYCLE_TIMEZONE: 'UTC',
      SETTLEMENT_CYCLE_GRACE_SECONDS: 300,
    });
    for (const cron of ['@every 1m', '@every 10s', '@daily', '0 17 * * *', '0 */5 * * 1-5 *'])
      expect(cycles({ SETTLEMENT_CYCLE_CRON: cron }).SETTLEMENT_CYCLE_CRON).toBe(cron);
    expect(cycles({ SETTLEMENT_CYCLE_TIMEZONE: 'Europe/London' }).SETTLEMENT_CYCLE_TIMEZONE).toBe(
      'Europe/London',
    );
    expect(() => cycles({ SETTLEMENT_CYCLE_CRON: 'every minute' })).toThrow(
      /SETTLEMENT_CYCLE_CRON is invalid/,
    );
    expect(() => cycles({ SETTLEMENT_CYCLE_CRON: '* * *' })).toThrow(/SETTLEMENT_CYCLE_CRON/);
    expect(() => cycles({ SETTLEMENT_CYCLE_TIMEZONE: 'Mars/Olympus' })).toThrow(
      /SETTLEMENT_CYCLE_TIMEZONE is invalid/,
    );
  });
});

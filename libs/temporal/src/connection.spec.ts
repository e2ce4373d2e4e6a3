import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@settlement/config';
import { tlsOptions } from './connection';

describe('Temporal TLS options', () => {
  it('is plaintext by default and server-verified TLS with TEMPORAL_TLS=true', () => {
    expect(tlsOptions(loadConfig(['temporal'], {}))).toBeUndefined();
    expect(tlsOptions(loadConfig(['temporal'], { TEMPORAL_TLS: 'true' }))).toEqual({});
  });

  it('reads the client certificate pair and CA inline or from mounted files (mTLS)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'temporal-tls-'));
    writeFileSync(join(dir, 'tls.key'), 'KEY-PEM');
    writeFileSync(join(dir, 'ca.crt'), 'CA-PEM');
    const tls = tlsOptions(
      loadConfig(['temporal'], {
        TEMPORAL_TLS_CERT: 'CERT-PEM',
        TEMPORAL_TLS_KEY_PATH: join(dir, 'tls.key'),
        TEMPORAL_TLS_CA_PATH: join(dir, 'ca.crt'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      }),
    );
    expect(tls?.serverNameOverride).toBe('temporal.internal');
    expect(tls?.serverRootCACertificate?.toString()).toBe('CA-PEM');
    expect(tls?.clientCertPair?.crt.toString()).toBe('CERT-PEM');
    expect(tls?.clientCertPair?.key.toString()).toBe('KEY-PEM');
  });
});

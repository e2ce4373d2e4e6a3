import { readFileSync } from 'node:fs';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { TemporalConfig } from '@settlement/config';

/** PEM text given inline, or read from a mounted file (read at connect time). */
function pem(inline: string | undefined, path: string | undefined): Buffer | undefined {
  if (inline) return Buffer.from(inline, 'utf8');
  return path ? readFileSync(path) : undefined;
}

/**
 * TLS for Temporal: server-verified TLS (`TEMPORAL_TLS=true`, e.g. Temporal Cloud with an API
 * key) or mutual TLS with a client certificate (`TEMPORAL_TLS_CERT`/`KEY`/`CA` or their
 * `_PATH` forms), which turns TLS on by itself.
 */
export function tlsOptions(config: TemporalConfig): TLSConfig | undefined {
  const crt = pem(config.TEMPORAL_TLS_CERT, config.TEMPORAL_TLS_CERT_PATH);
  const key = pem(config.TEMPORAL_TLS_KEY, config.TEMPORAL_TLS_KEY_PATH);
  const ca = pem(config.TEMPORAL_TLS_CA, config.TEMPORAL_TLS_CA_PATH);
  if (!config.TEMPORAL_TLS && !crt && !ca) return undefined;
  return {
    ...(config.TEMPORAL_TLS_SERVER_NAME
      ? { serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME }
      : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
  };
}

export function connectionOptions(config: TemporalConfig) {
  return {
    address: config.TEMPORAL_ADDRESS,
    tls: tlsOptions(config),
    apiKey: config.TEMPORAL_API_KEY,
    connectTimeout: '5s' as const,
  };
}

/** A client bound to the configured namespace; the caller closes the connection. */
export async function createTemporalClient(config: TemporalConfig): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(config));
  return new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    // Puts the active trace context in the workflow's start headers (a no-op with tracing off).
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
}

import { Client, Connection } from '@temporalio/client';
import type { TemporalConfig } from '@settlement/config';

export function connectionOptions(config: TemporalConfig) {
  return {
    address: config.TEMPORAL_ADDRESS,
    tls: config.TEMPORAL_TLS ? {} : undefined,
    apiKey: config.TEMPORAL_API_KEY,
    connectTimeout: '5s' as const,
  };
}

/** A client bound to the configured namespace; the caller closes the connection. */
export async function createTemporalClient(config: TemporalConfig): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(config));
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

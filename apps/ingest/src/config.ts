import { z } from 'zod';
import { loadConfig } from '@settlement/config';

/**
 * Ingest settings. INGEST_BATCH_MAX_BYTES is local to this app: it keeps the workflow input
 * (messages travel inline) well under Temporal's payload limits whatever the message sizes.
 */
const local = z.object({
  /** How long the group waits for a silent (crashed) member before moving its partitions. */
  INGEST_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(30_000),
  INGEST_BATCH_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(4096)
    .default(768 * 1024),
  INGEST_LAG_INTERVAL_MS: z.coerce.number().int().positive().default(5000),
  INGEST_CONTROL_POLL_MS: z.coerce.number().int().positive().default(2000),
  INGEST_MAX_BYTES_PER_PARTITION: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  INGEST_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
});

export const loadIngestConfig = () => {
  const base = loadConfig(['kafka', 'temporal', 'database', 'ingest']);
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ''),
  );
  return Object.freeze({ ...base, ...local.parse(env) });
};
export type IngestAppConfig = ReturnType<typeof loadIngestConfig>;

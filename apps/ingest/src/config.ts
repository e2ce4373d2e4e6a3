import { loadConfig } from '@settlement/config';

export const loadIngestConfig = () => loadConfig(['kafka', 'temporal', 'database', 'ingest']);
export type IngestAppConfig = ReturnType<typeof loadIngestConfig>;

import { loadConfig } from '@settlement/config';

export const loadWorkerConfig = () => loadConfig(['kafka', 'temporal', 'database', 'worker']);
export type WorkerAppConfig = ReturnType<typeof loadWorkerConfig>;

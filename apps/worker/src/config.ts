import { loadConfig } from '@settlement/config';

export const loadWorkerConfig = () =>
  loadConfig(['kafka', 'temporal', 'database', 'worker', 'cycles']);
export type WorkerAppConfig = ReturnType<typeof loadWorkerConfig>;

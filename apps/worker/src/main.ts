import 'reflect-metadata';
import { runService } from '@settlement/platform';
import { loadWorkerConfig } from './config';
import { WorkerModule } from './worker.module';

void runService({
  service: 'worker',
  loadConfig: loadWorkerConfig,
  module: (config) => WorkerModule.forRoot(config),
  port: (config) => config.WORKER_HTTP_PORT,
});

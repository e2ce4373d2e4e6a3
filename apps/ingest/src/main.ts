import 'reflect-metadata';
import { runService } from '@settlement/platform';
import { loadIngestConfig } from './config';
import { IngestModule } from './ingest.module';

void runService({
  service: 'ingest',
  loadConfig: loadIngestConfig,
  module: (config) => IngestModule.forRoot(config),
  port: (config) => config.INGEST_HTTP_PORT,
});

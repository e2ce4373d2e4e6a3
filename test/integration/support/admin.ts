import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createAdminApp } from '../../../apps/admin/src/app';
import { loadAdminConfig } from '../../../apps/admin/src/config';
import { appLoginUrl, stackAddresses } from './apps';

export interface InProcessAdmin {
  app: INestApplication;
  http: ReturnType<typeof request>;
}

/**
 * The admin API in this process (Nest, as the built app wires it) on the stack's Kafka and
 * Temporal and the test's database, connected as the admin's own login role like production;
 * `env` adds the test's settings (tokens, topic, task queue...; a pipeline's environment may be
 * passed whole: its DATABASE_URL, the owner's, never replaces the login). Logs warnings only
 * unless `env` says otherwise. Close it with `app.close()`.
 */
export async function startAdmin(
  databaseUrl: string,
  env: Record<string, string>,
): Promise<InProcessAdmin> {
  const app = await createAdminApp(
    loadAdminConfig({
      ...stackAddresses(),
      LOG_LEVEL: 'warn',
      ...env,
      DATABASE_URL: await appLoginUrl(databaseUrl, 'admin'),
    }),
  );
  await app.init();
  return { app, http: request(app.getHttpServer()) };
}

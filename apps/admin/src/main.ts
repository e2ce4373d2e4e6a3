import 'reflect-metadata';
import { ConfigError } from '@settlement/config';
import { createLogger } from '@settlement/observability';
import { createAdminApp } from './app';
import { loadAdminConfig } from './config';

async function main(): Promise<void> {
  const logger = createLogger('admin');
  let config;
  try {
    config = loadAdminConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal({ problems: err.problems }, err.message);
      process.exit(1);
    }
    throw err;
  }
  const app = await createAdminApp(config);
  await app.listen(config.ADMIN_PORT, '0.0.0.0');
  logger.info({ port: config.ADMIN_PORT }, 'admin listening');
}

void main();

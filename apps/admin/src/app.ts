import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { AdminModule } from './admin.module';
import type { AdminAppConfig } from './config';

/**
 * Builds the admin HTTP app (not listening yet): Nest with the pino logger, the bearer-token
 * guard, the JSON error filter, and OpenAPI docs with Swagger UI at /docs.
 */
export async function createAdminApp(config: AdminAppConfig): Promise<INestApplication> {
  const app = await NestFactory.create(AdminModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(PinoNestLogger));
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Settlement admin API')
      .setDescription(
        'Accounts, ledger lookups, batches, dead letters, lag, pause/resume and compliance replay. ' +
          'Every /admin route needs Authorization: Bearer <token>; read-only tokens may only GET. ' +
          'Errors are {"error","message"}.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}

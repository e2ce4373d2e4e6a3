import { exportMetricsOf } from '@settlement/observability';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express from 'express';
import helmet from 'helmet';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { AdminModule } from './admin.module';
import { authenticate } from './auth/authenticate.middleware';
import { serveConsole } from './console';
import { loadTokens } from './auth/token-rotation';
import type { TokenRegistry } from './auth/tokens';
import { jsonBody } from './http/body';
import { completeDocument } from './http/openapi';
import type { AdminAppConfig } from './config';

/**
 * Builds the admin HTTP app (not listening yet): Nest with the pino logger, the bearer-token
 * guard, the JSON error filter, and OpenAPI docs with Swagger UI at /docs.
 */
export async function createAdminApp(config: AdminAppConfig): Promise<INestApplication> {
  exportMetricsOf('admin');
  const tokens = loadTokens(config);
  const app = await NestFactory.create(AdminModule.forRoot(config, tokens), httpServer(tokens), {
    bufferLogs: true,
    // Bodies are parsed by jsonBody() after authentication: JSON only, bounded.
    bodyParser: false,
  });
  app.useLogger(app.get(PinoNestLogger));
  // SIGHUP is not a shutdown here: it reloads the tokens file (auth/token-rotation.ts).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const document = completeDocument(
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Settlement admin API')
        .setDescription(
          'Accounts, ledger lookups, batches, dead letters, lag, pause/resume and compliance replay. ' +
            'Every /admin route needs `Authorization: Bearer YOUR_TOKEN`; read-only tokens may only GET. ' +
            'Errors are {"error","message"} (the Error schema).',
        )
        .setVersion('1')
        .addBearerAuth({
          // Opaque tokens (ADMIN_TOKEN, name:token lists), not JWTs.
          type: 'http',
          scheme: 'bearer',
          bearerFormat: undefined,
          description: 'an operator or read-only token, configured as name:token',
        })
        .build(),
    ),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}

/**
 * Express with authentication before anything else (body parsing, routing), then the JSON
 * body parser (http/body.ts), and
 * case-sensitive, strict routing: `/ADMIN/lag` and `/admin/lag/` are not
 * `/admin/lag` and answer 404 (after the token check, which never looks at the path). The
 * settings must be in place before Nest's adapter creates the router, hence our own instance.
 */
function httpServer(tokens: TokenRegistry): ExpressAdapter {
  const server = express();
  server.set('case sensitive routing', true);
  server.set('strict routing', true);
  server.disable('x-powered-by');
  // helmet's defaults (CSP, HSTS, nosniff, frame denial...); Swagger UI loads its script and
  // styles from /docs itself, which the default CSP allows.
  server.use(helmet());
  server.use(authenticate(tokens));
  server.use(jsonBody());
  serveConsole(server);
  return new ExpressAdapter(server);
}

import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { ConfigError, type CommonConfig } from '@settlement/config';
import {
  createLogger,
  exportMetricsOf,
  startTracing,
  type MetricsOwner,
} from '@settlement/observability';

/**
 * Starts a Nest HTTP application the same way for every service: configuration is
 * validated before anything connects (a bad variable exits 1 with its name), logs are
 * JSON, and SIGTERM/SIGINT run Nest's shutdown hooks so in-hand work is finished.
 */
export async function runService<C extends CommonConfig>(options: {
  service: MetricsOwner;
  loadConfig: () => C;
  module: (config: C) => unknown;
  port: (config: C) => number;
}): Promise<INestApplication> {
  const logger = createLogger(options.service);
  exportMetricsOf(options.service);
  let config: C;
  try {
    config = options.loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal({ problems: err.problems }, err.message);
      process.exit(1);
    }
    throw err;
  }
  // Before the module: the Temporal client and worker pick the tracer provider up.
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (startTracing(options.service, { endpoint }))
    logger.info({ endpoint }, 'tracing on: spans go to the OTLP endpoint');
  const app = await NestFactory.create(options.module(config) as never, { bufferLogs: true });
  app.useLogger(app.get(PinoNestLogger));
  app.enableShutdownHooks();
  const port = options.port(config);
  await app.listen(port, '0.0.0.0');
  logger.info({ port }, `${options.service} listening`);
  return app;
}

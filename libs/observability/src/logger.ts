import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs on stdout, one object per line, with the service name on every line;
 * `LOG_FORMAT=pretty` renders them for people (pino-pretty, for local runs).
 */
export function createLogger(
  service: string,
  level: string = process.env.LOG_LEVEL ?? 'info',
  format: string = process.env.LOG_FORMAT ?? 'json',
): Logger {
  return pino({
    ...(format === 'pretty'
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        }
      : {}),
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Tokens and connection strings never reach the logs.
    redact: {
      paths: ['req.headers.authorization', '*.DATABASE_URL', '*.ADMIN_TOKEN', '*.password'],
      censor: '[redacted]',
    },
  });
}

export type { Logger };

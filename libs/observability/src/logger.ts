import pino, { type Logger } from 'pino';

/** Structured JSON logs on stdout, one object per line, with the service name on every line. */
export function createLogger(
  service: string,
  level: string = process.env.LOG_LEVEL ?? 'info',
): Logger {
  return pino({
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

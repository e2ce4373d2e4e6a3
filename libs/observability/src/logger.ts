import pino, { type Logger } from 'pino';
import { REDACT_PATHS, serializeError } from './redaction';

/**
 * Structured JSON logs on stdout, one object per line, with the service name on every line;
 * `LOG_FORMAT=pretty` (validated by libs/config) renders them for people with pino-pretty,
 * for local runs.
 */
export function createLogger(
  service: string,
  level: string = process.env.LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Tokens, passwords, keys and connection strings never reach the logs (redaction.ts).
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError },
  };
  if (destination) return pino(options, destination);
  if (process.env.LOG_FORMAT === 'pretty') {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(options);
}

export type { Logger };

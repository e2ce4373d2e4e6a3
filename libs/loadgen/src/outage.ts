/**
 * The load generator waits out short outages of PostgreSQL and Kafka (a restart, a failover)
 * instead of crashing: a step that fails with a connection-level error is retried with
 * growing pauses, each announced on one log line, until it succeeds or the outage outlasts
 * its bound. Errors that no retry can fix (a bad statement, a refused message) fail at once.
 */

export interface OutagePolicy {
  /** The longest outage to wait out, from the first failure of a step. */
  maxWaitMs: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Receives one human-readable line per failed attempt and per recovery. */
  log: (line: string) => void;
}

/** Runs a step, waiting out a transient outage of what it talks to. */
export type Resilient = <T>(what: string, step: () => Promise<T>) => Promise<T>;

// Connection-level failures of postgres.js / PostgreSQL and of node sockets.
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01', // admin_shutdown (the server is stopping)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovering)
  '08000', // connection_exception
  '08001',
  '08003',
  '08006',
]);

// kafkajs errors that mean "the cluster is not reachable or not ready", not "your request is wrong".
const TRANSIENT_KAFKA =
  /^KafkaJS(Connection|NumberOfRetriesExceeded|RequestTimeout|Timeout|BrokerNotFound|ConnectionClosed|LockTimeout|ServerDoesNotSupportApiKey)Error$/;

/** True when the error (or what it wraps) is a connection-level failure worth waiting out. */
export function isTransientOutage(err: unknown): boolean {
  const seen = new Set<unknown>();
  let e = err as
    | {
        name?: string;
        code?: string;
        retriable?: boolean;
        cause?: unknown;
        originalError?: unknown;
      }
    | undefined;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    if (e.code !== undefined && TRANSIENT_CODES.has(String(e.code))) return true;
    if (e.name !== undefined && TRANSIENT_KAFKA.test(e.name)) return true;
    if (e.name?.startsWith('KafkaJS') && e.retriable === true) return true;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return false;
}

const describeError = (err: unknown) => {
  const e = err as { name?: string; code?: string; message?: string; cause?: { message?: string } };
  const detail = e.cause?.message && e.cause.message !== e.message ? ` (${e.cause.message})` : '';
  return `${e.code ?? e.name ?? 'Error'}: ${e.message ?? String(err)}${detail}`;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function resilient(policy: OutagePolicy): Resilient {
  const initial = policy.initialDelayMs ?? 250;
  const ceiling = policy.maxDelayMs ?? 5000;
  return async (what, step) => {
    let firstFailure: number | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await step();
        if (firstFailure !== undefined) {
          policy.log(
            `${what}: recovered after ${((Date.now() - firstFailure) / 1000).toFixed(1)} s`,
          );
        }
        return result;
      } catch (err) {
        if (!isTransientOutage(err)) throw err;
        firstFailure ??= Date.now();
        const waited = Date.now() - firstFailure;
        if (waited >= policy.maxWaitMs) {
          policy.log(
            `${what}: giving up after ${(waited / 1000).toFixed(1)} s of outage: ${describeError(err)}`,
          );
          throw err;
        }
        const delay = Math.min(ceiling, initial * 2 ** (attempt - 1), policy.maxWaitMs - waited);
        policy.log(
          `${what}: unavailable (${describeError(err)}); attempt ${attempt + 1} in ${(delay / 1000).toFixed(1)} s, ` +
            `outage so far ${(waited / 1000).toFixed(1)} s of at most ${(policy.maxWaitMs / 1000).toFixed(0)} s`,
        );
        await sleep(delay);
      }
    }
  };
}

/** No waiting: the step runs once (library callers that handle outages themselves). */
export const direct: Resilient = (_what, step) => step();

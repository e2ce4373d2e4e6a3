// Jest globalSetup for the integration tier: checks that the local stack (`npm run stack:up`)
// is reachable before any test runs. It never starts the stack itself.
import { Socket } from 'node:net';

interface Endpoint {
  name: string;
  host: string;
  port: number;
  env: string;
}

function hostPort(value: string, fallbackPort: number): { host: string; port: number } {
  const trimmed = value.trim().replace(/^[a-z]+:\/\//i, '');
  const idx = trimmed.lastIndexOf(':');
  if (idx < 0) return { host: trimmed, port: fallbackPort };
  return {
    host: trimmed.slice(0, idx).replace(/^\[|\]$/g, ''),
    port: Number(trimmed.slice(idx + 1)) || fallbackPort,
  };
}

function endpoints(): Endpoint[] {
  const kafka = hostPort((process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')[0] ?? '', 9092);
  const temporal = hostPort(process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233', 7233);
  const db = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/settlement');
  return [
    { name: 'Kafka', env: 'KAFKA_BROKERS', ...kafka },
    { name: 'Temporal', env: 'TEMPORAL_ADDRESS', ...temporal },
    {
      name: 'PostgreSQL',
      env: 'DATABASE_URL',
      host: db.hostname || '127.0.0.1',
      port: Number(db.port || 5432),
    },
  ];
}

function reachable({ host, port }: Endpoint, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}

export default async function globalSetup(): Promise<void> {
  const list = endpoints();
  const results = await Promise.all(list.map(async (e) => ({ e, ok: await reachable(e) })));
  const down = results
    .filter((r) => !r.ok)
    .map((r) => `${r.e.name} at ${r.e.host}:${r.e.port} (${r.e.env})`);
  if (down.length > 0) {
    throw new Error(
      `Integration tests need the local stack, but these do not answer: ${down.join(', ')}.\n` +
        'Start it with `npm run stack:up` (or run the whole suite with `npm test`, which starts it).',
    );
  }
}

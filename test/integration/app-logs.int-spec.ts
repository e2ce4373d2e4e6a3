import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { offsetsAtTime } from '@settlement/kafka';
import {
  LOG_DIR,
  openPipeline,
  produceTransfer,
  waitFor,
  type Pipeline,
  type RunningApp,
} from './support/apps';

const OPERATOR = `op-${randomBytes(16).toString('hex')}`;
/** Kafka 4 refusing a ListOffsets request, and kafkajs's known noise. */
const NOISE = [
  /The version of API is not supported/,
  /KafkaJSProtocolError/,
  /KafkaJS v2\.0\.0 switched default partitioner/,
  /webpack/i,
];
/** No log line of a process should be anywhere near this (the webpack report was 1.5 MiB). */
const MAX_LINE_BYTES = 16 * 1024;

const logOf = (app: RunningApp) =>
  readFileSync(path.join(LOG_DIR, `app_logs-${app.name}-${app.port}.log`), 'utf8');

/**
 * The logs of the built worker and admin after real work on the stack's Kafka 4: no protocol
 * errors from the admin's offset lookups (lag, replays by time, including before the epoch),
 * no multi-megabyte line at worker start (it loads the prebuilt workflow bundle), no known
 * kafkajs warning.
 */
describe('app logs: no Kafka protocol errors, no oversized or known-noise lines', () => {
  let pipeline: Pipeline;
  let admin: RunningApp;
  let worker: RunningApp;

  beforeAll(async () => {
    pipeline = await openPipeline('app_logs', {
      partitions: 2,
      extra: { ADMIN_TOKEN: OPERATOR },
    });
    worker = pipeline.apps[0];
    await pipeline.start('ingest');
    admin = await pipeline.start('admin');
  }, 180_000);

  afterAll(() => pipeline?.close());

  const call = async (method: string, pathname: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${admin.port}${pathname}`, {
      method,
      headers: { Authorization: `Bearer ${OPERATOR}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('reads offsets before the epoch from the start, where Kafka 4 refuses the raw lookup', async () => {
    const topic = pipeline.topics.transactions;
    await expect(pipeline.admin.fetchTopicOffsetsByTimestamp(topic, -1000)).rejects.toThrow(
      /The version of API is not supported/,
    );
    const offsets = await offsetsAtTime(pipeline.admin, topic, -1000);
    expect(offsets.map((o) => o.offset)).toEqual(['0', '0']);
  });

  it('settles, answers lag and replays by time, and logs nothing of the kind', async () => {
    const id = await produceTransfer(pipeline, 'logs');
    await waitFor('the transaction to settle', async () => {
      const res = await call('GET', `/admin/transactions/${id}`);
      return res.body.status === 'SETTLED';
    });
    const lag = await call('GET', '/admin/lag');
    expect(lag.status).toBe(200);
    expect((lag.body.partitions as unknown[]).length).toBe(2);
    for (const from of [{ timestamp: 0 }, { timestamp: '2026-01-01T00:00:00Z' }]) {
      const res = await call('POST', '/admin/replays', {
        from,
        to: { timestamp: Date.now() },
        mode: 'verify',
      });
      expect(res.status).toBe(202);
    }

    const logs = { admin: logOf(admin), worker: logOf(worker) };
    const found: string[] = [];
    let longest = 0;
    for (const [name, text] of Object.entries(logs)) {
      for (const line of text.split('\n')) {
        longest = Math.max(longest, Buffer.byteLength(line));
        if (Buffer.byteLength(line) > MAX_LINE_BYTES)
          found.push(`${name}: ${Buffer.byteLength(line)} bytes`);
        for (const noise of NOISE)
          if (noise.test(line)) found.push(`${name}: ${line.slice(0, 300)}`);
      }
    }
    expect(found).toEqual([]);
    process.stdout.write(
      `admin ${logs.admin.length} bytes, worker ${logs.worker.length} bytes of log; longest line ${longest} bytes\n`,
    );
  });
});

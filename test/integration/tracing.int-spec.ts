import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { settleBatchWorkflowId } from '@settlement/contracts';
import { openPipeline, waitFor, type Pipeline } from './support/apps';
import { temporalClient } from './support/temporal';
import { openAccounts, txValue } from './support/fixtures';

interface ReceivedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

/**
 * A trace collector in this process: it takes the OTLP/HTTP JSON export requests of the
 * apps and keeps their spans in memory.
 */
async function memoryCollector(): Promise<{ url: string; spans: ReceivedSpan[]; server: Server }> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: { stringValue?: string } }[] };
          scopeSpans: { spans: Omit<ReceivedSpan, 'service'>[] }[];
        }[];
      };
      for (const rs of body.resourceSpans ?? []) {
        const service =
          rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans)
            spans.push({
              service,
              name: s.name,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId || undefined,
            });
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

/**
 * OpenTelemetry across the path with the built apps on the real stack: a message whose
 * producer put a W3C `traceparent` in its headers is settled, and ingest's span, the workflow
 * start, the workflow run, the settle activity and its ledger commit all land in that one
 * trace, each the child of the one before.
 */
describe('tracing from the Kafka message to the ledger commit (built apps, OTLP)', () => {
  let pipeline: Pipeline;
  let collector: Awaited<ReturnType<typeof memoryCollector>>;

  beforeAll(async () => {
    collector = await memoryCollector();
    pipeline = await openPipeline('tracing', {
      partitions: 1,
      extra: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url },
    });
    await pipeline.start('ingest');
  }, 180_000);

  afterAll(async () => {
    await pipeline?.close();
    await new Promise((resolve) => collector?.server.close(resolve));
  });

  const wanted = [
    'ingest batch',
    'StartWorkflow:settleBatch',
    'RunWorkflow:settleBatch',
    'StartActivity:settleBatch',
    'RunActivity:settleBatch',
    'ledger commit',
  ];

  /** Produces one transfer whose producer span is given; returns its transaction id. */
  async function produceTraced(traceId: string, producerSpan: string): Promise<string> {
    const run = randomBytes(3).toString('hex');
    const [funder, shop] = [`tr-${run}-funder`, `tr-${run}-shop`];
    await openAccounts(pipeline.db.db, [{ id: funder, overdraftLimit: 1_000_000n }, { id: shop }]);
    await pipeline.producer.send({
      topic: pipeline.topics.transactions,
      acks: -1,
      messages: [
        {
          key: funder,
          value: txValue({ id: `tr-${run}`, debit: funder, credit: shop, amount: '5' }),
          headers: { traceparent: `00-${traceId}-${producerSpan}-01` },
        },
      ],
    });
    return `tr-${run}`;
  }

  it('connects ingest, the workflow, the settle activity and the commit in the producer trace', async () => {
    const traceId = randomBytes(16).toString('hex');
    const producerSpan = randomBytes(8).toString('hex');
    await produceTraced(traceId, producerSpan);
    const started = Date.now();
    // The apps export in batches (every few seconds): wait until each span arrived.
    const trace = await waitFor(
      'the spans of the trace',
      async () => {
        const mine = collector.spans.filter((s) => s.traceId === traceId);
        return wanted.every((name) => mine.some((s) => s.name === name)) ? mine : undefined;
      },
      90_000,
      500,
    );
    const byName = (name: string) => trace.find((s) => s.name === name)!;
    expect(byName('ingest batch').parentSpanId).toBe(producerSpan);
    expect(byName('ingest batch').service).toBe('settlement-ingest');
    expect(byName('RunActivity:settleBatch').service).toBe('settlement-worker');
    // Each step is the child of the one before: one connected trace, not just one id.
    for (let i = 1; i < wanted.length; i++) {
      const parent = byName(wanted[i - 1]);
      expect({ span: wanted[i], parent: byName(wanted[i]).parentSpanId }).toEqual({
        span: wanted[i],
        parent: parent.spanId,
      });
    }
    process.stdout.write(
      `one trace ${traceId}: ${trace.length} spans (${[...new Set(trace.map((s) => s.name))].join(', ')}) within ${Date.now() - started} ms\n`,
    );
  });

  // Runs last: it stops the apps.
  it('sends the spans still queued when the apps stop', async () => {
    const traceId = randomBytes(16).toString('hex');
    const id = await produceTraced(traceId, randomBytes(8).toString('hex'));
    const batchId = await waitFor(
      'the transaction settled',
      async () =>
        (
          await pipeline.db.db.execute<{ batch_id: string }>(
            sql`select batch_id from transactions where id = ${id}`,
          )
        )[0]?.batch_id,
      60_000,
      50,
    );
    // Its workflow closed: every span of the batch has ended, none is in flight.
    const client = await temporalClient();
    try {
      await client.workflow.getHandle(settleBatchWorkflowId(batchId)).result();
    } finally {
      await client.connection.close();
    }
    // The exporter sends every few seconds: stopped at once, only a flush at shutdown sends
    // the spans of this batch.
    const before = collector.spans.filter((s) => s.traceId === traceId).length;
    const stopped = Date.now();
    await Promise.all(pipeline.apps.map((a) => a.stop()));
    const names = new Set(collector.spans.filter((s) => s.traceId === traceId).map((s) => s.name));
    process.stdout.write(
      `spans of the last batch: ${before} before the stop, ${names.size} names after it (apps stopped in ${Date.now() - stopped} ms)\n`,
    );
    expect(wanted.filter((name) => !names.has(name))).toEqual([]);
  });
});

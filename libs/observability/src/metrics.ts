import { performance } from 'node:perf_hooks';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type Metric,
} from 'prom-client';

/**
 * One registry per process. Metric names are part of the operations contract: the KEDA
 * Prometheus trigger, the alerts (k8s/overlays/eks/prometheusrule.yaml) and the Grafana
 * dashboard (docs/grafana) read them. Families are created unregistered; each process exports
 * only its own ({@link exportMetricsOf}), so no scrape shows another process's empty series.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const metrics = {
  ingestMessages: new Counter({
    name: 'settlement_ingest_messages_total',
    help: 'Messages read from the transactions topic',
    labelNames: ['topic', 'partition'],
    registers: [],
  }),
  consumerLag: new Gauge({
    name: 'settlement_ingest_consumer_lag',
    help: 'End offset minus committed offset, per partition',
    labelNames: ['topic', 'partition'],
    registers: [],
  }),
  inFlightBatches: new Gauge({
    name: 'settlement_ingest_in_flight_batches',
    help: 'Batches started in Temporal and not yet settled, per partition',
    labelNames: ['topic', 'partition'],
    registers: [],
  }),
  pausedPartitions: new Gauge({
    name: 'settlement_ingest_paused',
    help: '1 when consumption is paused by an operator',
    registers: [],
  }),
  batchSize: new Histogram({
    name: 'settlement_batch_size',
    help: 'Messages per micro-batch',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000],
    registers: [],
  }),
  batchAge: new Histogram({
    name: 'settlement_batch_age_seconds',
    help: 'Time from the first message of a batch to the batch closing',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [],
  }),
  workflowStartLatency: new Histogram({
    name: 'settlement_workflow_start_seconds',
    help: 'Latency of starting a settleBatch workflow',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [],
  }),
  batchSettleDuration: new Histogram({
    name: 'settlement_batch_settle_duration_seconds',
    help: 'Duration of the settle activity database transaction',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [],
  }),
  deadLetters: new Counter({
    name: 'settlement_dead_letters_total',
    help: 'Dead-lettered messages by reason',
    labelNames: ['reason'],
    registers: [],
  }),
  outcomes: new Counter({
    name: 'settlement_outcomes_total',
    help: 'Transaction outcomes by status (SETTLED, REJECTED) and rejection reason',
    labelNames: ['status', 'reason'],
    registers: [],
  }),
  duplicates: new Counter({
    name: 'settlement_duplicates_total',
    help: 'Messages whose id was seen before with identical content (no effect)',
    registers: [],
  }),
};

export type MetricsOwner = 'ingest' | 'worker' | 'admin';

/** Which process decides (and so exports) each family. */
const FAMILIES: Record<MetricsOwner, (keyof typeof metrics)[]> = {
  ingest: [
    'ingestMessages',
    'consumerLag',
    'inFlightBatches',
    'pausedPartitions',
    'batchSize',
    'batchAge',
    'workflowStartLatency',
    // Ingest dead-letters what does not parse (MALFORMED_JSON, SCHEMA_VIOLATION, TOO_LARGE).
    'deadLetters',
  ],
  // The worker decides outcomes, duplicates and conflicts (DUPLICATE_CONFLICT dead letters).
  worker: ['batchSettleDuration', 'outcomes', 'duplicates', 'deadLetters'],
  // The admin records the operator's durable pause decision.
  admin: ['pausedPartitions'],
};

const exported = new Set<Metric>();

/** Registers the families `owner` exports on /metrics (idempotent). */
export function exportMetricsOf(owner: MetricsOwner): void {
  const families: Metric[] = FAMILIES[owner].map((name) => metrics[name]);
  if (owner !== 'admin') families.push(coldStart);
  for (const metric of families) {
    if (exported.has(metric)) continue;
    exported.add(metric);
    registry.registerMetric(metric);
  }
}

/** Text in the Prometheus format from another exporter of this process (Temporal's core). */
type MetricsSource = () => Promise<string>;
const sources: MetricsSource[] = [];

/** Adds a source whose text /metrics serves after this registry's, on the same scrape. */
export function addMetricsSource(source: MetricsSource): void {
  sources.push(source);
}

/** Everything /metrics serves: this process's families, then each added source. */
export async function metricsText(): Promise<string> {
  const parts = [await registry.metrics()];
  for (const source of sources) {
    try {
      parts.push(await source());
    } catch {
      // A source that cannot answer (still starting) leaves the scrape with our own families.
    }
  }
  return parts.join('\n');
}

/** Readiness for scale-from-zero: the first unit of work after the process started. */
export type ColdStartStep = 'worker_first_poll' | 'ingest_first_workflow_start';

const coldStart: Gauge<'step'> = new Gauge({
  name: 'settlement_cold_start_seconds',
  help: 'Process start to its first unit of work (worker: first workflow task poll; ingest: first workflow started)',
  labelNames: ['step'],
  registers: [],
});
const coldStartSeen = new Set<ColdStartStep>();

/** Records `step` once per process, as seconds since the process started. */
export function recordColdStart(step: ColdStartStep): void {
  if (coldStartSeen.has(step)) return;
  coldStartSeen.add(step);
  coldStart.set({ step }, performance.now() / 1000);
}

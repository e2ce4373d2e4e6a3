import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One registry per process. Metric names are part of the operations contract: the KEDA
 * Prometheus trigger and the Grafana dashboard (docs/grafana) read them.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const metrics = {
  ingestMessages: new Counter({
    name: 'settlement_ingest_messages_total',
    help: 'Messages read from the transactions topic',
    labelNames: ['topic', 'partition'],
    registers: [registry],
  }),
  consumerLag: new Gauge({
    name: 'settlement_ingest_consumer_lag',
    help: 'End offset minus committed offset, per partition',
    labelNames: ['topic', 'partition'],
    registers: [registry],
  }),
  inFlightBatches: new Gauge({
    name: 'settlement_ingest_in_flight_batches',
    help: 'Batches started in Temporal and not yet settled, per partition',
    labelNames: ['topic', 'partition'],
    registers: [registry],
  }),
  pausedPartitions: new Gauge({
    name: 'settlement_ingest_paused',
    help: '1 when consumption is paused by an operator',
    registers: [registry],
  }),
  batchSize: new Histogram({
    name: 'settlement_batch_size',
    help: 'Messages per micro-batch',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000],
    registers: [registry],
  }),
  batchAge: new Histogram({
    name: 'settlement_batch_age_seconds',
    help: 'Time from the first message of a batch to the batch closing',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  }),
  workflowStartLatency: new Histogram({
    name: 'settlement_workflow_start_seconds',
    help: 'Latency of starting a settleBatch workflow',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  }),
  batchSettleDuration: new Histogram({
    name: 'settlement_batch_settle_duration_seconds',
    help: 'Duration of the settle activity database transaction',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  deadLetters: new Counter({
    name: 'settlement_dead_letters_total',
    help: 'Dead-lettered messages by reason',
    labelNames: ['reason'],
    registers: [registry],
  }),
  outcomes: new Counter({
    name: 'settlement_outcomes_total',
    help: 'Transaction outcomes by status (SETTLED, REJECTED) and rejection reason',
    labelNames: ['status', 'reason'],
    registers: [registry],
  }),
  duplicates: new Counter({
    name: 'settlement_duplicates_total',
    help: 'Messages whose id was seen before with identical content (no effect)',
    registers: [registry],
  }),
};

/** Readiness for scale-from-zero: the first unit of work after the process started. */
export type ColdStartStep = 'worker_first_poll' | 'ingest_first_workflow_start';

const coldStart = new Gauge({
  name: 'settlement_cold_start_seconds',
  help: 'Process start to its first unit of work (worker: first workflow task poll; ingest: first workflow started)',
  labelNames: ['step'],
  registers: [registry],
});
const coldStartSeen = new Set<ColdStartStep>();

/** Records `step` once per process, as seconds since the process started. */
export function recordColdStart(step: ColdStartStep): void {
  if (coldStartSeen.has(step)) return;
  coldStartSeen.add(step);
  coldStart.set({ step }, performance.now() / 1000);
}

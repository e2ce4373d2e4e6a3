/**
 * The recorded scaling run (docs/autoscaling/scenario.json) and the checks on the decisions KEDA and
 * the HPA took in it. Pure: shared by the scenario (which fails a run that breaks them), the
 * chart and the tests.
 */

export const PHASES = [
  'warm-up',
  'idle',
  'burst',
  'sustained',
  'drain',
  'flapping',
  'final-drain',
] as const;
export type Phase = (typeof PHASES)[number];

export interface AppSample {
  /** spec.replicas of the Deployment: what KEDA (0 <-> 1) and the HPA (1 <-> N) decided. */
  replicas: number;
  /** status.desiredReplicas of KEDA's HPA (null while the HPA has not computed one). */
  hpaDesired: number | null;
  /** Local processes running for this Deployment (pods do not run here; see the scenario). */
  processes: number;
}

export interface ScalingSample {
  /** Seconds since the run started. */
  t: number;
  phase: Phase;
  /** Messages of the topic not yet committed by the ingest consumer group. */
  lag: number;
  /** Messages appended to the topic per second since the previous sample. */
  inboundPerSec: number;
  /** Approximate backlog of the task queue (workflow + activity tasks). */
  backlog: number;
  /** Batches recorded PENDING and not yet settled: the worker's in-flight trigger. */
  inFlight: number;
  ingest: AppSample;
  worker: AppSample;
}

export interface AppSettings {
  minReplicas: number;
  maxReplicas: number;
  pollingIntervalSec: number;
  cooldownSec: number;
  scaleDownWindowSec: number;
  /** lagThreshold (ingest) or targetQueueSize (worker). */
  target: number;
  /** targetQueryValue of the worker's in-flight trigger (PENDING batches per replica). */
  inFlightTarget?: number;
}

export interface ScalingRun {
  recordedAt: string;
  machine: string;
  sampleEverySec: number;
  hpaSyncPeriodSec: number;
  partitions: number;
  settings: { ingest: AppSettings; worker: AppSettings };
  /** Replica counts the burst must reach (at least). */
  expected: { ingest: number; worker: number };
  phases: { phase: Phase; from: number; to: number; note: string }[];
  samples: ScalingSample[];
}

export type App = 'ingest' | 'worker';

export interface ScaleEvent {
  t: number;
  app: App;
  from: number;
  to: number;
}

/** Every change of spec.replicas between two samples, in time order. */
export function scaleEvents(samples: readonly ScalingSample[], app: App): ScaleEvent[] {
  const events: ScaleEvent[] = [];
  for (let i = 1; i < samples.length; i++) {
    const from = samples[i - 1][app].replicas;
    const to = samples[i][app].replicas;
    if (from !== to) events.push({ t: samples[i].t, app, from, to });
  }
  return events;
}

/**
 * Scale-ins that came sooner after the preceding scale-out than the rules allow: the HPA's
 * scale-down stabilization window for N -> M >= 1, KEDA's cooldown for 1 -> 0. `slackSec`
 * absorbs the sampling interval (a change is seen up to one sample late or early).
 */
export function fastReversals(
  run: ScalingRun,
  app: App,
  slackSec = 2 * run.sampleEverySec,
): (ScaleEvent & { sinceScaleOutSec: number; allowedSec: number })[] {
  const s = run.settings[app];
  const bad: (ScaleEvent & { sinceScaleOutSec: number; allowedSec: number })[] = [];
  let lastUp: number | undefined;
  for (const e of scaleEvents(run.samples, app)) {
    if (e.to > e.from) {
      lastUp = e.t;
      continue;
    }
    if (lastUp === undefined) continue;
    const allowed = e.to === 0 ? s.cooldownSec : s.scaleDownWindowSec;
    const since = e.t - lastUp;
    if (since < allowed - slackSec)
      bad.push({ ...e, sinceScaleOutSec: since, allowedSec: allowed });
  }
  return bad;
}

/** Whether the app had work in a sample: lag for ingest; backlog or in-flight for the worker. */
export function busy(s: ScalingSample, app: App): boolean {
  return app === 'ingest' ? s.lag > 0 : s.backlog > 0 || s.inFlight > 0;
}

export function samplesOf(run: ScalingRun, phase: Phase): ScalingSample[] {
  return run.samples.filter((s) => s.phase === phase);
}

export function peak(samples: readonly ScalingSample[], app: App): number {
  return samples.reduce((m, s) => Math.max(m, s[app].replicas), 0);
}

/** What the run shows, and every rule it breaks (empty when the decisions are right). */
export function assessRun(run: ScalingRun): {
  summary: Record<string, number>;
  problems: string[];
} {
  const problems: string[] = [];
  const idle = samplesOf(run, 'idle');
  const load = [...samplesOf(run, 'burst'), ...samplesOf(run, 'sustained')];
  const drain = samplesOf(run, 'drain');
  const finalDrain = samplesOf(run, 'final-drain');
  const flapping = samplesOf(run, 'flapping');
  if (idle.length === 0) problems.push('no idle samples');
  for (const s of idle) {
    if (s.ingest.replicas !== 0 || s.worker.replicas !== 0)
      problems.push(`idle at t=${s.t}s: ingest ${s.ingest.replicas}, worker ${s.worker.replicas}`);
  }
  for (const app of ['ingest', 'worker'] as const) {
    const top = peak(load, app);
    if (top < run.expected[app])
      problems.push(
        `${app} reached ${top} replicas under the burst, expected >= ${run.expected[app]}`,
      );
    if (top > run.settings[app].maxReplicas)
      problems.push(`${app} exceeded maxReplicaCount: ${top}`);
    for (const [name, samples] of [
      ['drain', drain],
      ['final-drain', finalDrain],
    ] as const) {
      const last = samples.at(-1);
      if (!last || last[app].replicas !== 0)
        problems.push(`${app} not back to 0 at the end of ${name} (${last?.[app].replicas})`);
    }
    for (const r of fastReversals(run, app))
      problems.push(
        `${app} ${r.from} -> ${r.to} at t=${r.t}s, ${r.sinceScaleOutSec}s after scaling out (allowed ${r.allowedSec}s)`,
      );
    for (const s of idleWhileBusy(run, app))
      problems.push(`${app} at 0 replicas at t=${s.t}s with work waiting (${s.phase})`);
  }
  const sustained = samplesOf(run, 'sustained');
  if (sustained.length === 0) problems.push('no sustained samples');
  for (const s of sustained)
    if (s.ingest.replicas === 0) problems.push(`ingest at 0 under sustained traffic at t=${s.t}s`);
  return {
    summary: {
      idleSamples: idle.length,
      peakLag: load.reduce((m, s) => Math.max(m, s.lag), 0),
      peakBacklog: load.reduce((m, s) => Math.max(m, s.backlog), 0),
      peakIngest: peak(load, 'ingest'),
      peakWorker: peak(load, 'worker'),
      flappingIngestChanges: scaleEvents(flapping, 'ingest').length,
      flappingLagSwings: lagSwings(flapping, run.settings.ingest.target),
    },
    problems,
  };
}

/** How often the lag crossed the per-replica threshold upwards (the input's oscillations). */
export function lagSwings(samples: readonly ScalingSample[], threshold: number): number {
  let swings = 0;
  for (let i = 1; i < samples.length; i++)
    if (samples[i - 1].lag < threshold && samples[i].lag >= threshold) swings++;
  return swings;
}

/**
 * Samples at which an app stood at 0 although it had had work for longer than KEDA needs to
 * notice (one polling interval plus `slackSec` for the sampling): work left waiting, as when
 * the worker sat at 0 while batches waited in retry backoff.
 */
export function idleWhileBusy(
  run: ScalingRun,
  app: App,
  slackSec = 2 * run.sampleEverySec,
): ScalingSample[] {
  const allowed = run.settings[app].pollingIntervalSec + slackSec;
  const bad: ScalingSample[] = [];
  let busySince: number | undefined;
  for (const s of run.samples) {
    if (!busy(s, app)) {
      busySince = undefined;
      continue;
    }
    busySince ??= s.t;
    if (s[app].replicas === 0 && s.t - busySince > allowed) bad.push(s);
  }
  return bad;
}

export interface DecisionTimes {
  /** From the first sample with work after an idle stretch to the first with a replica (0 -> 1). */
  activationSec: number[];
  /** From the first sample at 1 replica to the first above 1 (the HPA's 1 -> N), per wake-up. */
  scaleOutSec: number[];
  /** From the last sample with work to the one at 0 replicas (KEDA's cooldown, 1 -> 0). */
  toZeroSec: number[];
}

/** The measured decision times of one app, each to within one sampling interval. */
export function decisionTimes(run: ScalingRun, app: App): DecisionTimes {
  const out: DecisionTimes = { activationSec: [], scaleOutSec: [], toZeroSec: [] };
  const samples = run.samples;
  let firstBusy: number | undefined;
  let firstUp: number | undefined;
  let lastBusy: number | undefined;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    const replicas = s[app].replicas;
    const prev = i > 0 ? samples[i - 1][app].replicas : replicas;
    if (busy(s, app)) lastBusy = s.t;
    if (replicas === 0) {
      if (prev > 0 && lastBusy !== undefined) out.toZeroSec.push(round(s.t - lastBusy));
      firstUp = undefined;
      firstBusy = busy(s, app) ? (firstBusy ?? s.t) : undefined;
      continue;
    }
    if (prev === 0 && i > 0) {
      // Work seen first in this very sample: woken within one sampling interval.
      const since = firstBusy ?? (busy(s, app) ? s.t : undefined);
      if (since !== undefined) out.activationSec.push(round(s.t - since));
      firstBusy = undefined;
      firstUp = s.t;
    }
    if (replicas > 1 && firstUp !== undefined) {
      out.scaleOutSec.push(round(s.t - firstUp));
      firstUp = undefined;
    }
  }
  return out;
}

const round = (n: number) => Math.round(n * 10) / 10;

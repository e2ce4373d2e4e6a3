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
  }
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

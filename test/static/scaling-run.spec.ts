import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderChart } from '../../scripts/scaling/chart';
import {
  assessRun,
  busy,
  decisionTimes,
  fastReversals,
  idleWhileBusy,
  lagSwings,
  peak,
  PHASES,
  samplesOf,
  scaleEvents,
  type ScalingRun,
  type ScalingSample,
} from '../../scripts/scaling/decisions';
import { find, ROOT, render } from './support';

/**
 * The scaling decisions KEDA and the HPA took on the local stack (npm run scaling:run,
 * recorded in docs/autoscaling/scenario.json): 0 replicas idle, scale-out under the burst, held
 * under sustained traffic, back to 0 after the cooldown, workers kept while settlement is in
 * flight, and no scale-in sooner after a scale-out than the stabilization window, also while
 * the lag swings around the threshold.
 */
const RUN: ScalingRun = JSON.parse(
  readFileSync(path.join(ROOT, 'docs/autoscaling/scenario.json'), 'utf8'),
);
// What the 40,000-message burst reached at least (docs/operations.md: the recorded run).
const EXPECTED_INGEST = 4;
const EXPECTED_WORKER = 2;

describe('the recorded scaling run (docs/autoscaling/scenario.json)', () => {
  it('was recorded with the scaling overlay as committed', () => {
    const objects = render('k8s/overlays/scaling');
    for (const [app, key] of [
      ['ingest', 'lagThreshold'],
      ['worker', 'targetQueueSize'],
    ] as const) {
      const so = find(objects, 'ScaledObject', `settlement-${app}`);
      const s = RUN.settings[app];
      expect(s.maxReplicas).toBe(so.spec.maxReplicaCount);
      expect(s.cooldownSec).toBe(so.spec.cooldownPeriod);
      expect(s.pollingIntervalSec).toBe(so.spec.pollingInterval);
      expect(s.scaleDownWindowSec).toBe(
        so.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown
          .stabilizationWindowSeconds,
      );
      expect(s.target).toBe(Number(so.spec.triggers[0].metadata[key]));
    }
    const worker = find(objects, 'ScaledObject', 'settlement-worker');
    const inFlight = worker.spec.triggers.find(
      (t: { name: string }) => t.name === 'in-flight-batches',
    );
    expect(RUN.settings.worker.inFlightTarget).toBe(Number(inFlight.metadata.targetQueryValue));
  });

  it('records every phase of the scenario and breaks no decision rule', () => {
    expect(RUN.phases.map((p) => p.phase)).toEqual([...PHASES]);
    expect(assessRun(RUN).problems).toEqual([]);
  });

  it('keeps both Deployments at 0 while idle', () => {
    const idle = samplesOf(RUN, 'idle');
    expect(idle.length).toBeGreaterThanOrEqual(3);
    expect(idle.map((s) => [s.ingest.replicas, s.worker.replicas])).toEqual(idle.map(() => [0, 0]));
  });

  it('scales ingest out 1 -> N through the HPA and wakes the worker under the burst', () => {
    const burst = samplesOf(RUN, 'burst');
    const peakLag = Math.max(...burst.map((s) => s.lag));
    process.stdout.write(
      `burst: peak lag ${peakLag}, ingest ${peak(burst, 'ingest')}, worker ${peak(burst, 'worker')}\n`,
    );
    expect(peakLag).toBeGreaterThanOrEqual(EXPECTED_INGEST * RUN.settings.ingest.target);
    // KEDA activates (0 -> 1), then the HPA reads the lag through KEDA's metrics adapter.
    const ups = scaleEvents(RUN.samples, 'ingest').filter(
      (e) => e.t >= burst[0].t && e.to > e.from,
    );
    expect(ups[0]).toMatchObject({ from: 0, to: 1 });
    expect(peak(burst, 'ingest')).toBeGreaterThanOrEqual(EXPECTED_INGEST);
    expect(peak(burst, 'ingest')).toBeLessThanOrEqual(RUN.settings.ingest.maxReplicas);
    expect(burst.some((s) => (s.ingest.hpaDesired ?? 0) >= EXPECTED_INGEST)).toBe(true);
    // Ingest commits once a batch is started, so the lag empties before the batches settle:
    // the workers' scale-out shows from the burst into the sustained phase.
    const load = [...burst, ...samplesOf(RUN, 'sustained')];
    expect(peak(load, 'worker')).toBeGreaterThanOrEqual(EXPECTED_WORKER);
  });

  it('holds ingest under sustained traffic', () => {
    const sustained = samplesOf(RUN, 'sustained');
    expect(sustained.length).toBeGreaterThanOrEqual(6);
    expect(sustained.every((s) => s.ingest.replicas >= 1)).toBe(true);
    expect(Math.max(...sustained.map((s) => s.inboundPerSec))).toBeGreaterThan(0);
  });

  it('keeps workers while batches are in flight, not only while tasks are queued', () => {
    expect(idleWhileBusy(RUN, 'worker')).toEqual([]);
    expect(idleWhileBusy(RUN, 'ingest')).toEqual([]);
    // The case the backlog alone misses: batches in flight with an empty task queue. A
    // worker at 0 there is only the first sample of a wake-up (idleWhileBusy allows one poll).
    const inFlightOnly = RUN.samples.filter((s) => s.inFlight > 0 && s.backlog === 0);
    expect(inFlightOnly.filter((s) => s.worker.replicas > 0).length).toBeGreaterThanOrEqual(3);
  });

  it('rides out a lag swinging around the threshold without flapping', () => {
    const flapping = samplesOf(RUN, 'flapping');
    const swings = lagSwings(flapping, RUN.settings.ingest.target);
    const changes = scaleEvents(flapping, 'ingest');
    process.stdout.write(
      `flapping: lag crossed ${RUN.settings.ingest.target} upwards ${swings} times, ingest changed ${changes.length} times\n`,
    );
    expect(swings).toBeGreaterThanOrEqual(2);
    expect(changes.length).toBeLessThan(2 * swings);
    // The phase starts after a drain to 0: once awake (within two samples), ingest is not
    // scaled to 0 again in the silences between the swings.
    const awake = flapping.findIndex((s) => s.ingest.replicas >= 1);
    expect(awake).toBeGreaterThanOrEqual(0);
    expect(awake).toBeLessThanOrEqual(2);
    expect(flapping.slice(awake).every((s) => s.ingest.replicas >= 1)).toBe(true);
  });

  it('decides within bounds: wake-up within two polls, 1 -> N within two HPA syncs, 0 one cooldown after the work', () => {
    for (const app of ['ingest', 'worker'] as const) {
      const t = decisionTimes(RUN, app);
      const s = RUN.settings[app];
      process.stdout.write(`${app} decision times (s): ${JSON.stringify(t)}\n`);
      expect(t.activationSec.length).toBeGreaterThanOrEqual(2);
      for (const a of t.activationSec)
        expect(a).toBeLessThanOrEqual(2 * s.pollingIntervalSec + 2 * RUN.sampleEverySec);
      for (const z of t.toZeroSec) {
        expect(z).toBeGreaterThanOrEqual(s.cooldownSec - 2 * RUN.sampleEverySec);
        expect(z).toBeLessThanOrEqual(
          s.cooldownSec + s.scaleDownWindowSec + 4 * RUN.sampleEverySec,
        );
      }
    }
    const out = decisionTimes(RUN, 'ingest').scaleOutSec;
    expect(out.length).toBeGreaterThanOrEqual(1);
    expect(out[0]).toBeLessThanOrEqual(2 * RUN.hpaSyncPeriodSec + RUN.sampleEverySec);
  });

  it('returns to 0 one cooldown after the metric went quiet, and not before', () => {
    let seen = 0;
    for (const app of ['ingest', 'worker'] as const) {
      for (const toZero of scaleEvents(RUN.samples, app).filter((e) => e.to === 0)) {
        const lastBusy = RUN.samples.filter((s) => s.t < toZero.t && busy(s, app)).at(-1);
        expect(lastBusy).toBeDefined();
        expect(toZero.t - lastBusy!.t).toBeGreaterThanOrEqual(
          RUN.settings[app].cooldownSec - 2 * RUN.sampleEverySec,
        );
        seen++;
      }
    }
    // Ingest and worker after the warm-up, the drain and the final drain.
    expect(seen).toBeGreaterThanOrEqual(6);
  });

  it('never scales in sooner after a scale-out than the stabilization window (or the cooldown for 1 -> 0)', () => {
    expect(fastReversals(RUN, 'ingest')).toEqual([]);
    expect(fastReversals(RUN, 'worker')).toEqual([]);
  });

  it('scales ingest in one pod at a time, no faster than the scale-down policy', () => {
    const downs = scaleEvents(RUN.samples, 'ingest').filter((e) => e.to > 0 && e.to < e.from);
    expect(downs.length).toBeGreaterThanOrEqual(2);
    for (const d of downs) expect(d.from - d.to).toBe(1);
    for (let i = 1; i < downs.length; i++)
      expect(downs[i].t - downs[i - 1].t).toBeGreaterThanOrEqual(30 - RUN.sampleEverySec);
  });

  it('is drawn by scripts/scaling/chart.ts as committed (npm run scaling:chart)', () => {
    const svg = readFileSync(path.join(ROOT, 'docs/autoscaling/scenario.svg'), 'utf8');
    expect(svg).toBe(renderChart(RUN));
  });
});

describe('scaling decision rules (scripts/scaling/decisions.ts)', () => {
  const sample = (t: number, ingest: number): ScalingSample => ({
    t,
    phase: 'burst',
    lag: 0,
    inboundPerSec: 0,
    backlog: 0,
    inFlight: 0,
    ingest: { replicas: ingest, hpaDesired: ingest, processes: ingest },
    worker: { replicas: 0, hpaDesired: null, processes: 0 },
  });
  const run = (samples: ScalingSample[]): ScalingRun => ({
    ...RUN,
    sampleEverySec: 5,
    settings: {
      ...RUN.settings,
      ingest: { ...RUN.settings.ingest, scaleDownWindowSec: 60, cooldownSec: 30 },
    },
    samples,
  });

  it('flags a scale-in that comes before the window has passed', () => {
    const flapping = run([sample(0, 1), sample(5, 4), sample(25, 2), sample(30, 4)]);
    expect(fastReversals(flapping, 'ingest')).toEqual([
      expect.objectContaining({ t: 25, from: 4, to: 2, sinceScaleOutSec: 20, allowedSec: 60 }),
    ]);
  });

  it('accepts a scale-in after the window and 1 -> 0 after the cooldown', () => {
    const calm = run([sample(0, 1), sample(5, 4), sample(70, 3), sample(110, 1), sample(150, 0)]);
    expect(fastReversals(calm, 'ingest')).toEqual([]);
    expect(fastReversals(run([sample(0, 0), sample(5, 1), sample(20, 0)]), 'ingest')).toEqual([
      expect.objectContaining({ to: 0, sinceScaleOutSec: 15, allowedSec: 30 }),
    ]);
  });
});

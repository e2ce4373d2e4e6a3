/**
 * npm run scaling:chart — draws the recorded scaling run (docs/autoscaling/scenario.json) as an SVG
 * (docs/autoscaling/scenario.svg): inbound rate, Kafka lag, Temporal backlog, batches in flight and the replicas KEDA
 * and the HPA set, on one time axis with the scenario's phases and the thresholds.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Phase, ScalingRun, ScalingSample } from './decisions';

const WIDTH = 960;
const LEFT = 70;
const RIGHT = 20;
const PANEL = 120;
const GAP = 34;
const TOP = 46;

const PHASE_FILL: Record<Phase, string> = {
  'warm-up': '#f4f4f4',
  idle: '#eef6ee',
  burst: '#fdecea',
  sustained: '#fff6e0',
  drain: '#eaf1fb',
  flapping: '#f3ecfa',
  'final-drain': '#eaf1fb',
};

interface Series {
  label: string;
  color: string;
  value: (s: ScalingSample) => number | null;
  dash?: string;
  step?: boolean;
}

interface PanelSpec {
  title: string;
  series: Series[];
  /** Horizontal reference lines (thresholds). */
  lines?: { value: number; label: string }[];
  integer?: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (n: number) =>
  n >= 10_000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : `${n}`;

function niceMax(v: number, integer: boolean): number {
  if (v <= 0) return integer ? 2 : 1;
  const mag = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10])
    if (m * mag >= v) return integer ? Math.ceil(m * mag) : m * mag;
  return 10 * mag;
}

export function renderChart(run: ScalingRun): string {
  const t1 = Math.max(...run.samples.map((s) => s.t), 1);
  const plotW = WIDTH - LEFT - RIGHT;
  const x = (t: number) => LEFT + (t / t1) * plotW;
  const ing = run.settings.ingest;
  const wrk = run.settings.worker;
  const panels: PanelSpec[] = [
    {
      title: 'Inbound rate (msg/s)',
      series: [{ label: 'published to the topic', color: '#555', value: (s) => s.inboundPerSec }],
    },
    {
      title: `Kafka lag (messages); ingest wants ceil(lag / ${fmt(ing.target)}) replicas`,
      series: [{ label: 'consumer-group lag', color: '#c0392b', value: (s) => s.lag }],
      lines: [1, 3].map((k) => ({ value: k * ing.target, label: `${k} x lagThreshold` })),
    },
    {
      title: `Worker: ceil(backlog / ${wrk.target}) or ceil(batches in flight / ${wrk.inFlightTarget ?? '-'}) replicas, the larger`,
      series: [
        { label: 'task-queue backlog', color: '#2471a3', value: (s) => s.backlog },
        {
          label: 'batches in flight (PENDING)',
          color: '#7d3c98',
          value: (s) => s.inFlight ?? null,
          step: true,
        },
      ],
      lines: [{ value: wrk.target, label: 'targetQueueSize' }],
    },
    {
      title: 'Replicas (Deployment spec.replicas set by KEDA 0<->1 and the HPA 1<->N)',
      integer: true,
      series: [
        { label: 'ingest', color: '#c0392b', value: (s) => s.ingest.replicas, step: true },
        { label: 'worker', color: '#2471a3', value: (s) => s.worker.replicas, step: true },
        {
          label: 'ingest HPA desired',
          color: '#c0392b',
          dash: '2 3',
          value: (s) => (s.ingest.replicas > 0 ? s.ingest.hpaDesired : null),
          step: true,
        },
        {
          label: 'worker HPA desired',
          color: '#2471a3',
          dash: '2 3',
          value: (s) => (s.worker.replicas > 0 ? s.worker.hpaDesired : null),
          step: true,
        },
      ],
      lines: [{ value: ing.maxReplicas, label: 'ingest max' }],
    },
  ];
  const height = TOP + panels.length * (PANEL + GAP) + 30;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${LEFT}" y="16" font-size="14" font-weight="bold">KEDA + HPA on the local stack: ${esc(run.recordedAt.slice(0, 16).replace('T', ' '))} UTC, ${esc(run.machine.split(',').slice(0, 2).join(','))}</text>`,
    `<text x="${LEFT}" y="32" fill="#444">ingest: lag ${ing.target}/pod, max ${ing.maxReplicas}, window ${ing.scaleDownWindowSec}s, cooldown ${ing.cooldownSec}s | worker: backlog ${wrk.target}/pod, in flight ${wrk.inFlightTarget ?? '-'}/pod, max ${wrk.maxReplicas}, window ${wrk.scaleDownWindowSec}s, cooldown ${wrk.cooldownSec}s | HPA sync ${run.hpaSyncPeriodSec}s</text>`,
  ];
  panels.forEach((panel, i) => {
    const top = TOP + i * (PANEL + GAP) + 16;
    const bottom = top + PANEL;
    const values = run.samples.flatMap((s) =>
      panel.series.map((se) => se.value(s)).filter((v): v is number => v !== null),
    );
    const max = niceMax(
      Math.max(...values, ...(panel.lines ?? []).map((l) => l.value * 1.05)),
      panel.integer ?? false,
    );
    const y = (v: number) => bottom - (v / max) * PANEL;
    for (const p of run.phases) {
      // The last phase ends after its last sample: clip it to the time axis.
      const to = Math.min(p.to, t1);
      if (to <= p.from) continue;
      parts.push(
        `<rect x="${x(p.from).toFixed(1)}" y="${top}" width="${(x(to) - x(p.from)).toFixed(1)}" height="${PANEL}" fill="${PHASE_FILL[p.phase]}"/>`,
      );
      // A label that would run off the right edge ends at it instead.
      const atEnd = x(p.from) > WIDTH - RIGHT - 70;
      if (i === 0)
        parts.push(
          `<text x="${(atEnd ? WIDTH - RIGHT - 3 : x(p.from) + 3).toFixed(1)}" y="${top + 11}"${atEnd ? ' text-anchor="end"' : ''} fill="#333">${esc(p.phase)}</text>`,
        );
    }
    parts.push(`<text x="${LEFT}" y="${top - 4}" font-weight="bold">${esc(panel.title)}</text>`);
    for (const frac of [0, 0.5, 1]) {
      const v = max * frac;
      parts.push(
        `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`,
        `<text x="${LEFT - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${fmt(Math.round(v * 10) / 10)}</text>`,
      );
    }
    for (const l of panel.lines ?? []) {
      if (l.value > max) continue;
      parts.push(
        `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y(l.value).toFixed(1)}" y2="${y(l.value).toFixed(1)}" stroke="#888" stroke-dasharray="6 4"/>`,
        `<text x="${WIDTH - RIGHT - 4}" y="${(y(l.value) - 3).toFixed(1)}" text-anchor="end" fill="#666">${esc(l.label)}</text>`,
      );
    }
    panel.series.forEach((se, k) => {
      const segments: string[][] = [[]];
      let prev: { t: number; v: number } | undefined;
      for (const s of run.samples) {
        const v = se.value(s);
        if (v === null) {
          if (segments.at(-1)!.length > 0) segments.push([]);
          prev = undefined;
          continue;
        }
        const seg = segments.at(-1)!;
        if (se.step && prev) seg.push(`${x(s.t).toFixed(1)},${y(prev.v).toFixed(1)}`);
        seg.push(`${x(s.t).toFixed(1)},${y(v).toFixed(1)}`);
        prev = { t: s.t, v };
      }
      for (const seg of segments.filter((sg) => sg.length > 0))
        parts.push(
          `<polyline fill="none" stroke="${se.color}" stroke-width="${se.dash ? 1.2 : 1.8}"${se.dash ? ` stroke-dasharray="${se.dash}"` : ''} points="${seg.join(' ')}"/>`,
        );
      const lx = LEFT + 8 + k * 150;
      parts.push(
        `<line x1="${lx}" x2="${lx + 18}" y1="${bottom + 14}" y2="${bottom + 14}" stroke="${se.color}" stroke-width="2"${se.dash ? ` stroke-dasharray="${se.dash}"` : ''}/>`,
        `<text x="${lx + 22}" y="${bottom + 18}">${esc(se.label)}</text>`,
      );
    });
    parts.push(
      `<rect x="${LEFT}" y="${top}" width="${plotW}" height="${PANEL}" fill="none" stroke="#999"/>`,
    );
  });
  const axisY = TOP + panels.length * (PANEL + GAP) + 10;
  const step = t1 > 900 ? 120 : 60;
  for (let t = 0; t <= t1; t += step)
    parts.push(
      `<text x="${x(t).toFixed(1)}" y="${axisY}" text-anchor="middle" fill="#555">${t}s</text>`,
    );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

if (require.main === module) {
  const root = path.resolve(__dirname, '..', '..', '..');
  const input = process.argv[2] ?? path.join(root, 'docs/autoscaling/scenario.json');
  const output = process.argv[3] ?? input.replace(/\.json$/, '.svg');
  const run = JSON.parse(readFileSync(input, 'utf8')) as ScalingRun;
  writeFileSync(output, renderChart(run));
  console.error(`wrote ${output}`);
}

/**
 * The run over time: small line charts against the number of evaluations (d3-scale for the
 * axes, d3-shape for the lines), each with a readout that follows the pointer.
 */
import { scaleLinear } from 'd3-scale';
import { line } from 'd3-shape';
import type { ReportTimeline } from '../html/data.js';
import { h, s } from './dom.js';
import { pct, usd, when } from './format.js';
import type { Model } from './model.js';

export interface Series {
  name: string;
  values: (number | null)[];
  colour: string;
  dashed?: boolean;
}

interface ChartSpec {
  title: string;
  note?: string;
  series: Series[];
  format: (y: number) => string;
  yMax?: number;
  /** What a click at sample k does. */
  onPick?: (k: number) => void;
  readout?: (k: number) => string;
}

const PALETTE = ['#2563eb', '#16a34a', '#f59e0b', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626', '#4b5563', '#ea580c'];
const W = 440;
const H = 150;
const M = { top: 10, right: 12, bottom: 24, left: 44 };

function chart(t: ReportTimeline, spec: ChartSpec): HTMLElement {
  const x = scaleLinear().domain([0, Math.max(1, t.at.at(-1)!)]).range([M.left, W - M.right]);
  const top = spec.yMax ?? Math.max(1e-9, ...spec.series.flatMap((se) => se.values.filter((v): v is number => v !== null)));
  const y = scaleLinear().domain([0, top]).nice(4).range([H - M.bottom, M.top]);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': spec.title });
  for (const v of y.ticks(4)) {
    svg.append(s('line', { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v), class: 'grid' }), s('text', { x: M.left - 6, y: y(v) + 3.5, class: 'tick', 'text-anchor': 'end' }, spec.format(v)));
  }
  for (const v of x.ticks(5)) svg.append(s('text', { x: x(v), y: H - 8, class: 'tick', 'text-anchor': 'middle' }, String(v)));
  for (const se of spec.series) {
    const d = line<number | null>()
      .defined((v) => v !== null)
      .x((_, k) => x(t.at[k]!))
      .y((v) => y(v ?? 0))(se.values);
    svg.append(s('path', { d: d ?? '', fill: 'none', stroke: se.colour, 'stroke-width': 2, 'stroke-dasharray': se.dashed ? '5 4' : undefined }));
  }
  const rule = s('line', { y1: M.top, y2: H - M.bottom, class: 'rule', visibility: 'hidden' });
  svg.append(rule);
  const readout = h('div', { class: 'readout muted' }, ' ');
  const sampleAt = (e: MouseEvent): number => {
    const box = svg.getBoundingClientRect();
    const at = x.invert(((e.clientX - box.left) / box.width) * W);
    let best = 0;
    t.at.forEach((a, k) => {
      if (Math.abs(a - at) < Math.abs(t.at[best]! - at)) best = k;
    });
    return best;
  };
  svg.addEventListener('mousemove', (e) => {
    const k = sampleAt(e);
    rule.setAttribute('x1', String(x(t.at[k]!)));
    rule.setAttribute('x2', String(x(t.at[k]!)));
    rule.setAttribute('visibility', 'visible');
    const values = spec.series.map((se) => `${se.name} ${se.values[k] === null ? '–' : spec.format(se.values[k]!)}`).join(' · ');
    readout.textContent = `after ${t.at[k]} evaluations (${when(t.time[k]!)}): ${values}${spec.readout ? ` · ${spec.readout(k)}` : ''}`;
  });
  svg.addEventListener('mouseleave', () => rule.setAttribute('visibility', 'hidden'));
  if (spec.onPick) {
    svg.classList.add('pickable');
    svg.addEventListener('click', (e) => spec.onPick!(sampleAt(e)));
  }
  const legend = h('div', { class: 'legend-row' }, ...spec.series.map((se) => h('span', null, h('i', { style: `background:${se.colour}` }), se.name)));
  return h('figure', { class: 'chart-box' }, h('figcaption', null, spec.title, spec.note ? h('span', { class: 'muted' }, ` — ${spec.note}`) : null), svg, legend, readout);
}

const colourSeries = (record: Record<string, number[]>): Series[] => Object.entries(record).map(([name, values], k) => ({ name, values, colour: PALETTE[k % PALETTE.length]! }));

export function runCharts(model: Model, select: (node: number) => void): HTMLElement {
  const t = model.data.timeline;
  const count = (v: number) => String(Math.round(v));
  const alpha = model.data.alpha;
  const bestAt = (k: number) => (t.bestNode[k]! >= 0 ? `final answer then: ${model.label(t.bestNode[k]!)}` : 'no evidence yet');
  const charts = [
    chart(t, {
      title: 'Best node',
      note: `the final answer's ${model.data.epsilon}-quantile (what it is sure of) and the best observed pass rate (what luck shows); click to see the answer of that moment`,
      series: [
        { name: `best ${model.data.epsilon}-quantile`, values: t.bestQuantile, colour: '#2563eb' },
        { name: 'best mean', values: t.bestMean, colour: '#f59e0b', dashed: true },
      ],
      format: pct,
      yMax: 1,
      readout: bestAt,
      onPick: (k) => {
        if (t.bestNode[k]! >= 0) select(t.bestNode[k]!);
      },
    }),
    chart(t, {
      title: 'Expansions vs evaluations',
      note: `nodes in the archive, and the HGM schedule 1 + evaluations^${alpha}`,
      series: [
        { name: 'nodes', values: t.nodes, colour: '#16a34a' },
        { name: `1 + N^${alpha}`, values: t.at.map((a) => 1 + Math.pow(a, alpha)), colour: '#94a3b8', dashed: true },
      ],
      format: count,
    }),
    chart(t, { title: 'Evaluations per writer', note: 'who ran them', series: colourSeries(t.byWriter), format: count }),
    chart(t, { title: 'Evaluations per agent', note: 'which agent made the node evaluated', series: colourSeries(t.byAgent), format: count }),
    chart(t, { title: 'Cost', note: 'USD from Evogit-Cost trailers', series: [{ name: 'spent', values: t.cost, colour: '#7c3aed' }], format: usd }),
    chart(t, { title: 'Infrastructure errors', note: 'retried, never counted as failures', series: [{ name: 'errors', values: t.errors, colour: '#dc2626' }], format: count }),
  ];
  return h('section', null, h('h3', null, 'The run over time'), h('p', { class: 'muted' }, 'Horizontal axis: evaluations (task runs), in the order they finished. Hover for the values at a moment.'), h('div', { class: 'charts' }, ...charts));
}

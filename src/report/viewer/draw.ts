/**
 * Painting one frame of the tree. Colours are bucketed so a frame fills and strokes a few
 * dozen paths, not one per node; in an overview (neighbours a few pixels apart) nodes become
 * squares, one per pixel cell, and edges straight lines, which a software rasteriser (a
 * headless browser, a machine without GPU) draws several times faster.
 */
import type { ZoomTransform } from 'd3-zoom';
import { RATE_BUCKETS, bucketColour, bucketOf, pct } from './format.js';
import { SIBLING, type Layout, type Placed } from './layout.js';
import type { Model } from './model.js';

export interface Marks {
  selected: number;
  hits: ReadonlySet<number>;
  /** 1 = matches the filters; null = no filter. */
  keep: Uint8Array | null;
}

export interface Frame {
  ctx: CanvasRenderingContext2D;
  model: Model;
  layout: Layout;
  transform: ZoomTransform;
  width: number;
  height: number;
  marks: Marks;
  /** Node radius at zoom 1, by clade evidence. */
  radius: Float32Array;
}

export const COLOURS = {
  edge: '#b4bcc8',
  lineage: '#2563eb',
  mate: '#8e44ad',
  pruned: '#7b8494',
  promoted: '#d4a017',
  tampered: '#c0392b',
  claim: '#f08c00',
  selected: '#111827',
  hit: '#db2777',
  label: '#334155',
};

/** Below this distance between neighbours on screen, a frame is an overview. */
const OVERVIEW_PX = 7;

/** Screen radius of a node: grows with zoom, never vanishes. */
export function nodeRadius(radius: Float32Array, k: number, node: number): number {
  return Math.max(1.6, radius[node]! * Math.min(k, 1.6));
}

const screenRadius = (f: Frame, node: number) => nodeRadius(f.radius, f.transform.k, node);

interface Screen {
  x: Float32Array;
  y: Float32Array;
  on: Uint8Array;
  dim: Uint8Array;
  overview: boolean;
}

function project(f: Frame): Screen {
  const { placed } = f.layout;
  const { k, x: tx, y: ty } = f.transform;
  const n = placed.length;
  const s: Screen = { x: new Float32Array(n), y: new Float32Array(n), on: new Uint8Array(n), dim: new Uint8Array(n), overview: k * SIBLING < OVERVIEW_PX };
  const keep = f.marks.keep;
  const margin = 40;
  for (let j = 0; j < n; j++) {
    const p = placed[j]!;
    const x = (s.x[j] = p.x * k + tx);
    const y = (s.y[j] = p.y * k + ty);
    s.on[j] = x > -margin && y > -margin && x < f.width + margin && y < f.height + margin ? 1 : 0;
    if (keep) s.dim[j] = (p.item.kind === 'fold' ? p.item.nodes.some((i) => keep[i]) : keep[p.item.node]) ? 0 : 1;
  }
  return s;
}

export function paint(f: Frame): void {
  const s = project(f);
  const index = new Map<Placed, number>();
  f.layout.placed.forEach((p, j) => index.set(p, j));
  edges(f, s, index);
  mates(f, s);
  folds(f, s);
  nodes(f, s);
  labels(f, s);
}

function edges(f: Frame, s: Screen, index: Map<Placed, number>): void {
  const { ctx, layout, model } = f;
  const plain = new Path2D();
  const faded = new Path2D();
  const lineage = new Path2D();
  const radial = layout.mode === 'radial';
  layout.placed.forEach((p, j) => {
    const q = p.parent;
    if (!q) return;
    const i = index.get(q)!;
    if (!s.on[i] && !s.on[j] && !crosses(f, s.x[i]!, s.y[i]!, s.x[j]!, s.y[j]!)) return;
    const onLineage = p.item.kind === 'node' ? model.lineageOfBest[p.item.node] : p.item.nodes.some((n) => model.lineageOfBest[n]);
    const path = onLineage ? lineage : s.dim[j] ? faded : plain;
    const [x0, y0, x1, y1] = [s.x[i]!, s.y[i]!, s.x[j]!, s.y[j]!];
    path.moveTo(x0, y0);
    if (s.overview) path.lineTo(x1, y1);
    else if (!radial) {
      const mx = (x0 + x1) / 2;
      path.bezierCurveTo(mx, y0, mx, y1, x1, y1);
    } else {
      // Out from the parent along its ray, then round to the child's (as d3's linkRadial).
      const mid = (q.radius + p.radius) / 2;
      const [ax, ay] = f.transform.apply([mid * Math.sin(q.angle), -mid * Math.cos(q.angle)]);
      const [bx, by] = f.transform.apply([mid * Math.sin(p.angle), -mid * Math.cos(p.angle)]);
      path.bezierCurveTo(ax, ay, bx, by, x1, y1);
    }
  });
  ctx.lineWidth = s.overview ? 0.8 : 1.2;
  ctx.strokeStyle = COLOURS.edge;
  ctx.stroke(plain);
  ctx.globalAlpha = 0.25;
  ctx.stroke(faded);
  ctx.globalAlpha = 1;
  ctx.lineWidth = s.overview ? 2 : 2.6;
  ctx.strokeStyle = COLOURS.lineage;
  ctx.stroke(lineage);
}

/** Whether a segment's bounding box meets the view (an edge between two off-screen nodes may cross it). */
function crosses(f: Frame, x0: number, y0: number, x1: number, y1: number): boolean {
  return Math.min(y0, y1) < f.height && Math.max(y0, y1) > 0 && Math.min(x0, x1) < f.width && Math.max(x0, x1) > 0;
}

/** A crossover's other parents: dashed curves from each (or from what hides it). */
function mates(f: Frame, s: Screen): void {
  const { ctx, layout, model, transform } = f;
  const path = new Path2D();
  const [cx, cy] = transform.apply([0, 0]);
  const slot = new Map<Placed, number>();
  layout.placed.forEach((p, j) => slot.set(p, j));
  model.mates.forEach((mates, i) => {
    const p = layout.at.get(i);
    if (!mates.length || !p || p.item.kind !== 'node' || p.item.node !== i) return;
    const j = slot.get(p)!;
    for (const m of mates) {
      let q = layout.at.get(m);
      for (let a = m; !q && a >= 0; a = model.parent[a]!) q = layout.at.get(a);
      if (!q || q === p) continue;
      const i0 = slot.get(q)!;
      const [x0, y0, x1, y1] = [s.x[i0]!, s.y[i0]!, s.x[j]!, s.y[j]!];
      if (!s.on[i0] && !s.on[j] && !crosses(f, x0, y0, x1, y1)) continue;
      path.moveTo(x0, y0);
      if (layout.mode === 'tree') {
        const bend = Math.max(30, Math.abs(y1 - y0) * 0.3);
        path.bezierCurveTo(x0 + bend, y0, x1 - bend, y1, x1, y1);
      } else {
        // Bow towards the root, so the curve does not run along the rings.
        path.quadraticCurveTo(((x0 + x1) / 2) * 0.6 + cx * 0.4, ((y0 + y1) / 2) * 0.6 + cy * 0.4, x1, y1);
      }
    }
  });
  ctx.setLineDash([5, 4]);
  ctx.lineWidth = s.overview ? 1 : 1.6;
  ctx.strokeStyle = COLOURS.mate;
  // Faint in an overview, where long crossover curves would hide the tree.
  ctx.globalAlpha = s.overview ? 0.35 : 0.9;
  ctx.stroke(path);
  ctx.globalAlpha = 1;
  ctx.setLineDash([]);
}

function folds(f: Frame, s: Screen): void {
  const { ctx, layout, model } = f;
  const k = Math.min(f.transform.k, 1.6);
  const w = Math.max(6, 30 * k);
  const hh = Math.max(4, 14 * k);
  const plain = new Path2D();
  const onLineage = new Path2D();
  const texts: [string, number, number][] = [];
  layout.placed.forEach((p, j) => {
    if (p.item.kind !== 'fold' || !s.on[j]) return;
    const path = p.item.nodes.some((n) => model.lineageOfBest[n]) ? onLineage : plain;
    path.roundRect(s.x[j]! - w / 2, s.y[j]! - hh / 2, w, hh, hh / 2);
    if (k >= 0.6) texts.push([`⋯${p.item.nodes.length}`, s.x[j]!, s.y[j]!]);
  });
  ctx.fillStyle = '#ffffff';
  ctx.fill(plain);
  ctx.fill(onLineage);
  ctx.lineWidth = 1.2;
  ctx.strokeStyle = '#8a94a6';
  ctx.stroke(plain);
  ctx.strokeStyle = COLOURS.lineage;
  ctx.stroke(onLineage);
  ctx.font = `${Math.round(10 * Math.max(k, 0.8))}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = '#475569';
  for (const [text, x, y] of texts) ctx.fillText(text, x, y + 0.5);
}

function nodes(f: Frame, s: Screen): void {
  const { ctx, layout, model } = f;
  const k = f.transform.k;
  const fills = Array.from({ length: RATE_BUCKETS + 1 }, () => ({ solid: new Path2D(), faded: new Path2D() }));
  const rings = Array.from({ length: RATE_BUCKETS + 1 }, () => new Path2D());
  const ringWidth = Math.max(1, 2.6 * Math.min(k, 1.4));
  // In an overview, one node per 2-px cell: thousands of nodes on the same pixels draw as one.
  const cells = s.overview ? new Set<number>() : null;
  const marked: number[] = [];
  layout.placed.forEach((p, j) => {
    if (p.item.kind !== 'node' || !s.on[j]) return;
    const i = p.item.node;
    const x = s.x[j]!;
    const y = s.y[j]!;
    if (special(f, i) || p.item.hidden > 0) marked.push(j);
    const faded = s.dim[j] || model.nodes[i]!.pruned;
    const f0 = fills[bucketOf(model.rate[i]!) + 1]!;
    const path = faded ? f0.faded : f0.solid;
    if (cells) {
      const cell = Math.floor(x / 2) * 65536 + Math.floor(y / 2);
      if (cells.has(cell) && !special(f, i)) return;
      cells.add(cell);
      const r = Math.max(1.2, screenRadius(f, i) * 0.9);
      path.rect(x - r, y - r, 2 * r, 2 * r);
      return;
    }
    const r = screenRadius(f, i);
    path.moveTo(x + r, y);
    path.arc(x, y, r, 0, Math.PI * 2);
    const cmp = model.nodes[i]!.clade.cmp;
    if (cmp !== null && !faded) {
      const ring = rings[bucketOf(cmp) + 1]!;
      ring.moveTo(x + r + ringWidth / 2, y);
      ring.arc(x, y, r + ringWidth / 2, 0, Math.PI * 2);
    }
  });
  fills.forEach((f1, b) => {
    ctx.fillStyle = bucketColour(b - 1);
    ctx.fill(f1.solid);
    ctx.globalAlpha = 0.3;
    ctx.fill(f1.faded);
    ctx.globalAlpha = 1;
  });
  ctx.lineWidth = ringWidth;
  rings.forEach((ring, b) => {
    ctx.strokeStyle = bucketColour(b - 1);
    ctx.stroke(ring);
  });
  for (const j of marked) mark(f, layout.placed[j]!, s.x[j]!, s.y[j]!, s.overview);
}

/** Nodes that carry a mark of their own. */
function special(f: Frame, i: number): boolean {
  const n = f.model.nodes[i]!;
  return n.pruned || n.promoted || n.tampered || i === f.model.best || i === f.marks.selected || f.marks.hits.has(i) || f.model.claims.has(i);
}

/** Pruned, promoted, tampered, in progress, final answer, selection, search hit, collapsed. */
function mark(f: Frame, p: Placed, x: number, y: number, overview: boolean): void {
  const { ctx, model } = f;
  const item = p.item as { node: number; hidden: number };
  const i = item.node;
  const n = model.nodes[i]!;
  const r = screenRadius(f, i);
  const ring = (radius: number, colour: string, width: number, dash: number[] = []) => {
    ctx.beginPath();
    ctx.setLineDash(dash);
    ctx.arc(x, y, radius, 0, Math.PI * 2);
    ctx.lineWidth = width;
    ctx.strokeStyle = colour;
    ctx.stroke();
    ctx.setLineDash([]);
  };
  if (n.pruned && !overview) {
    ring(r + 1, COLOURS.pruned, 1.4, [3, 2]);
    ctx.beginPath();
    ctx.moveTo(x - r * 0.8, y + r * 0.8);
    ctx.lineTo(x + r * 0.8, y - r * 0.8);
    ctx.stroke();
  }
  if (n.tampered) {
    ctx.beginPath();
    ctx.moveTo(x - r, y - r);
    ctx.lineTo(x + r, y + r);
    ctx.moveTo(x - r, y + r);
    ctx.lineTo(x + r, y - r);
    ctx.lineWidth = 2;
    ctx.strokeStyle = COLOURS.tampered;
    ctx.stroke();
  }
  // Upper left: the label takes the upper right.
  if (n.promoted) star(ctx, x - r - 3, y - r - 3, Math.max(4, r * 0.75), COLOURS.promoted);
  if (model.claims.has(i)) {
    ctx.beginPath();
    ctx.arc(x - r - 1, y + r + 1, Math.max(2, r * 0.35), 0, Math.PI * 2);
    ctx.fillStyle = COLOURS.claim;
    ctx.fill();
  }
  if (i === model.best) ring(r + 5, COLOURS.lineage, 3);
  if (f.marks.hits.has(i)) ring(r + 8, COLOURS.hit, 2.5);
  if (i === f.marks.selected) ring(r + 3.5, COLOURS.selected, 2);
  if (item.hidden > 0) {
    ctx.beginPath();
    ctx.moveTo(x + r + 3, y - 4);
    ctx.lineTo(x + r + 9, y);
    ctx.lineTo(x + r + 3, y + 4);
    ctx.closePath();
    ctx.fillStyle = '#475569';
    ctx.fill();
    if (f.transform.k >= 0.3) {
      ctx.font = '10px system-ui, sans-serif';
      ctx.textAlign = 'left';
      ctx.textBaseline = 'middle';
      ctx.fillText(`+${item.hidden}`, x + r + 11, y);
    }
  }
}

function labels(f: Frame, s: Screen): void {
  const { ctx, layout, model, marks } = f;
  const k = f.transform.k;
  const all = k >= 0.7;
  const chosen: number[] = [];
  if (all) layout.placed.forEach((p, j) => p.item.kind === 'node' && s.on[j] && chosen.push(j));
  else {
    // Only the nodes a person looks for: the root, the answer, the selection, search hits.
    const slot = new Map<Placed, number>();
    layout.placed.forEach((p, j) => slot.set(p, j));
    for (const i of new Set([model.rootIndex, model.best, marks.selected, ...marks.hits])) {
      const p = i >= 0 ? layout.at.get(i) : undefined;
      if (p && p.item.kind === 'node' && p.item.node === i && s.on[slot.get(p)!]) chosen.push(slot.get(p)!);
    }
  }
  ctx.textAlign = 'left';
  ctx.textBaseline = 'bottom';
  ctx.lineWidth = 3;
  ctx.strokeStyle = 'rgba(255,255,255,0.9)';
  for (const j of chosen) {
    const i = (layout.placed[j]!.item as { node: number }).node;
    const r = screenRadius(f, i);
    const text = k >= 1.1 && model.rate[i] !== null ? `${model.label(i)} · ${pct(model.rate[i])}` : model.label(i);
    ctx.font = `${i === model.best ? '600 ' : ''}11px system-ui, sans-serif`;
    const x = s.x[j]! + r * 0.6 + 2;
    const y = s.y[j]! - r * 0.6 - 1;
    // A halo keeps the text readable over edges.
    ctx.strokeText(text, x, y);
    ctx.fillStyle = i === model.best ? COLOURS.lineage : COLOURS.label;
    ctx.fillText(text, x, y);
  }
}

function star(ctx: CanvasRenderingContext2D, x: number, y: number, r: number, colour: string): void {
  ctx.beginPath();
  for (let j = 0; j < 10; j++) {
    const a = -Math.PI / 2 + (j * Math.PI) / 5;
    const rr = j % 2 === 0 ? r : r * 0.45;
    if (j === 0) ctx.moveTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
    else ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
  }
  ctx.closePath();
  ctx.fillStyle = colour;
  ctx.fill();
  ctx.lineWidth = 0.8;
  ctx.strokeStyle = '#7a5c00';
  ctx.stroke();
}

/**
 * The tree on a canvas (thousands of nodes stay smooth where SVG would not): d3-zoom pans and
 * zooms, d3-quadtree finds what the pointer is on. Nodes are filled by their own pass rate and
 * ringed by their clade's CMP; colours are bucketed so each frame strokes a few dozen paths.
 */
import { quadtree, type Quadtree } from 'd3-quadtree';
import { select } from 'd3-selection';
import { zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from 'd3-zoom';
import { branchName, writerName } from '../node.js';
import { h } from './dom.js';
import { pct } from './format.js';
import { nodeRadius, paint, type Marks } from './draw.js';
import type { Layout, Placed } from './layout.js';
import type { Model } from './model.js';

export type { Marks } from './draw.js';

export interface TreeHandlers {
  select: (node: number) => void;
  toggle: (node: number) => void;
  unfold: (first: number) => void;
}

export class TreeView {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly tooltip: HTMLElement;
  private readonly zoomer: ZoomBehavior<HTMLCanvasElement, unknown>;
  private layout: Layout | null = null;
  private index: Quadtree<Placed> | null = null;
  private transform: ZoomTransform = zoomIdentity;
  private marks: Marks = { selected: -1, hits: new Set(), keep: null };
  private frame = 0;
  private width = 0;
  private height = 0;
  private readonly radius: Float32Array;
  /** Duration of recent frames in ms, for the benchmark. */
  readonly frameMs: number[] = [];

  constructor(
    private readonly host: HTMLElement,
    private readonly model: Model,
    private readonly handlers: TreeHandlers,
  ) {
    this.canvas = h('canvas', { class: 'tree-canvas', 'aria-label': 'The archive as a tree: click a node to see it, double-click to collapse or expand its clade' });
    this.tooltip = h('div', { class: 'tooltip', hidden: true });
    host.append(this.canvas, this.tooltip);
    this.ctx = this.canvas.getContext('2d')!;
    const maxClade = Math.max(1, ...model.nodes.map((n) => n.clade.pass + n.clade.fail));
    this.radius = Float32Array.from(model.nodes, (n) => 4.5 + 6 * Math.sqrt((n.clade.pass + n.clade.fail) / maxClade));
    this.zoomer = zoom<HTMLCanvasElement, unknown>()
      .scaleExtent([0.005, 6])
      .clickDistance(4)
      .on('zoom', (e: { transform: ZoomTransform }) => {
        this.transform = e.transform;
        this.tooltip.hidden = true;
        this.schedule();
      });
    select(this.canvas).call(this.zoomer).on('dblclick.zoom', null);
    this.canvas.addEventListener('click', (e) => this.onClick(e));
    this.canvas.addEventListener('dblclick', (e) => {
      const p = this.hit(e.clientX, e.clientY);
      if (p?.item.kind === 'node') this.handlers.toggle(p.item.node);
    });
    this.canvas.addEventListener('mousemove', (e) => this.onHover(e));
    this.canvas.addEventListener('mouseleave', () => (this.tooltip.hidden = true));
    new ResizeObserver(() => this.resize()).observe(host);
    this.resize();
  }

  setLayout(layout: Layout): void {
    this.layout = layout;
    this.index = quadtree<Placed>()
      .x((p) => p.x)
      .y((p) => p.y)
      .addAll(layout.placed);
    this.schedule();
  }

  setMarks(marks: Partial<Marks>): void {
    this.marks = { ...this.marks, ...marks };
    this.schedule();
  }

  /** Scale and move so the whole tree fits (or, for a huge tree, its first generations at a readable size). */
  fit(): void {
    if (!this.layout || this.width === 0) return;
    const b = this.layout.bounds;
    // The legend sits over the bottom of the pane: fit the tree above it.
    const legend = this.host.querySelector('.legend')?.getBoundingClientRect().height ?? 0;
    const height = Math.max(this.height / 2, this.height - legend - 12);
    const w = b.x1 - b.x0 + 120;
    const hgt = b.y1 - b.y0 + 60;
    const k = Math.min(2, Math.max(0.005, Math.min(this.width / w, height / hgt)));
    const t = zoomIdentity.translate((this.width - (b.x1 + b.x0) * k) / 2, (height - (b.y1 + b.y0) * k) / 2).scale(k);
    select(this.canvas).call(this.zoomer.transform, t);
  }

  /** Bring a node to the middle of the view, zoomed in enough to read. */
  centerOn(node: number): void {
    const p = this.layout?.at.get(node);
    if (!p) return;
    const k = Math.max(this.transform.k, 1);
    select(this.canvas).call(this.zoomer.transform, zoomIdentity.translate(this.width / 2 - p.x * k, this.height / 2 - p.y * k).scale(k));
  }

  /** Whether the node is drawn at a spot of its own (not hidden in a fold or a collapsed clade). */
  shows(node: number): boolean {
    const p = this.layout?.at.get(node);
    return p !== undefined && p.item.kind === 'node' && p.item.node === node;
  }

  /** Where a node is drawn, in the page's client coordinates; null when it is hidden or off screen. */
  screenPoint(node: number): { x: number; y: number } | null {
    const p = this.layout?.at.get(node);
    if (!p || !this.shows(node)) return null;
    const r = this.canvas.getBoundingClientRect();
    const [x, y] = this.transform.apply([p.x, p.y]);
    if (x < 0 || y < 0 || x > this.width || y > this.height) return null;
    return { x: r.left + x, y: r.top + y };
  }

  private resize(): void {
    const r = this.host.getBoundingClientRect();
    const first = this.width === 0;
    this.width = Math.max(1, Math.floor(r.width));
    this.height = Math.max(1, Math.floor(r.height));
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = this.width * dpr;
    this.canvas.height = this.height * dpr;
    this.canvas.style.width = `${this.width}px`;
    this.canvas.style.height = `${this.height}px`;
    if (first) this.fit();
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const t = performance.now();
      this.draw();
      this.frameMs.push(performance.now() - t);
      if (this.frameMs.length > 240) this.frameMs.splice(0, this.frameMs.length - 240);
    });
  }

  private screenRadius(node: number): number {
    return nodeRadius(this.radius, this.transform.k, node);
  }

  private hit(clientX: number, clientY: number): Placed | null {
    if (!this.index) return null;
    const r = this.canvas.getBoundingClientRect();
    const [x, y] = this.transform.invert([clientX - r.left, clientY - r.top]);
    const k = this.transform.k;
    const p = this.index.find(x, y, Math.max(8, 16 / k));
    if (!p) return null;
    const reach = (p.item.kind === 'node' ? this.screenRadius(p.item.node) : 12) + 5;
    const [sx, sy] = this.transform.apply([p.x, p.y]);
    return Math.hypot(sx - (clientX - r.left), sy - (clientY - r.top)) <= reach ? p : null;
  }

  private onClick(e: MouseEvent): void {
    const p = this.hit(e.clientX, e.clientY);
    if (!p) return;
    if (p.item.kind === 'fold') this.handlers.unfold(p.item.nodes[0]!);
    else this.handlers.select(p.item.node);
  }

  private onHover(e: MouseEvent): void {
    if (e.buttons) return;
    const p = this.hit(e.clientX, e.clientY);
    this.canvas.style.cursor = p ? 'pointer' : 'grab';
    if (!p) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.replaceChildren(...this.tooltipLines(p).map((line, i) => h('div', { class: i === 0 ? 'tt-head' : '' }, line)));
    const r = this.host.getBoundingClientRect();
    this.tooltip.style.left = `${Math.min(e.clientX - r.left + 14, this.width - 320)}px`;
    this.tooltip.style.top = `${e.clientY - r.top + 14}px`;
    this.tooltip.hidden = false;
  }

  private tooltipLines(p: Placed): string[] {
    const m = this.model;
    if (p.item.kind === 'fold') {
      const first = p.item.nodes[0]!;
      return [`${p.item.nodes.length} neutral nodes folded`, `${m.label(first)} … ${m.label(p.item.nodes.at(-1)!)}: no change in pass rate`, 'click to unfold'];
    }
    const i = p.item.node;
    const n = m.nodes[i]!;
    const lines = [
      n.branch ? `${m.label(i)}  ${n.id.slice(0, 10)}` : `${n.id.slice(0, 10)} ${branchName(n)}`,
      n.message.split('\n')[0]!.slice(0, 90),
      `own ${n.own.pass}✓ ${n.own.fail}✗ ${pct(m.rate[i])}   clade CMP ${pct(n.clade.cmp)}`,
      `${n.operator}${n.operator === 'root' ? '' : ` by ${writerName(n)}`}${n.pruned ? ' · pruned' : ''}${n.promoted ? ' · promoted' : ''}${i === m.best ? ' · final answer' : ''}`,
    ];
    if (p.item.hidden) lines.push(`${p.item.hidden} descendants collapsed (double-click to expand)`);
    return lines;
  }

  private draw(): void {
    const ctx = this.ctx;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    if (!this.layout) return;
    paint({ ctx, model: this.model, layout: this.layout, transform: this.transform, width: this.width, height: this.height, marks: this.marks, radius: this.radius });
  }
}

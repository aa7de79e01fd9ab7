/**
 * Places the visible tree with d3-hierarchy's tidy tree: generations left to right and
 * siblings stacked ("tree"), or generations as rings around the root ("radial", which uses the
 * screen better once a tree has hundreds of leaves).
 */
import { hierarchy, tree, type HierarchyPointNode } from 'd3-hierarchy';
import type { VisItem } from './visible.js';

export type LayoutMode = 'tree' | 'radial';

/** Distance between generations and between neighbours (layout units = px at zoom 1). */
export const GENERATION = 96;
export const SIBLING = 24;

export interface Placed {
  item: VisItem;
  x: number;
  y: number;
  /** Polar position (radial layout only): angle from 12 o'clock and distance from the root. */
  angle: number;
  radius: number;
  parent: Placed | null;
}

export interface Layout {
  mode: LayoutMode;
  placed: Placed[];
  /** Where each node is drawn (its own spot, or the fold or collapsed clade that hides it). */
  at: Map<number, Placed>;
  bounds: { x0: number; y0: number; x1: number; y1: number };
}

export function layOut(root: VisItem, mode: LayoutMode): Layout {
  const h = hierarchy<VisItem>(root, (d) => d.children);
  let laid: HierarchyPointNode<VisItem>;
  if (mode === 'tree') {
    laid = tree<VisItem>()
      .nodeSize([SIBLING, GENERATION])
      .separation((a, b) => (a.parent === b.parent ? 1 : 1.3))(h);
  } else {
    // The outer ring gives every leaf about SIBLING px; inner rings are at least a generation apart.
    const leaves = h.leaves().length;
    const depth = h.height || 1;
    const outer = Math.max(depth * GENERATION * 0.7, (leaves * SIBLING * 0.8) / (2 * Math.PI));
    laid = tree<VisItem>()
      .size([2 * Math.PI, outer])
      .separation((a, b) => (a.parent === b.parent ? 1 : 2) / Math.max(1, a.depth))(h);
  }
  const placed: Placed[] = [];
  const at = new Map<number, Placed>();
  const byNode = new Map<HierarchyPointNode<VisItem>, Placed>();
  const bounds = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
  laid.eachBefore((d) => {
    const parent = d.parent ? byNode.get(d.parent)! : null;
    const p: Placed =
      mode === 'tree'
        ? { item: d.data, x: d.y, y: d.x, angle: 0, radius: 0, parent }
        : { item: d.data, x: d.y * Math.sin(d.x), y: -d.y * Math.cos(d.x), angle: d.x, radius: d.y, parent };
    byNode.set(d, p);
    placed.push(p);
    if (d.data.kind === 'node') at.set(d.data.node, p);
    else for (const n of d.data.nodes) at.set(n, p);
    bounds.x0 = Math.min(bounds.x0, p.x);
    bounds.x1 = Math.max(bounds.x1, p.x);
    bounds.y0 = Math.min(bounds.y0, p.y);
    bounds.y1 = Math.max(bounds.y1, p.y);
  });
  return { mode, placed, at, bounds };
}

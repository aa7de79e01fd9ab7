/**
 * The tree as drawn: collapsed clades hide their descendants, and neutral chains (runs of
 * single-child nodes whose pass rate does not change) fold into one marker. No DOM.
 */
import type { Model } from './model.js';

export interface NodeItem {
  kind: 'node';
  node: number;
  children: VisItem[];
  /** Descendants hidden because this clade is collapsed (0 when open). */
  hidden: number;
}

export interface FoldItem {
  kind: 'fold';
  /** The folded nodes, parent first; the first one names the fold. */
  nodes: number[];
  children: VisItem[];
}

export type VisItem = NodeItem | FoldItem;

export interface ViewState {
  collapsed: ReadonlySet<number>;
  foldNeutral: boolean;
  /** Folds the user opened, by their first node. */
  unfolded: ReadonlySet<number>;
  /** Nodes never folded away (the selection, search hits). */
  keep: ReadonlySet<number>;
}

/** Shortest run worth folding: one node folded saves nothing. */
export const MIN_FOLD = 2;

function foldable(model: Model, state: ViewState, i: number): boolean {
  const node = model.nodes[i]!;
  return (
    model.children[i]!.length === 1 &&
    model.mates[i]!.length === 0 &&
    !model.isMate[i] &&
    i !== model.best &&
    !node.promoted &&
    !node.pruned &&
    !node.tampered &&
    !model.claims.has(i) &&
    !state.keep.has(i) &&
    !state.collapsed.has(i)
  );
}

/** The run of neutral nodes starting at `child` (below `parent`), if long enough to fold. */
function neutralRun(model: Model, state: ViewState, parent: number, child: number): number[] {
  const run: number[] = [];
  let reference = model.rate[parent] ?? null;
  for (let c = child; foldable(model, state, c); c = model.children[c]![0]!) {
    const r = model.rate[c] ?? null;
    if (r !== null && reference !== null && Math.abs(r - reference) > 1e-9) break;
    if (r !== null) reference = r;
    run.push(c);
  }
  return run.length >= MIN_FOLD && !state.unfolded.has(run[0]!) ? run : [];
}

export function visibleTree(model: Model, state: ViewState): NodeItem {
  const root: NodeItem = { kind: 'node', node: model.rootIndex, children: [], hidden: 0 };
  // Iterative: an archive can be thousands of generations deep.
  const stack: NodeItem[] = [root];
  while (stack.length) {
    const item = stack.pop()!;
    const i = item.node;
    if (state.collapsed.has(i)) {
      item.hidden = model.subtree[i]! - 1;
      continue;
    }
    for (const c of model.children[i]!) {
      const run = state.foldNeutral ? neutralRun(model, state, i, c) : [];
      if (run.length) {
        const next = model.children[run.at(-1)!]![0]!;
        const child: NodeItem = { kind: 'node', node: next, children: [], hidden: 0 };
        item.children.push({ kind: 'fold', nodes: run, children: [child] });
        stack.push(child);
      } else {
        const child: NodeItem = { kind: 'node', node: c, children: [], hidden: 0 };
        item.children.push(child);
        stack.push(child);
      }
    }
  }
  return root;
}

/** The archive as the viewer indexes it: tree links, lineages, pass rates, filters and search. No DOM. */
import type { ReportData, ReportNode } from '../html/data.js';

export interface Filter {
  writer: string;
  operator: string;
  task: string;
  outcome: string;
}

export const NO_FILTER: Filter = { writer: '', operator: '', task: '', outcome: '' };

export class Model {
  readonly nodes: ReportNode[];
  readonly index = new Map<string, number>();
  readonly rootIndex: number;
  /** First parent (the tree edge), -1 for the root. */
  readonly parent: Int32Array;
  /** Other parents of a crossover. */
  readonly mates: number[][];
  /** Children along first parents, oldest first. */
  readonly children: number[][];
  readonly depth: Int32Array;
  /** Nodes in the first-parent subtree, the node included. */
  readonly subtree: Int32Array;
  /** Own pass rate in the scorer's units; null without evidence. */
  readonly rate: (number | null)[];
  readonly best: number;
  /** The final answer and every ancestor it has through any parent. */
  readonly lineageOfBest: Uint8Array;
  /** Second parent of some crossover. */
  readonly isMate: Uint8Array;
  readonly claims = new Map<number, ReportData['claims']>();

  constructor(readonly data: ReportData) {
    const nodes = data.nodes;
    this.nodes = nodes;
    const n = nodes.length;
    nodes.forEach((node, i) => this.index.set(node.id, i));
    this.rootIndex = this.index.get(data.root) ?? 0;
    this.parent = new Int32Array(n).fill(-1);
    this.mates = nodes.map(() => []);
    this.children = nodes.map(() => []);
    this.isMate = new Uint8Array(n);
    nodes.forEach((node, i) => {
      if (i === this.rootIndex) return;
      const [first, ...rest] = node.parents.map((p) => this.index.get(p)).filter((p): p is number => p !== undefined);
      if (first === undefined) return;
      this.parent[i] = first;
      this.children[first]!.push(i);
      for (const m of rest) {
        this.mates[i]!.push(m);
        this.isMate[m] = 1;
      }
    });
    for (const list of this.children) list.sort((a, b) => nodes[a]!.time - nodes[b]!.time || a - b);
    // Nodes come parents first, so one pass down gives depths and one pass up gives subtree sizes.
    this.depth = new Int32Array(n);
    this.subtree = new Int32Array(n).fill(1);
    for (let i = 0; i < n; i++) if (this.parent[i]! >= 0) this.depth[i] = this.depth[this.parent[i]!]! + 1;
    for (let i = n - 1; i >= 0; i--) if (this.parent[i]! >= 0) this.subtree[this.parent[i]!]! += this.subtree[i]!;
    this.rate = nodes.map((node) => (node.own.pass + node.own.fail > 0 ? node.own.pass / (node.own.pass + node.own.fail) : null));
    this.best = data.best ? (this.index.get(data.best.node) ?? -1) : -1;
    this.lineageOfBest = new Uint8Array(n);
    if (this.best >= 0) {
      const stack = [this.best];
      while (stack.length) {
        const i = stack.pop()!;
        if (this.lineageOfBest[i]) continue;
        this.lineageOfBest[i] = 1;
        if (this.parent[i]! >= 0) stack.push(this.parent[i]!);
        stack.push(...this.mates[i]!);
      }
    }
    for (const c of data.claims) {
      const i = this.index.get(c.node);
      if (i !== undefined) this.claims.set(i, [...(this.claims.get(i) ?? []), c]);
    }
  }

  /** A short name: the branch without the prefix (`a1/17`), or the SHA when the branch was deleted. */
  label(i: number): string {
    const node = this.nodes[i]!;
    if (i === this.rootIndex) return 'root';
    if (!node.branch) return node.id.slice(0, 8);
    const prefix = `${this.data.prefix}/`;
    return node.branch.startsWith(prefix) ? node.branch.slice(prefix.length) : node.branch;
  }

  /** The name git commands take: the branch, or the full SHA of a pruned node. */
  ref(i: number): string {
    return this.nodes[i]!.branch ?? this.nodes[i]!.id;
  }

  /** First-parent ancestors, root first, the node last. */
  lineage(i: number): number[] {
    const out: number[] = [];
    for (let m = i; m >= 0; m = this.parent[m]!) out.push(m);
    return out.reverse();
  }

  /** Nodes a query names: exact branch (with or without the prefix), SHA prefix, or part of a branch. */
  find(query: string): number[] {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    const exact: number[] = [];
    const partial: number[] = [];
    this.nodes.forEach((node, i) => {
      const branch = (node.branch ?? '').toLowerCase();
      if (branch === q || this.label(i).toLowerCase() === q || (/^[0-9a-f]{4,40}$/.test(q) && node.id.startsWith(q))) exact.push(i);
      else if (branch.includes(q)) partial.push(i);
    });
    return exact.length ? exact : partial;
  }

  matches(f: Filter, i: number): boolean {
    const node = this.nodes[i]!;
    if (f.writer && node.writer !== f.writer) return false;
    if (f.operator && node.operator !== f.operator) return false;
    if (f.task || f.outcome) return node.evaluations.some((e) => (!f.task || e.task === f.task) && (!f.outcome || e.outcome === f.outcome));
    return true;
  }

  /** Which nodes a filter keeps, or null when it keeps everything. */
  filtered(f: Filter): Uint8Array | null {
    if (!f.writer && !f.operator && !f.task && !f.outcome) return null;
    const keep = new Uint8Array(this.nodes.length);
    for (let i = 0; i < keep.length; i++) keep[i] = this.matches(f, i) ? 1 : 0;
    return keep;
  }

  values(pick: (n: ReportNode) => string): string[] {
    return [...new Set(this.nodes.map(pick))].sort();
  }
}

/**
 * Evidence: how many successes and failures each node has (own counts) and how many its
 * clade has (the node and every descendant). Everything is recomputed from the snapshot's
 * evaluation lines; nothing is stored or updated in place.
 *
 * Internally the archive is indexed once into flat typed arrays (parent-first order, child
 * lists in CSR form) so one decision over 100,000 nodes stays within tens of milliseconds.
 */
import type { ArchiveSnapshot, Evaluation } from '../archive/types.js';

export type EvidenceMode = 'tests' | 'tasks';

export interface Counts {
  /** Successes. */
  ns: number;
  /** Failures. */
  nf: number;
}

/**
 * A task whose every run on a node ended in `error` is retried, but not forever: after this
 * many infrastructure errors the scorer stops offering it for that node.
 */
export const MAX_ERROR_RETRIES = 3;

/** The snapshot indexed for the scorer. Index i is the i-th node in parent-first order. */
export interface ArchiveIndex {
  snapshot: ArchiveSnapshot;
  ids: string[];
  byId: Map<string, number>;
  /**
   * Parents of node i (indices, only those present in the snapshot) are
   * parentList[parentStart[i] .. parentStart[i+1]); the first git parent comes first.
   */
  parentStart: Int32Array;
  parentList: Int32Array;
  /** First parent of node i, or -1: the edges of the first-parent spanning forest. */
  firstParent: Int32Array;
  /** Children of node i are childList[childStart[i] .. childStart[i+1]). */
  childStart: Int32Array;
  childList: Int32Array;
  rootIndex: number;
  /** 1 when the node's branch was deleted. */
  pruned: Uint8Array;
  /** True when some node has two or more parents in the snapshot (a crossover). */
  hasMerges: boolean;
}

/** Per-node evidence, in index order. */
export interface EvidenceArrays {
  ns: Float64Array;
  nf: Float64Array;
  /** Graded task runs (pass/fail lines, not tampered) per node. */
  runs: Int32Array;
  /** Evaluation lines of any kind per node (an upper bound on the tasks it has finished). */
  lines: Int32Array;
  /** 1 when some line marks the node as tampered: rejected, never chosen. */
  tampered: Uint8Array;
  /** Graded task runs in the whole archive: the N_evals of the expand rule. */
  totalRuns: number;
}

export function indexSnapshot(snapshot: ArchiveSnapshot): ArchiveIndex {
  const nodes = snapshot.nodes;
  const n = nodes.length;
  const byId = new Map<string, number>();
  const ids = new Array<string>(n);
  const pruned = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const node = nodes[i]!;
    ids[i] = node.id;
    byId.set(node.id, i);
    if (node.pruned) pruned[i] = 1;
  }
  // Flat arrays, not an array per node: one decision over 100,000 nodes is memory-bound.
  const parentStart = new Int32Array(n + 1);
  let parentList = new Int32Array(n + 16);
  const firstParent = new Int32Array(n).fill(-1);
  const childCount = new Int32Array(n + 1);
  let hasMerges = false;
  let used = 0;
  for (let i = 0; i < n; i++) {
    parentStart[i] = used;
    const links = nodes[i]!.parents;
    for (let k = 0; k < links.length; k++) {
      const j = byId.get(links[k]!);
      // A parent outside the archive (the root's own history) is not a node.
      if (j === undefined) continue;
      // The archive promises parents first; re-sort once if a snapshot breaks that.
      if (j >= i) return indexSnapshot({ ...snapshot, nodes: topologicalOrder(nodes, byId) });
      if (used > parentStart[i]! && parentList.subarray(parentStart[i], used).includes(j)) continue;
      if (used === parentList.length) {
        const grown = new Int32Array(parentList.length * 2);
        grown.set(parentList);
        parentList = grown;
      }
      parentList[used++] = j;
      childCount[j + 1]!++;
    }
    const count = used - parentStart[i]!;
    if (count > 0) firstParent[i] = parentList[parentStart[i]!]!;
    if (count > 1) hasMerges = true;
  }
  parentStart[n] = used;
  const childStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) childStart[i + 1] = childStart[i]! + childCount[i + 1]!;
  const fill = childStart.slice(0, n);
  const childList = new Int32Array(used);
  for (let i = 0; i < n; i++) {
    for (let k = parentStart[i]!; k < parentStart[i + 1]!; k++) childList[fill[parentList[k]!]!++] = i;
  }
  const rootIndex = byId.get(snapshot.root) ?? 0;
  return { snapshot, ids, byId, parentStart, parentList: parentList.subarray(0, used), firstParent, childStart, childList, rootIndex, pruned, hasMerges };
}

function topologicalOrder(nodes: ArchiveSnapshot['nodes'], byId: Map<string, number>): ArchiveSnapshot['nodes'] {
  const n = nodes.length;
  const indegree = new Int32Array(n);
  const children: number[][] = nodes.map(() => []);
  for (let i = 0; i < n; i++) {
    for (const p of new Set(nodes[i]!.parents)) {
      const j = byId.get(p);
      if (j === undefined) continue;
      indegree[i]!++;
      children[j]!.push(i);
    }
  }
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indegree[i] === 0) queue.push(i);
  const out: ArchiveSnapshot['nodes'] = [];
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q]!;
    out.push(nodes[i]!);
    for (const c of children[i]!) if (--indegree[c]! === 0) queue.push(c);
  }
  if (out.length !== n) throw new Error('archive snapshot has a cycle in its parent links');
  return out;
}

/** What one evaluation line adds to its node's evidence. */
export function lineCounts(line: Evaluation, mode: EvidenceMode): Counts {
  if (line.outcome === 'error' || line.tampered) return { ns: 0, nf: 0 };
  if (mode === 'tests') {
    if (line.tests && line.tests.passed + line.tests.failed > 0) return { ns: line.tests.passed, nf: line.tests.failed };
    if (line.testResults) {
      let ns = 0;
      let nf = 0;
      for (const r of Object.values(line.testResults)) {
        if (r === 'pass') ns++;
        else if (r === 'fail') nf++;
      }
      if (ns + nf > 0) return { ns, nf };
    }
  }
  return line.outcome === 'pass' ? { ns: 1, nf: 0 } : { ns: 0, nf: 1 };
}

/**
 * How many test cases each task runs: the most any graded run of it reported. A failed run
 * that reported fewer (it crashed, timed out, or deleted tests) is charged the tests it did
 * not pass, so breaking a whole test file never looks cheaper than failing one test in it.
 */
export function expectedTests(snapshot: ArchiveSnapshot): Map<string, number> {
  const expected = new Map<string, number>();
  for (const lines of snapshot.evaluations.values()) {
    for (const line of lines) {
      if (line.outcome === 'error' || line.tampered || !line.tests) continue;
      // Skipped tests are skipped for every candidate: only tests that ran are expected.
      const ran = line.tests.passed + line.tests.failed;
      if (ran > (expected.get(line.task) ?? 0)) expected.set(line.task, ran);
    }
  }
  return expected;
}

export function computeEvidence(index: ArchiveIndex, mode: EvidenceMode): EvidenceArrays {
  const n = index.ids.length;
  const ns = new Float64Array(n);
  const nf = new Float64Array(n);
  const runs = new Int32Array(n);
  const tampered = new Uint8Array(n);
  const lineCount = new Int32Array(n);
  let totalRuns = 0;
  const evaluations = index.snapshot.evaluations;
  const expected = mode === 'tests' ? expectedTests(index.snapshot) : null;
  for (let i = 0; i < n; i++) {
    const lines = evaluations.get(index.ids[i]!);
    if (lines === undefined) continue;
    lineCount[i] = lines.length;
    for (const line of lines) {
      if (line.tampered) {
        tampered[i] = 1;
        continue;
      }
      if (line.outcome === 'error') continue;
      const known = expected?.get(line.task) ?? 0;
      if (expected === null || (line.tests === undefined && line.testResults === undefined && known === 0)) {
        // The common line (no per-test counts) is counted inline: no allocation per line.
        if (line.outcome === 'pass') ns[i]!++;
        else nf[i]!++;
      } else {
        const c = line.tests === undefined && line.testResults === undefined ? { ns: 0, nf: 0 } : lineCounts(line, mode);
        ns[i]! += c.ns;
        // A test that did not run counts as failed.
        nf[i]! += line.outcome === 'fail' ? Math.max(c.nf, known - c.ns, 1) : c.nf;
      }
      runs[i]!++;
      totalRuns++;
    }
  }
  return { ns, nf, runs, lines: lineCount, tampered, totalRuns };
}

/**
 * Clade sums Σ_{C(a)} of the given per-node values, in fresh arrays (the inputs are never
 * touched: pooling must not change a node's own counts).
 *
 * On a tree this is one reverse pass adding each node into its parent. With crossovers a node
 * can reach an ancestor along several paths; it must still count once. The reverse pass then
 * runs over the first-parent spanning tree, and each node that has a merge on its first-parent
 * chain walks only the ancestors off that chain (visited stamps; an O(1) Euler-interval test
 * says whether a node is on the chain) to add itself where the tree pass missed it. The cost
 * is paid only below merges, in proportion to the ancestry that crossovers bring in.
 */
export function cladeSums(index: ArchiveIndex, ns: Float64Array, nf: Float64Array): { ns: Float64Array; nf: Float64Array } {
  const n = index.ids.length;
  const cns = Float64Array.from(ns);
  const cnf = Float64Array.from(nf);
  const { firstParent, parentStart, parentList } = index;
  for (let i = n - 1; i >= 0; i--) {
    const p = firstParent[i]!;
    if (p >= 0) {
      cns[p]! += cns[i]!;
      cnf[p]! += cnf[i]!;
    }
  }
  if (!index.hasMerges) return { ns: cns, nf: cnf };

  // Euler intervals of the first-parent forest: a is on v's first-parent chain iff
  // tin[a] <= tin[v] < tout[a].
  const tin = new Int32Array(n);
  const tout = new Int32Array(n);
  const { childStart, childList } = index;
  let clock = 0;
  const dfs: number[] = [];
  // cursor[x] walks x's children in the CSR lists; only first-parent children are tree edges.
  const cursor = childStart.slice(0, n);
  for (let r = 0; r < n; r++) {
    if (firstParent[r]! >= 0) continue;
    dfs.push(r);
    tin[r] = clock++;
    while (dfs.length > 0) {
      const x = dfs[dfs.length - 1]!;
      let next = -1;
      while (cursor[x]! < childStart[x + 1]!) {
        const c = childList[cursor[x]!++]!;
        if (firstParent[c] === x) {
          next = c;
          break;
        }
      }
      if (next >= 0) {
        tin[next] = clock++;
        dfs.push(next);
      } else {
        tout[x] = clock;
        dfs.pop();
      }
    }
  }
  // Nearest merge on each node's first-parent chain (itself included); -1 when there is none,
  // in which case the chain is all of the node's ancestors and the tree pass was exact.
  const mergeUp = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    if (parentStart[i + 1]! - parentStart[i]! > 1) mergeUp[i] = i;
    else if (firstParent[i]! >= 0) mergeUp[i] = mergeUp[firstParent[i]!]!;
  }
  // v's ancestors off its chain depend only on m = mergeUp[v]: they are m's ancestors off m's
  // own chain. So pool the evidence of all v that share m, and walk each merge's off-chain
  // ancestry once.
  const wns = new Float64Array(n);
  const wnf = new Float64Array(n);
  for (let v = 0; v < n; v++) {
    const m = mergeUp[v]!;
    if (m < 0) continue;
    wns[m]! += ns[v]!;
    wnf[m]! += nf[v]!;
  }
  const visited = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  for (let v = 0; v < n; v++) {
    if (mergeUp[v] !== v || (wns[v] === 0 && wnf[v] === 0)) continue;
    const tv = tin[v]!;
    const addNs = wns[v]!;
    const addNf = wnf[v]!;
    // Every ancestor off v's chain is reached from some merge on the chain through one of
    // its other parents, then through off-chain nodes only.
    for (let m = v; m >= 0; ) {
      for (let k = parentStart[m]! + 1; k < parentStart[m + 1]!; k++) stack.push(parentList[k]!);
      while (stack.length > 0) {
        const a = stack.pop()!;
        if (visited[a] === v || (tin[a]! <= tv && tv < tout[a]!)) continue;
        visited[a] = v;
        cns[a]! += addNs;
        cnf[a]! += addNf;
        for (let k = parentStart[a]!; k < parentStart[a + 1]!; k++) stack.push(parentList[k]!);
      }
      m = mergeUp[firstParent[m]!]!;
    }
  }
  return { ns: cns, nf: cnf };
}

/** Own evidence per node. Errors and tampered lines count for nothing. */
export function evidence(snapshot: ArchiveSnapshot, opts: { mode?: EvidenceMode } = {}): Map<string, Counts> {
  const index = indexSnapshot(snapshot);
  const ev = computeEvidence(index, opts.mode ?? 'tests');
  const out = new Map<string, Counts>();
  for (let i = 0; i < index.ids.length; i++) out.set(index.ids[i]!, { ns: ev.ns[i]!, nf: ev.nf[i]! });
  return out;
}

/**
 * Clade evidence per node: the sums over C(a) = a and all its descendants, each node once
 * even when it descends from a along two paths. `own` defaults to `evidence(snapshot)`; it is
 * read, never modified.
 */
export function cladeCounts(
  snapshot: ArchiveSnapshot,
  own?: ReadonlyMap<string, Counts>,
  opts: { mode?: EvidenceMode } = {},
): Map<string, Counts> {
  const index = indexSnapshot(snapshot);
  const n = index.ids.length;
  const ns = new Float64Array(n);
  const nf = new Float64Array(n);
  if (own) {
    for (let i = 0; i < n; i++) {
      const c = own.get(index.ids[i]!);
      if (c) {
        ns[i] = c.ns;
        nf[i] = c.nf;
      }
    }
  } else {
    const ev = computeEvidence(index, opts.mode ?? 'tests');
    ns.set(ev.ns);
    nf.set(ev.nf);
  }
  const clade = cladeSums(index, ns, nf);
  const out = new Map<string, Counts>();
  for (let i = 0; i < n; i++) out.set(index.ids[i]!, { ns: clade.ns[i]!, nf: clade.nf[i]! });
  return out;
}

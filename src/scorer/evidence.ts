/**
 * Evidence: how many successes and failures each node has (own counts) and how many its
 * clade has (the node and every descendant). Everything is recomputed from the snapshot's
 * evaluation lines; nothing is stored or updated in place.
 *
 * Counted over the archive's index (archive-index.ts), and cached per mode: a snapshot that
 * differs from the last one by a few lines is counted from the last counts.
 */
import type { ArchiveSnapshot, Evaluation } from '../archive/types.js';
import { indexSnapshot, resetIndexCache, type ArchiveIndex } from './archive-index.js';

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
  /** Lines of every list in the evaluations map (nodes or not), as decisionRng counts them. */
  allLines: number;
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
 * What one graded line adds to its node's evidence, given how many tests each task runs
 * (expectedTests): a failed run is charged the tests it did not pass, so a crash never looks
 * cheaper than one failing test. Null for `error` and tampered lines, which count nothing.
 */
export function gradedCounts(line: Evaluation, mode: EvidenceMode, expected: ReadonlyMap<string, number>): Counts | null {
  if (line.outcome === 'error' || line.tampered) return null;
  const known = mode === 'tests' ? (expected.get(line.task) ?? 0) : 0;
  const counted = line.tests !== undefined || line.testResults !== undefined;
  if (mode === 'tasks' || (!counted && known === 0)) return line.outcome === 'pass' ? { ns: 1, nf: 0 } : { ns: 0, nf: 1 };
  const c = counted ? lineCounts(line, mode) : { ns: 0, nf: 0 };
  // A test that did not run counts as failed.
  return { ns: c.ns, nf: line.outcome === 'fail' ? Math.max(c.nf, known - c.ns, 1) : c.nf };
}

/**
 * The evaluations map as the last evidence pass saw it, in the map's iteration order. The
 * archive's copy-on-write keeps that order (kept keys keep their place, new keys come last),
 * so the next snapshot's map is compared entry by entry, without a lookup per node, and only
 * the entries that changed are counted again.
 */
interface SeenEntries {
  index: ArchiveIndex;
  keys: string[];
  lists: Evaluation[][];
  lens: number[];
  evidence: EvidenceArrays;
  /** Tests each task runs (tests mode), as counted then: a new maximum means a full recount. */
  expected: Map<string, number>;
}

/**
 * How many test cases each task runs: the most any graded run of it reported. A failed run
 * that reported fewer (it crashed, timed out, or deleted tests) is charged the tests it did
 * not pass, so breaking a whole test file never looks cheaper than failing one test in it.
 */
export function expectedTests(snapshot: ArchiveSnapshot): Map<string, number> {
  const expected = new Map<string, number>();
  for (const lines of snapshot.evaluations.values()) addExpected(expected, lines);
  return expected;
}

/** Raise `expected` by these lines; true when some task's count went up. */
function addExpected(expected: Map<string, number>, lines: Evaluation[]): boolean {
  let raised = false;
  for (const line of lines) {
    if (line.outcome === 'error' || line.tampered || !line.tests) continue;
    // Skipped tests are skipped for every candidate: only tests that ran are expected.
    const ran = line.tests.passed + line.tests.failed;
    if (ran > (expected.get(line.task) ?? 0)) {
      expected.set(line.task, ran);
      raised = true;
    }
  }
  return raised;
}

const lastSeen = new Map<EvidenceMode, SeenEntries>();

/** Per-node evidence of the index's snapshot (read-only: it may be shared with the next call). */
export function computeEvidence(index: ArchiveIndex, mode: EvidenceMode): EvidenceArrays {
  const prev = lastSeen.get(mode);
  if (prev && (prev.index === index || index.from === prev.index)) {
    const ev = updateEvidence(prev, index, mode);
    if (ev) return ev;
  }
  return fullEvidence(index, mode);
}

function fullEvidence(index: ArchiveIndex, mode: EvidenceMode): EvidenceArrays {
  const n = index.ids.length;
  const ev = emptyEvidence(n);
  const expected = mode === 'tests' ? expectedTests(index.snapshot) : new Map<string, number>();
  const keys: string[] = [];
  const lists: Evaluation[][] = [];
  const lens: number[] = [];
  index.snapshot.evaluations.forEach((lines, key) => {
    keys.push(key);
    lists.push(lines);
    lens.push(lines.length);
    ev.allLines += lines.length;
    const i = index.byId.get(key);
    if (i !== undefined) countNode(ev, i, lines, mode, expected);
  });
  for (let i = 0; i < n; i++) ev.totalRuns += ev.runs[i]!;
  lastSeen.set(mode, { index, keys, lists, lens, evidence: ev, expected });
  return ev;
}

function emptyEvidence(n: number): EvidenceArrays {
  return { ns: new Float64Array(n), nf: new Float64Array(n), runs: new Int32Array(n), lines: new Int32Array(n), tampered: new Uint8Array(n), totalRuns: 0, allLines: 0 };
}

/** The evidence from the last pass plus the entries that changed; null when the map was reordered or lost keys. */
function updateEvidence(prev: SeenEntries, index: ArchiveIndex, mode: EvidenceMode): EvidenceArrays | null {
  const evaluations = index.snapshot.evaluations;
  const { keys, lists, lens } = prev;
  if (evaluations.size < keys.length) return null;
  const changed: number[] = [];
  let c = 0;
  let ok = true;
  evaluations.forEach((lines, key) => {
    if (!ok) return;
    if (c < keys.length) {
      if (keys[c] !== key) {
        ok = false;
        return;
      }
      if (lists[c] !== lines || lens[c] !== lines.length) changed.push(c);
    } else changed.push(c);
    c++;
  });
  if (!ok) return null;
  const same = prev.index === index;
  if (same && changed.length === 0) return prev.evidence;
  const expected = prev.expected;
  if (mode === 'tests') {
    // A new maximum test count for a task re-prices earlier failed runs: count everything again.
    let c2 = 0;
    let raised = false;
    evaluations.forEach((lines) => {
      if (!raised && changed.includes(c2)) raised = addExpected(expected, lines);
      c2++;
    });
    if (raised) return null;
  }
  const n = index.ids.length;
  const old = prev.evidence;
  const ev = emptyEvidence(n);
  if (same) {
    ev.ns.set(old.ns);
    ev.nf.set(old.nf);
    ev.runs.set(old.runs);
    ev.lines.set(old.lines);
    ev.tampered.set(old.tampered);
  } else {
    // Carry each kept node's counts to its new place.
    const map = index.fromMap as Int32Array;
    const kept = new Uint8Array(n);
    for (let o = 0; o < map.length; o++) {
      const i = map[o]!;
      if (i < 0) continue;
      kept[i] = 1;
      ev.ns[i] = old.ns[o]!;
      ev.nf[i] = old.nf[o]!;
      ev.runs[i] = old.runs[o]!;
      ev.lines[i] = old.lines[o]!;
      ev.tampered[i] = old.tampered[o]!;
    }
    // New nodes: their lines may have arrived before them (an entry that was not a node).
    for (let i = 0; i < n; i++) {
      if (kept[i]) continue;
      const lines = evaluations.get(index.ids[i]!);
      if (lines) countNode(ev, i, lines, mode, expected);
    }
  }
  ev.allLines = old.allLines;
  // Entries are compared in order, so `changed` is ascending and appended entries come last.
  let k = 0;
  c = 0;
  evaluations.forEach((lines, key) => {
    if (k < changed.length && changed[k] === c) {
      k++;
      if (c < keys.length) {
        ev.allLines -= lens[c]!;
        lists[c] = lines;
        lens[c] = lines.length;
      } else {
        keys.push(key);
        lists.push(lines);
        lens.push(lines.length);
      }
      ev.allLines += lines.length;
      const i = index.byId.get(key);
      if (i !== undefined) {
        ev.ns[i] = 0;
        ev.nf[i] = 0;
        ev.runs[i] = 0;
        ev.tampered[i] = 0;
        countNode(ev, i, lines, mode, expected);
      }
    }
    c++;
  });
  for (let i = 0; i < n; i++) ev.totalRuns += ev.runs[i]!;
  lastSeen.set(mode, { index, keys, lists, lens, evidence: ev, expected });
  return ev;
}

function countNode(ev: EvidenceArrays, i: number, lines: Evaluation[], mode: EvidenceMode, expected: Map<string, number>): void {
  ev.lines[i] = lines.length;
  for (const line of lines) {
    if (line.tampered) {
      ev.tampered[i] = 1;
      continue;
    }
    if (line.outcome === 'error') continue;
    const counted = line.tests !== undefined || line.testResults !== undefined;
    // The common line (no per-test counts) is counted inline: no allocation per line.
    if (mode === 'tasks' || (!counted && !expected.has(line.task))) {
      if (line.outcome === 'pass') ev.ns[i]!++;
      else ev.nf[i]!++;
    } else {
      const c = gradedCounts(line, mode, expected)!;
      ev.ns[i]! += c.ns;
      ev.nf[i]! += c.nf;
    }
    ev.runs[i]!++;
  }
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

/** Forget the cached indexes and evidence (tests compare cached results with results from scratch). */
export function resetScorerCaches(): void {
  resetIndexCache();
  lastSeen.clear();
}

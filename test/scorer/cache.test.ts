/**
 * The scorer caches its index and evidence per snapshot and derives them from the last ones
 * when a snapshot is a successor (the archive's incremental refresh). Whatever the change,
 * the cached result must equal the result computed from scratch.
 */
import { describe, expect, it } from 'vitest';
import type { ArchiveNode, ArchiveSnapshot, Evaluation } from '../../src/archive/types.js';
import { indexSnapshot } from '../../src/scorer/archive-index.js';
import { computeEvidence, resetScorerCaches } from '../../src/scorer/evidence.js';
import { createRng, decide, randomInt, type Rng } from '../../src/scorer/index.js';
import { CONFIG, line, node } from './archive.js';

const TASKS = ['t0', 't1', 't2', 't3'];

function view(snap: ArchiveSnapshot) {
  const index = indexSnapshot(snap);
  const ev = computeEvidence(index, 'tests');
  const parents = index.ids.map((_, i) => [...index.parentList.subarray(index.parentStart[i], index.parentStart[i + 1])].map((p) => index.ids[p]));
  const children = index.ids.map((_, i) => [...index.childList.subarray(index.childStart[i], index.childStart[i + 1])].map((c) => index.ids[c]).sort());
  return {
    ids: index.ids.slice(),
    parents,
    children,
    root: index.rootIndex,
    pruned: [...index.pruned],
    ns: [...ev.ns],
    nf: [...ev.nf],
    runs: [...ev.runs],
    lines: [...ev.lines],
    tampered: [...ev.tampered],
    totalRuns: ev.totalRuns,
    allLines: ev.allLines,
    lookups: index.ids.map((id) => index.byId.get(id)),
    decision: decide({ snapshot: snap, tasks: TASKS, now: 0, budget: {}, config: { ...CONFIG, alpha: 0.8, seed: 3 }, crossover: true }),
  };
}

/** A deep copy: no object shared with the original, so nothing cached can be reused by identity. */
function clone(snap: ArchiveSnapshot): ArchiveSnapshot {
  return {
    root: snap.root,
    nodes: snap.nodes.map((n) => ({ ...n, parents: [...n.parents] })),
    evaluations: new Map([...snap.evaluations].map(([k, v]) => [k, v.map((l) => ({ ...l }))])),
    claims: snap.claims.map((c) => ({ ...c })),
  };
}

/** The next snapshot the way the archive builds one: shared node objects and lists, copy-on-write map, sorted order. */
function successor(snap: ArchiveSnapshot, rng: Rng, step: number): ArchiveSnapshot {
  let nodes = snap.nodes.slice();
  const evaluations = new Map(snap.evaluations);
  const depth = new Map<string, number>();
  for (const n of nodes) depth.set(n.id, n.parents.length === 0 ? 0 : Math.max(...n.parents.map((p) => (depth.get(p) ?? -1) + 1)));
  const kind = randomInt(rng, 8);
  if (kind <= 2) {
    // New nodes, inserted in (depth, id) order like the archive's merge.
    for (let k = 0; k < 1 + randomInt(rng, 4); k++) {
      const p = nodes[randomInt(rng, nodes.length)]!.id;
      const q = nodes[randomInt(rng, nodes.length)]!.id;
      const parents = rng.next() < 0.2 && q !== p ? [p, q] : [p];
      const id = `s${step}-${k}`;
      const d = Math.max(...parents.map((x) => depth.get(x)!)) + 1;
      depth.set(id, d);
      nodes.push(node(id, parents));
    }
    nodes.sort((a, b) => depth.get(a.id)! - depth.get(b.id)! || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  } else if (kind === 3 && nodes.length > 3) {
    // A leaf disappears (its branch deleted and unreachable), with its lines.
    const hasChild = new Set(nodes.flatMap((n) => n.parents));
    const leaves = nodes.filter((n) => !hasChild.has(n.id) && n.parents.length > 0);
    if (leaves.length > 0) {
      const gone = leaves[randomInt(rng, leaves.length)]!.id;
      nodes = nodes.filter((n) => n.id !== gone);
      evaluations.delete(gone);
    }
  } else if (kind === 4) {
    // Marks change: a new node object for the same commit.
    const i = randomInt(rng, nodes.length);
    nodes[i] = { ...nodes[i]!, pruned: !nodes[i]!.pruned };
  } else if (kind === 5) {
    // Lines arrive for a commit that is not a node yet, or for a node.
    const id = rng.next() < 0.3 ? `s${step + 1}-0` : nodes[randomInt(rng, nodes.length)]!.id;
    evaluations.set(id, [...(evaluations.get(id) ?? []), line(id, TASKS[randomInt(rng, 4)]!, rng.next() < 0.5 ? 'pass' : 'fail')]);
  } else if (kind === 6) {
    // Read-only by contract, but a caller may still push into a list in place.
    const id = nodes[randomInt(rng, nodes.length)]!.id;
    const list = evaluations.get(id);
    if (list) list.push(line(id, 't1', 'error'));
    else evaluations.set(id, [line(id, 't0', 'pass', { tests: { passed: 3, failed: 1, skipped: 0, total: 4 } })]);
  } else {
    const id = nodes[randomInt(rng, nodes.length)]!.id;
    evaluations.set(id, [line(id, 't2', 'fail', { tampered: rng.next() < 0.2 })]);
  }
  return { root: snap.root, nodes, evaluations, claims: snap.claims };
}

describe('scorer caches', () => {
  it('a derived index and evidence equal the ones computed from scratch (random successors)', () => {
    for (let seed = 0; seed < 6; seed++) {
      const rng = createRng(seed);
      const nodes: ArchiveNode[] = [node('r')];
      const lines: Evaluation[] = [line('r', 't0', 'pass')];
      for (let i = 1; i < 30; i++) nodes.push(node(`n${String(i).padStart(2, '0')}`, [nodes[randomInt(rng, i)]!.id]));
      let snap: ArchiveSnapshot = { root: 'r', nodes, evaluations: new Map([['r', lines]]), claims: [] };
      resetScorerCaches();
      for (let step = 0; step < 80; step++) {
        snap = successor(snap, rng, step);
        const warm = view(snap);
        // The same snapshot again (cached), then from scratch on a deep copy.
        expect(view(snap)).toEqual(warm);
        resetScorerCaches();
        expect(view(clone(snap))).toEqual(warm);
        // Warm the caches back up on the real snapshot so the next step is derived.
        resetScorerCaches();
        view(snap);
      }
    }
  });
});

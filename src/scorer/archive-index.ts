/**
 * The archive indexed for the scorer: flat typed arrays in parent-first order, child lists in
 * CSR form, ids resolved through a Map once. Cached per snapshot; a snapshot that differs from
 * the last one by a few nodes (what the archive's incremental refresh hands over) is indexed
 * from the last index. Snapshots are read-only by contract, but the cache still checks what it
 * reuses (node objects and parent arrays by identity, evaluation lists by identity and length).
 */
import type { ArchiveSnapshot } from '../archive/types.js';

/** The snapshot indexed for the scorer. Index i is the i-th node in parent-first order. */
export interface ArchiveIndex {
  snapshot: ArchiveSnapshot;
  ids: string[];
  byId: IdLookup;
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
  root: string;
  /** The node objects indexed (a copy of snapshot.nodes), to check a cached index is still valid. */
  nodes: ArchiveSnapshot['nodes'];
  /** Parent ids that are not nodes (the root's own history), so a node appearing later is linked. */
  outside: Set<string>;
  /** The index this one was derived from, and where its node i went (-1: gone). */
  from: ArchiveIndex | null;
  fromMap: Int32Array | null;
}

/**
 * Id → index. A full index holds one Map; an index derived from an earlier one reuses that
 * Map through a slot → index array and keeps only the new ids in a Map of its own.
 */
export class IdLookup {
  constructor(
    private readonly base: Map<string, number>,
    private readonly slots: Int32Array,
    private readonly extra: Map<string, number>,
  ) {}

  static of(ids: string[]): IdLookup {
    const base = new Map<string, number>();
    for (let i = 0; i < ids.length; i++) base.set(ids[i]!, i);
    const slots = new Int32Array(ids.length);
    for (let i = 0; i < slots.length; i++) slots[i] = i;
    return new IdLookup(base, slots, new Map());
  }

  get(id: string): number | undefined {
    const e = this.extra.get(id);
    if (e !== undefined) return e;
    const s = this.base.get(id);
    if (s === undefined) return undefined;
    const i = this.slots[s]!;
    return i < 0 ? undefined : i;
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** The lookup after nodes moved (oldToNew) and `added` ids arrived; rebuilt when the extras grow large. */
  remap(oldToNew: Int32Array, added: [string, number][], ids: string[]): IdLookup {
    if (this.extra.size + added.length > ids.length / 4) return IdLookup.of(ids);
    const slots = new Int32Array(this.slots.length);
    for (let s = 0; s < slots.length; s++) {
      const o = this.slots[s]!;
      slots[s] = o < 0 ? -1 : oldToNew[o]!;
    }
    const extra = new Map<string, number>();
    for (const [id, o] of this.extra) {
      const i = oldToNew[o]!;
      if (i >= 0) extra.set(id, i);
    }
    for (const [id, i] of added) extra.set(id, i);
    return new IdLookup(this.base, slots, extra);
  }
}

const indexCache = new WeakMap<ArchiveSnapshot, ArchiveIndex>();
/** The last index built: the next snapshot is usually this one plus a few nodes. */
let lastIndex: ArchiveIndex | null = null;

/** The snapshot's index: cached per snapshot, derived from the last index when only a few nodes changed. */
export function indexSnapshot(snapshot: ArchiveSnapshot): ArchiveIndex {
  const cached = indexCache.get(snapshot);
  if (cached && sameNodes(cached, snapshot)) {
    lastIndex = cached;
    return cached;
  }
  const index = (lastIndex && deriveIndex(lastIndex, snapshot)) ?? buildIndex(snapshot);
  // One link back (for the evidence cache), never a chain: old snapshots do not stay alive.
  if (lastIndex && lastIndex !== index) {
    lastIndex.from = null;
    lastIndex.fromMap = null;
  }
  indexCache.set(snapshot, index);
  lastIndex = index;
  return index;
}

function sameNodes(index: ArchiveIndex, snapshot: ArchiveSnapshot): boolean {
  const nodes = snapshot.nodes;
  if (nodes.length !== index.nodes.length) return false;
  if (index.root !== snapshot.root) return false;
  for (let i = 0; i < nodes.length; i++) if (nodes[i] !== index.nodes[i]) return false;
  return true;
}

function buildIndex(snapshot: ArchiveSnapshot): ArchiveIndex {
  const nodes = snapshot.nodes;
  const n = nodes.length;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(nodes[i]!.id);
  const byId = IdLookup.of(ids);
  const parentStart = new Int32Array(n + 1);
  let parentList = new Int32Array(n + 16);
  const outside = new Set<string>();
  let used = 0;
  for (let i = 0; i < n; i++) {
    parentStart[i] = used;
    const links = nodes[i]!.parents;
    for (let k = 0; k < links.length; k++) {
      const j = byId.get(links[k]!);
      // A parent outside the archive (the root's own history) is not a node.
      if (j === undefined) {
        outside.add(links[k]!);
        continue;
      }
      // The archive promises parents first; re-sort once if a snapshot breaks that.
      if (j >= i) return buildIndex({ ...snapshot, nodes: topologicalOrder(nodes, byId) });
      if (used > parentStart[i]! && parentList.subarray(parentStart[i], used).includes(j)) continue;
      if (used === parentList.length) parentList = grow(parentList);
      parentList[used++] = j;
    }
  }
  parentStart[n] = used;
  return finishIndex(snapshot, ids, byId, parentStart, parentList.subarray(0, used), outside, null, null);
}

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(a.length * 2);
  grown.set(a);
  return grown;
}

/**
 * The index of `snapshot` from `prev`, when the snapshot keeps prev's nodes in the same
 * relative order (nodes may be added anywhere and removed): node objects and parent lists are
 * matched by identity, so only the new nodes' parents are looked up by id. Null when the
 * snapshot is not such a successor (then the index is built from scratch).
 */
function deriveIndex(prev: ArchiveIndex, snapshot: ArchiveSnapshot): ArchiveIndex | null {
  const nodes = snapshot.nodes;
  const n = nodes.length;
  const oldN = prev.ids.length;
  if (oldN === 0 || n === 0 || snapshot.root !== prev.root) return null;
  const oldToNew = new Int32Array(oldN).fill(-1);
  const newToOld = new Int32Array(n).fill(-1);
  const added: [string, number][] = [];
  let j = 0;
  for (let i = 0; i < n; i++) {
    const node = nodes[i]!;
    let o = j < oldN && prev.ids[j] === node.id ? j : -2;
    if (o === -2) {
      const found = prev.byId.get(node.id);
      if (found === undefined) {
        if (prev.outside.has(node.id)) return null;
        added.push([node.id, i]);
        if (added.length > n / 4) return null;
        continue;
      }
      // Order changed, not just insertions: not a successor.
      if (found < j) return null;
      o = found;
    }
    const old = prev.nodes[o]!;
    if (node !== old && node.parents !== old.parents && !sameStrings(node.parents, old.parents)) return null;
    oldToNew[o] = i;
    newToOld[i] = o;
    j = o + 1;
  }
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(nodes[i]!.id);
  const byId = prev.byId.remap(oldToNew, added, ids);
  const parentStart = new Int32Array(n + 1);
  let parentList = new Int32Array(prev.parentList.length + 2 * added.length + 16);
  const outside = new Set(prev.outside);
  let used = 0;
  for (let i = 0; i < n; i++) {
    parentStart[i] = used;
    const o = newToOld[i]!;
    if (o >= 0) {
      for (let k = prev.parentStart[o]!; k < prev.parentStart[o + 1]!; k++) {
        const p = oldToNew[prev.parentList[k]!]!;
        if (p < 0) continue;
        if (p >= i) return null;
        if (used === parentList.length) parentList = grow(parentList);
        parentList[used++] = p;
      }
      continue;
    }
    const links = nodes[i]!.parents;
    for (let k = 0; k < links.length; k++) {
      const p = byId.get(links[k]!);
      if (p === undefined) {
        outside.add(links[k]!);
        continue;
      }
      if (p >= i) return null;
      if (used > parentStart[i]! && parentList.subarray(parentStart[i], used).includes(p)) continue;
      if (used === parentList.length) parentList = grow(parentList);
      parentList[used++] = p;
    }
  }
  parentStart[n] = used;
  return finishIndex(snapshot, ids, byId, parentStart, parentList.subarray(0, used), outside, prev, oldToNew);
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

function finishIndex(
  snapshot: ArchiveSnapshot,
  ids: string[],
  byId: IdLookup,
  parentStart: Int32Array,
  parentList: Int32Array,
  outside: Set<string>,
  from: ArchiveIndex | null,
  fromMap: Int32Array | null,
): ArchiveIndex {
  const nodes = snapshot.nodes;
  const n = ids.length;
  const pruned = new Uint8Array(n);
  // An untrusted node (screen.ts) is never chosen, like a pruned one.
  for (let i = 0; i < n; i++) if (nodes[i]!.pruned || nodes[i]!.untrusted !== undefined) pruned[i] = 1;
  const firstParent = new Int32Array(n).fill(-1);
  const childStart = new Int32Array(n + 1);
  let hasMerges = false;
  for (let i = 0; i < n; i++) {
    const a = parentStart[i]!;
    const count = parentStart[i + 1]! - a;
    if (count > 0) firstParent[i] = parentList[a]!;
    if (count > 1) hasMerges = true;
    for (let k = a; k < a + count; k++) childStart[parentList[k]! + 1]!++;
  }
  for (let i = 0; i < n; i++) childStart[i + 1]! += childStart[i]!;
  const fill = childStart.slice(0, n);
  const childList = new Int32Array(parentList.length);
  for (let i = 0; i < n; i++) {
    for (let k = parentStart[i]!; k < parentStart[i + 1]!; k++) childList[fill[parentList[k]!]!++] = i;
  }
  const rootIndex = byId.get(snapshot.root) ?? 0;
  return { snapshot, ids, byId, parentStart, parentList, firstParent, childStart, childList, rootIndex, pruned, hasMerges, root: snapshot.root, nodes: nodes.slice(), outside, from, fromMap };
}

function topologicalOrder(nodes: ArchiveSnapshot['nodes'], byId: IdLookup): ArchiveSnapshot['nodes'] {
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

/** Forget the cached indexes (tests compare cached results with results from scratch). */
export function resetIndexCache(): void {
  lastIndex = null;
}

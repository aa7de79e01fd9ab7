/**
 * Reading the archive out of git, incrementally: the state every snapshot is built from.
 *
 * The state is a pure function of the refs (and the objects they reach): node branch tips, the
 * root, the notes refs, the claim refs and the promotion tags. A refresh lists the refs (from
 * the ref files, as `for-each-ref` would print them), looks only at the lines that changed
 * (ref-delta.ts), brings the nodes up to date (node-graph.ts) while it re-reads the notes and
 * claims that changed (notes-read.ts), and applies what counts on this machine
 * (trust-state.ts). The cache file (cache-file.ts) only saves that work: deleting it gives the
 * same snapshot.
 */
import { FOR_EACH_REF_FORMAT, parseForEachRef, RefFiles, type Git } from '../git/index.js';
import { EvogitError } from '../errors/index.js';
import { readCacheFile, writeCacheFile } from './cache-file.js';
import { NodeGraph, type LoadStats } from './node-graph.js';
import { applyNotes, noteBlobsIn, noteNamesIn, readNotesAndClaims } from './notes-read.js';
import type { ClaimState, NodeRecord, NotesState } from './records.js';
import { diffRefText } from './ref-delta.js';
import { RefLayout, WRITER_RE } from './refs.js';
import { TrustState, type TrustOptions } from './trust-state.js';
import type { ArchiveNode, ArchiveSnapshot, Claim, Evaluation } from './types.js';

export type { LoadStats } from './node-graph.js';
export { DISPUTED, FETCH_IGNORED, PROMOTED_HERE, type TrustOptions } from './trust-state.js';

/** The node object last built from a record, reused while its marks stay the same (not written to the cache file). */
const NODE_OBJECT = Symbol('node object');
type CachedRecord = NodeRecord & { [NODE_OBJECT]?: ArchiveNode };

const graded = (lines: Evaluation[] | undefined): number => {
  let n = 0;
  if (lines) for (const e of lines) if (e.outcome !== 'error') n++;
  return n;
};

/** The node graph (node-graph.ts) with each writer's notes, the claims and the promotions, and the snapshot built from them. */
export class ArchiveState extends NodeGraph {
  notes = new Map<string, NotesState>();
  /** Annotated object → evaluation lines of every writer (writers in sorted order). */
  evalsByNode = new Map<string, Evaluation[]>();
  claims = new Map<string, ClaimState>();
  promoted = new Set<string>();
  /** Changes since the cache file was last written. */
  dirty = 0;
  lastSaved = 0;
  /** The for-each-ref output the state matches, and the snapshot built from it. */
  private lastRefs: string | null = null;
  private notesTips = new Map<string, string>();
  private claimRefs = new Map<string, string>();
  private promotedRefs = new Map<string, string>();
  /** Refs under the archive's namespaces that are not part of its layout: ref → sha. */
  private oddRefs = new Map<string, string>();
  private memo: ArchiveSnapshot | null = null;
  /** Graded runs (not errors) in every note line, nodes or not: pruning gives no budget back. */
  private gradedRuns = 0;
  /** Since the last snapshot: nodes whose evaluations changed (NodeGraph keeps the rest). */
  private changedEvals = new Set<string>();
  private lastSnap: ArchiveSnapshot | null = null;
  /** The writers of commits made by hand below a branch's tip, as the last snapshot had them (handWriters). */
  private byHand = new Map<string, string>();
  /** Promotions, disputes and signatures: what counts here. */
  private readonly trusted: TrustState;
  /** Reads the ref listing from the ref files when the repository keeps them as files; null = ask git. */
  private refFiles: RefFiles | null;

  constructor(
    git: Git,
    private readonly layout: RefLayout,
    private readonly cacheFile: string,
    gitDir: string,
    trust: TrustOptions = {},
  ) {
    const common = RefFiles.commonDirOf(gitDir);
    super(git, common);
    this.trusted = new TrustState(git, layout, common, trust);
    this.refFiles = RefFiles.supported(common) ? new RefFiles(common, layout.readPatterns) : null;
  }

  /** How many loose ref files the last refresh saw (0 where refs are not read from files). */
  looseRefs(): number {
    return this.refFiles?.looseCount ?? 0;
  }

  /** From now on list refs with `git for-each-ref` only (a ref the file reader saw that git would not use, e.g. a broken one). */
  listRefsWithGit(): void {
    this.refFiles = null;
  }

  /** trust: signed — verify what is new; a node or notes ref whose verdict changed is looked at again. */
  private async checkSignatures(notesTips: Map<string, string>): Promise<void> {
    const signatures = this.trusted.signatures;
    if (!signatures.enabled) return;
    const before = new Map([...notesTips.keys()].map((w) => [w, signatures.notesProblem(w)]));
    const fresh = await signatures.refresh(this.order.filter((r) => r.tracked && r.id !== this.root).map((r) => ({ id: r.id, writer: r.writer || (this.branchOf(r) ? (this.layout.writerOf(`refs/heads/${this.branchOf(r)}`) ?? '') : '') })), notesTips);
    for (const id of fresh) this.dirtyIds.add(id);
    for (const [w, problem] of before) {
      if (signatures.notesProblem(w) === problem) continue;
      for (const obj of this.notes.get(w)?.evals.keys() ?? []) this.changedEvals.add(obj);
      this.memo = null;
    }
    if (fresh.length) this.memo = null;
  }

  /** Bring the state up to date with the refs. */
  async refresh(): Promise<LoadStats> {
    const disputed = this.trusted.readDisputes();
    if (disputed) {
      for (const id of disputed) this.changedEvals.add(id);
      this.memo = null;
    }
    const refsOut = this.refFiles?.list() ?? (await this.git.out(['for-each-ref', `--format=${FOR_EACH_REF_FORMAT}`, ...this.layout.readPatterns]));
    // Every input of the state is a ref (or what it reaches): the same refs, the same archive.
    if (this.root !== null && refsOut === this.lastRefs) return { cold: false, newCommits: 0, removedCommits: 0, noteBlobsRead: 0 };
    this.memo = null;
    // Only the lines that changed since the last refresh are looked at (100k refs are 100k lines).
    const delta = this.root !== null && this.lastRefs !== null ? diffRefText(this.lastRefs, refsOut) : null;
    this.lastRefs = null;
    const { root, tips, tipChanges, notesTips, claimRefs, promotedRefs, oddRefs } = this.classifyRefs(refsOut, delta);
    const promoted = this.trusted.countedPromotions(promotedRefs);
    if (!root) {
      throw new EvogitError('E_NO_ROOT', `no archive root: branch ${RefLayout.short(this.layout.rootRef)} does not exist`, 'Run `evogit init` to record the base commit as the root, or fetch the archive from its remote.');
    }
    const stats: LoadStats = { cold: false, newCommits: 0, removedCommits: 0, noteBlobsRead: 0 };
    if (this.root !== root) {
      this.reset();
      stats.cold = true;
      // A new root with a delta in hand: read everything again from scratch.
      if (delta) return this.refresh();
    }
    // The notes and claims are read while git walks the new commits.
    const changedNodes = new Set<string>();
    const notesWork = readNotesAndClaims(this.git, this.notes, this.claims, notesTips, claimRefs, changedNodes);
    const [, { pendingNotes, parsed, claims: newClaims, blobsRead }] = await Promise.all([this.refreshNodes(root, delta ? tipChanges : tips, stats), notesWork]);
    stats.noteBlobsRead = blobsRead;
    applyNotes(this.notes, pendingNotes, parsed, notesTips, changedNodes);
    this.regroupEvaluations(changedNodes);
    for (const [ref, c] of newClaims) this.claims.set(ref, c);
    for (const ref of [...this.claims.keys()]) if (!claimRefs.has(ref)) this.claims.delete(ref);
    for (const sha of promoted) if (!this.promoted.has(sha)) this.dirtyIds.add(sha);
    for (const sha of this.promoted) if (!promoted.has(sha)) this.dirtyIds.add(sha);
    this.promoted = promoted;
    for (const id of changedNodes) this.changedEvals.add(id);
    this.dirty += stats.newCommits + stats.removedCommits + changedNodes.size + newClaims.length;
    this.notesTips = notesTips;
    this.claimRefs = claimRefs;
    this.promotedRefs = promotedRefs;
    this.oddRefs = oddRefs;
    await this.checkSignatures(notesTips);
    this.lastRefs = refsOut;
    return stats;
  }

  /**
   * The refs sorted into the archive's parts: the whole listing on a cold refresh, else only
   * the lines that changed, applied to the live maps (no copies of 100k entries).
   */
  private classifyRefs(refsOut: string, delta: { removed: string[]; added: string[] } | null) {
    let root: string | null = delta ? this.root : null;
    // A delta is applied to the live maps (no copies of 100k entries); a full read starts empty.
    const tips = delta ? this.tips : new Map<string, string>();
    const tipChanges: [string, string | null, string | null][] = [];
    const notesTips = delta ? this.notesTips : new Map<string, string>();
    const claimRefs = delta ? this.claimRefs : new Map<string, string>();
    const promotedRefs = delta ? this.promotedRefs : new Map<string, string>();
    const oddRefs = delta ? this.oddRefs : new Map<string, string>();
    const classify = (line: string, add: boolean) => {
      const { ref, sha } = parseForEachRef(line)[0] ?? { ref: '', sha: '' };
      if (ref === this.layout.rootRef) root = add ? sha : null;
      else if (this.layout.isNodeRef(ref) && this.layout.isArchiveRef(ref)) {
        if (delta) tipChanges.push([ref, add ? null : sha, add ? sha : null]);
        else tips.set(ref, sha);
      } else if (ref.startsWith(RefLayout.notesDir) && WRITER_RE.test(ref.slice(RefLayout.notesDir.length))) {
        if (add) notesTips.set(ref.slice(RefLayout.notesDir.length), sha);
        else notesTips.delete(ref.slice(RefLayout.notesDir.length));
      } else if (ref.startsWith(this.layout.branchesDir) || ref.startsWith(RefLayout.notesDir)) {
        // Not a name of the archive's layout (evo/bob/1/x, a notes ref of no writer): never read.
        if (add) oddRefs.set(ref, sha);
        else oddRefs.delete(ref);
      } else if (ref.startsWith(RefLayout.claimsDir)) {
        if (add) claimRefs.set(ref, sha);
        else claimRefs.delete(ref);
      } else if (ref.startsWith(this.layout.promotedDir)) {
        if (add) promotedRefs.set(ref, sha);
        else promotedRefs.delete(ref);
      }
    };
    if (delta) {
      for (const line of delta.removed) classify(line, false);
      for (const line of delta.added) classify(line, true);
    } else {
      for (const line of refsOut.split('\n')) if (line) classify(line, true);
    }
    return { root, tips, tipChanges, notesTips, claimRefs, promotedRefs, oddRefs };
  }

  private reset(): void {
    this.resetNodes();
    this.notes = new Map();
    this.evalsByNode = new Map();
    this.gradedRuns = 0;
    this.claims = new Map();
    this.dirty += 1;
  }

  protected override resetNodes(): void {
    super.resetNodes();
    this.memo = null;
    this.lastRefs = null;
    this.lastSnap = null;
    this.byHand = new Map();
    this.dirty += 1;
  }

  /** The note names of each writer on the object (notes-read.ts noteNamesIn). */
  noteNamesOf(obj: string): { writer: string; names: string[] }[] {
    return noteNamesIn(this.notes, obj);
  }

  /** The note blobs on many objects at once (notes-read.ts noteBlobsIn). */
  noteBlobsOf(objs: string[]): Promise<Map<string, { writer: string; blob: string }[]>> {
    return noteBlobsIn(this.git, this.notes, objs);
  }

  private regroupEvaluations(changed: Set<string>): void {
    if (changed.size === 0) return;
    const writers = [...this.notes.keys()].sort();
    if (changed.size >= this.evalsByNode.size) {
      // Cold: one pass over every writer's notes beats a lookup per writer per node.
      this.evalsByNode = new Map();
      this.gradedRuns = 0;
      for (const w of writers) {
        for (const [obj, e] of (this.notes.get(w) as NotesState).evals) {
          if (e.length === 0) continue;
          this.gradedRuns += graded(e);
          // The writer's own array while one writer has lines on the object (no copy per node).
          const list = this.evalsByNode.get(obj);
          this.evalsByNode.set(obj, list ? list.concat(e) : e);
        }
      }
      return;
    }
    for (const obj of changed) {
      const all: Evaluation[] = [];
      for (const w of writers) {
        const e = (this.notes.get(w) as NotesState).evals.get(obj);
        if (e) all.push(...e);
      }
      this.gradedRuns += graded(all) - graded(this.evalsByNode.get(obj));
      if (all.length > 0) this.evalsByNode.set(obj, all);
      else this.evalsByNode.delete(obj);
    }
  }

  /** Several branches on one commit: prefer the writer's own namespace, then the smallest name. */
  private branchOf(rec: NodeRecord): string | null {
    if (rec.id === this.root) return RefLayout.short(this.layout.rootRef);
    const refs = this.refsBySha.get(rec.id);
    if (!refs) return null;
    let best: string | null = null;
    let bestRank = 2;
    for (const ref of refs) {
      const rank = this.layout.writerOf(ref) === rec.writer ? 0 : 1;
      const name = RefLayout.short(ref);
      if (rank < bestRank || (rank === bestRank && best !== null && name < best)) {
        best = name;
        bestRank = rank;
      }
    }
    return best;
  }

  private nodeObject(r: NodeRecord): ArchiveNode {
    const branch = this.branchOf(r);
    const writer = r.writer || (branch ? (this.layout.writerOf(`refs/heads/${branch}`) ?? '') : (this.byHand.get(r.id) ?? ''));
    const pruned = branch === null && r.tracked;
    const promoted = this.promoted.has(r.id);
    const branchWriter = branch ? this.layout.writerOf(`refs/heads/${branch}`) : null;
    const untrusted =
      r.trailerIssue ??
      (r.writer && branchWriter !== null && r.writer !== branchWriter ? `Evogit-Writer ${JSON.stringify(r.writer)} on a branch of ${branchWriter}` : undefined) ??
      (r.tracked && r.id !== this.root ? (this.trusted.signatures.nodeProblem(r.id, writer) ?? undefined) : undefined);
    const prev = (r as CachedRecord)[NODE_OBJECT];
    if (prev && prev.branch === branch && prev.writer === writer && prev.pruned === pruned && prev.promoted === promoted && prev.untrusted === untrusted) return prev;
    const node: ArchiveNode = { id: r.id, parents: r.parents, tree: r.tree, branch, writer, agent: r.agent, operator: r.operator, time: r.time, subject: r.subject, pruned, promoted };
    if (untrusted !== undefined) node.untrusted = untrusted;
    if (r.model !== undefined) node.model = r.model;
    if (r.cost !== undefined) node.cost = r.cost;
    if (r.targets !== undefined) node.targets = r.targets;
    (r as CachedRecord)[NODE_OBJECT] = node;
    return node;
  }

  /**
   * The snapshot, built from the last one where possible: only nodes whose marks may have
   * changed are looked at again, and the evaluations map shares the last one's entries.
   * Snapshots share objects: treat them as read-only.
   */
  snapshot(): ArchiveSnapshot {
    if (this.memo) return this.memo;
    const last = this.lastSnap;
    const byHand = this.handWriters((ref) => this.layout.writerOf(ref));
    for (const id of new Set([...this.byHand.keys(), ...byHand.keys()])) if (this.byHand.get(id) !== byHand.get(id)) this.dirtyIds.add(id);
    this.byHand = byHand;
    // Nodes whose branch or marks may have changed get their object looked at again.
    let marksChanged = false;
    for (const id of this.dirtyIds) {
      const r = this.nodes.get(id) as CachedRecord | undefined;
      if (r && r[NODE_OBJECT] !== this.nodeObject(r)) marksChanged = true;
    }
    let nodes: ArchiveNode[];
    if (last && !this.orderChanged && !marksChanged) nodes = last.nodes;
    else {
      nodes = new Array(this.order.length);
      for (let i = 0; i < nodes.length; i++) {
        const r = this.order[i] as CachedRecord;
        nodes[i] = r[NODE_OBJECT] ?? this.nodeObject(r);
      }
    }
    let evaluations: Map<string, Evaluation[]>;
    const touched = [...this.changedEvals, ...this.addedIds, ...this.removedIds];
    if (last && touched.length === 0) {
      evaluations = last.evaluations;
    } else if (last && touched.length < 10_000) {
      // Copy on write: an earlier snapshot keeps its own map (forEach + set copies twice as fast as new Map(map)).
      evaluations = new Map();
      last.evaluations.forEach((v, k) => evaluations.set(k, v));
      for (const id of touched) {
        const ev = this.nodes.has(id) ? this.trusted.countedEvals(this.evalsByNode.get(id)) : undefined;
        if (ev) evaluations.set(id, ev);
        else evaluations.delete(id);
      }
    } else {
      evaluations = new Map();
      for (const n of nodes) {
        const ev = this.trusted.countedEvals(this.evalsByNode.get(n.id));
        if (ev) evaluations.set(n.id, ev);
      }
    }
    const claims = [...this.claims.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .flatMap(([ref, c]): Claim[] => (c.claim && ref.slice(RefLayout.claimsDir.length).split('/')[0] === c.claim.writer ? [{ ...c.claim, ref }] : []));
    this.dirtyIds.clear();
    this.changedEvals.clear();
    this.addedIds = [];
    this.removedIds = [];
    this.orderChanged = false;
    // An untrusted node's runs count for nothing (its own lines included).
    const untrusted = nodes.filter((n) => n.untrusted !== undefined && evaluations.has(n.id));
    if (untrusted.length) {
      evaluations = new Map(evaluations);
      for (const n of untrusted) evaluations.delete(n.id);
    }
    const ignored = this.trusted.ignoredList(nodes, this.notes, this.oddRefs);
    this.memo = { root: this.root as string, nodes, evaluations, claims, gradedRuns: this.gradedRuns, ...(ignored.length ? { ignored } : {}) };
    this.lastSnap = this.memo;
    return this.memo;
  }

  /** Start from the cache file, when there is a usable one (cache-file.ts); false when there is not. */
  async loadCache(): Promise<boolean> {
    const cache = await readCacheFile(this.cacheFile, this.layout.prefix);
    if (!cache) return false;
    this.resetNodes();
    this.root = cache.root;
    this.retip(cache.tips);
    this.order = cache.order;
    this.nodes = new Map(cache.order.map((r) => [r.id, r]));
    for (const r of cache.order) if (!r.tracked) this.untracked.add(r.id);
    this.notes = cache.notes;
    this.evalsByNode = new Map();
    this.gradedRuns = 0;
    this.regroupEvaluations(new Set([...cache.notes.values()].flatMap((st) => [...st.evals.keys()])));
    this.claims = cache.claims;
    this.dirty = 0;
    this.lastSaved = Date.now();
    return true;
  }

  /** Write the cache file (cache-file.ts). The Archive runs this between loads, never during one. */
  writeCache(): void {
    if (this.root === null) return;
    writeCacheFile(this.cacheFile, this.layout.prefix, { root: this.root, tips: this.tips, order: this.order, notes: this.notes, claims: this.claims });
    this.dirty = 0;
    this.lastSaved = Date.now();
  }
}

/**
 * Reading the archive out of git, incrementally.
 *
 * The state below is a pure function of the refs (and the objects they reach): node branch
 * tips, the root, the notes refs, the claim refs and the promotion tags. A refresh lists the
 * refs (from the ref files, as `for-each-ref` would print them), walks only the commits that
 * are new since the last tips (their objects through cat-file, or `git log NEW --not OLD`),
 * asks which commits became unreachable when tips disappeared (`git rev-list GONE --not
 * CURRENT`), and re-reads only the note blobs that changed (a walk over the old and new notes
 * trees, or `git diff-tree`) with `cat-file --batch`. A cold load streams all of it.
 * The cache under .git/evogit/ only saves that work: deleting it gives the same snapshot.
 */
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  FOR_EACH_REF_FORMAT,
  LOG_FORMAT,
  notePathToSha,
  parseDiffTree,
  parseForEachRef,
  parseLog,
  forEachLsTreeBlob,
  parseCommitObject,
  RefFiles,
  zeroIdLike,
  type Git,
  type RawCommit,
  type TreeChange,
} from '../git/index.js';
import { EvogitError, unlessMissing } from '../errors/index.js';
import { intern, NOTES_PER_PARSE, PARALLEL_READ_FROM, parseClaim, parseNotes, stripLogMembersBytes } from './notes.js';
import { commitParents, diffRefText } from './ref-delta.js';
import { RefLayout, WRITER_RE } from './refs.js';
import { parseTargets, screenLines, trailerProblem, type Ignored } from './screen.js';
import { SignatureCheck, type SignedTrust } from './signatures.js';
import type { ArchiveNode, ArchiveSnapshot, Claim, Evaluation, Operator } from './types.js';

// 2: evaluation lines are kept without their log tails. 3: no note blob ids (read by path when needed).
// 4: lines screened (screen.ts), with what was ignored; trailer problems on node records.
// 5: node records carry their Evogit-Targets.
const CACHE_VERSION = 5;

/** What a commit says about itself; the marks (branch, pruned, promoted) come from the refs. */
export interface NodeRecord extends Omit<ArchiveNode, 'branch' | 'pruned' | 'promoted'> {
  /** The commit carries evogit trailers (so it had a branch of its own once). */
  tracked: boolean;
  /** Longest path from the root: the canonical order is (depth, id). */
  depth: number;
  /** Why the commit's own trailers are not to be believed (screen.ts trailerProblem without the branch). */
  trailerIssue?: string;
}

interface NotesState {
  tip: string;
  /** Annotated object → parsed lines (an entry, maybe empty, for every note of the writer). */
  evals: Map<string, Evaluation[]>;
  /** Annotated object → lines of its note that were not counted, and the first reason. */
  ignored: Map<string, { count: number; reason: string }>;
}

/** The config's trust: whose promotion tags count beyond this machine's own ('*': anyone), and trust: signed. */
export interface TrustOptions extends SignedTrust {
  promoters?: string[];
}

/** The notes of a writer new to the state, as listed by ls-tree (kept as bytes plus offsets). */
interface NewWriterNotes {
  writer: string;
  bytes: Buffer;
  blobs: string[];
  pathStart: Uint32Array;
  pathEnd: Uint32Array;
}

interface ClaimState {
  sha: string;
  claim: Claim | null;
}

export interface LoadStats {
  cold: boolean;
  newCommits: number;
  removedCommits: number;
  noteBlobsRead: number;
}

const OPERATORS = new Set<Operator>(['root', 'mutate', 'llm', 'command', 'self', 'crossover', 'manual']);

export function recordFromCommit(c: RawCommit, isRoot: boolean): NodeRecord {
  const t = c.trailers;
  const op = t['Evogit-Operator'] as Operator | undefined;
  const tracked = t['Evogit-Writer'] !== undefined || t['Evogit-Operator'] !== undefined;
  const rec: NodeRecord = {
    // One string per node id, shared with its children's parents, its notes and its evaluations.
    id: intern(c.id),
    parents: c.parents.map(intern),
    tree: c.tree,
    writer: t['Evogit-Writer'] ?? '',
    agent: t['Evogit-Agent'] ?? '',
    operator: isRoot ? 'root' : op && OPERATORS.has(op) ? op : 'manual',
    time: c.time,
    subject: c.subject,
    tracked: tracked || isRoot,
    depth: 0,
  };
  if (t['Evogit-Model'] !== undefined) rec.model = t['Evogit-Model'];
  const issue = isRoot ? null : trailerProblem(t, null);
  if (issue !== null) rec.trailerIssue = issue;
  const cost = t['Evogit-Cost'] !== undefined ? Number(t['Evogit-Cost']) : NaN;
  if (Number.isFinite(cost) && cost >= 0) rec.cost = cost;
  const targets = parseTargets(t['Evogit-Targets']);
  if (targets) rec.targets = targets;
  return rec;
}

/** The node object last built from a record, reused while its marks stay the same (not written to the cache file). */
const NODE_OBJECT = Symbol('node object');
type CachedRecord = NodeRecord & { [NODE_OBJECT]?: ArchiveNode };

const graded = (lines: Evaluation[] | undefined): number => {
  let n = 0;
  if (lines) for (const e of lines) if (e.outcome !== 'error') n++;
  return n;
};

/** Subtrees a notes diff reads through the kept-open cat-file before it asks `git diff-tree` instead. */
const NOTES_DIFF_MAX_TREES = 300;

const byDepthThenId = (a: NodeRecord, b: NodeRecord): number => a.depth - b.depth || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class ArchiveState {
  root: string | null = null;
  tips = new Map<string, string>();
  nodes = new Map<string, NodeRecord>();
  order: NodeRecord[] = [];
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
  /** Promotion tags that do not count (not made here, not by a trusted promoter): ref → sha. */
  private ignoredPromotions = new Map<string, string>();
  /** Refs under the archive's namespaces that are not part of its layout: ref → sha. */
  private oddRefs = new Map<string, string>();
  /** Pass lines a re-run on this machine contradicted ("writer\0node\0task" → reason), from .git/evogit/disputed. */
  private disputes = new Map<string, string>();
  private disputesText = '';
  private memo: ArchiveSnapshot | null = null;
  /** Graded runs (not errors) in every note line, nodes or not: pruning gives no budget back. */
  private gradedRuns = 0;
  /** Branch refs per commit, kept in step with tips. */
  private refsBySha = new Map<string, string[]>();
  /** Since the last snapshot: nodes whose marks may have changed, nodes whose evaluations changed, and whether nodes came or went. */
  private dirtyIds = new Set<string>();
  private changedEvals = new Set<string>();
  private lastSnap: ArchiveSnapshot | null = null;
  private addedIds: string[] = [];
  private removedIds: string[] = [];
  private orderChanged = false;

  /** trust: signed — which nodes and notes refs of other writers carry a listed writer's signature. */
  private readonly signatures: SignatureCheck;
  /** Reads the ref listing from the ref files when the repository keeps them as files; null = ask git. */
  private refFiles: RefFiles | null;
  private readonly commonDir: string;
  /** Whether git's config and refs let raw commits be parsed without git log (asked once). */
  private plainGitConfig: Promise<boolean> | null = null;

  constructor(
    private readonly git: Git,
    private readonly layout: RefLayout,
    private readonly cacheFile: string,
    gitDir: string,
    private readonly trust: TrustOptions = {},
  ) {
    const common = RefFiles.commonDirOf(gitDir);
    this.commonDir = common;
    this.signatures = new SignatureCheck(git, join(common, 'evogit'), trust);
    this.refFiles = RefFiles.supported(common) ? new RefFiles(common, layout.readPatterns) : null;
  }

  /** From now on list refs with `git for-each-ref` only (a ref the file reader saw that git would not use, e.g. a broken one). */
  listRefsWithGit(): void {
    this.refFiles = null;
  }

  /**
   * The promoted commits: tags this machine made (`evogit promote` records them in
   * .git/evogit/promoted), and tags `<prefix>-promoted/<writer>/<sha12>` of the writers
   * trust.promoters lists ('*': anyone). Any other tag, pushed by whoever, does not count.
   */
  private countedPromotions(refs: Map<string, string>): Set<string> {
    const mine = new Set(readLines(join(this.commonDir, 'evogit', PROMOTED_HERE)));
    const promoters = new Set(this.trust.promoters ?? []);
    const counted = new Set<string>();
    this.ignoredPromotions = new Map();
    for (const [ref, sha] of refs) {
      const name = ref.slice(this.layout.promotedDir.length);
      const writer = name.includes('/') ? name.slice(0, name.indexOf('/')) : null;
      if (mine.has(ref) || (writer !== null && (promoters.has('*') || promoters.has(writer)))) counted.add(sha);
      else this.ignoredPromotions.set(ref, sha);
    }
    return counted;
  }

  /** What the archive read and did not count (screen.ts), for status, best and the report. */
  private ignoredList(nodes: ArchiveNode[]): Ignored[] {
    const out: Ignored[] = [];
    for (const w of [...this.notes.keys()].sort()) {
      for (const [node, x] of (this.notes.get(w) as NotesState).ignored) out.push({ writer: w, node, count: x.count, reason: `note line${x.count === 1 ? '' : 's'} not counted: ${x.reason}` });
    }
    for (const node of nodes) if (node.untrusted) out.push({ writer: node.writer, node: node.id, count: 1, reason: `node not counted: ${node.untrusted}` });
    for (const [ref, sha] of this.ignoredPromotions) {
      const name = ref.slice(this.layout.promotedDir.length);
      out.push({ writer: name.includes('/') ? name.slice(0, name.indexOf('/')) : '', node: sha, ref, count: 1, reason: 'promotion tag not counted: not made on this machine, nor by a writer trust.promoters lists' });
    }
    for (const w of [...this.notes.keys()].sort()) {
      const problem = this.signatures.notesProblem(w);
      if (problem) out.push({ writer: w, count: [...(this.notes.get(w) as NotesState).evals.values()].reduce((n, e) => n + e.length, 0), reason: `notes not counted: ${problem}` });
    }
    for (const [key, reason] of this.disputes) {
      const [writer, node, task] = key.split('\0') as [string, string, string];
      out.push({ writer, node, count: 1, reason: `pass line on task ${task} disputed: ${reason}` });
    }
    for (const line of readLines(join(this.commonDir, 'evogit', FETCH_IGNORED))) {
      try {
        const { remote, ref } = JSON.parse(line) as { remote: string; ref: string };
        out.push({ writer: this.layout.writerOf(ref) ?? '', ref, count: 1, reason: `not taken from ${remote}: not a name of the archive layout (it would block a writer's own branch)` });
      } catch {
        continue; // a torn line: the next fetch rewrites the file
      }
    }
    for (const [ref, sha] of this.oddRefs) out.push({ writer: this.layout.writerOf(ref) ?? '', node: sha, ref, count: 1, reason: 'ref not read: not a name of the archive layout' });
    return out;
  }

  /**
   * Read the disputes file (verify-before-acting's record): when it changed, the snapshot is
   * rebuilt and the disputed nodes' evaluations are regrouped.
   */
  private readDisputes(): void {
    let text = '';
    try {
      text = readFileSync(join(this.commonDir, 'evogit', DISPUTED), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text === this.disputesText) return;
    const next = new Map<string, string>();
    for (const line of text.split('\n')) {
      try {
        const d = JSON.parse(line) as { writer?: unknown; node?: unknown; task?: unknown; reason?: unknown };
        if (typeof d.writer === 'string' && typeof d.node === 'string' && typeof d.task === 'string') next.set(`${d.writer}\0${d.node}\0${d.task}`, typeof d.reason === 'string' ? d.reason : 'a re-run here disagreed');
      } catch {
        // A torn last line (written while read): it is complete at the next read.
        continue;
      }
    }
    for (const key of new Set([...this.disputes.keys(), ...next.keys()])) this.changedEvals.add(key.split('\0')[1] as string);
    this.disputes = next;
    this.disputesText = text;
    this.memo = null;
  }

  /** trust: signed — verify what is new; a node or notes ref whose verdict changed is looked at again. */
  private async checkSignatures(notesTips: Map<string, string>): Promise<void> {
    if (!this.signatures.enabled) return;
    const before = new Map([...notesTips.keys()].map((w) => [w, this.signatures.notesProblem(w)]));
    const fresh = await this.signatures.refresh(this.order.filter((r) => r.tracked && r.id !== this.root).map((r) => ({ id: r.id, writer: r.writer || (this.branchOf(r) ? (this.layout.writerOf(`refs/heads/${this.branchOf(r)}`) ?? '') : '') })), notesTips);
    for (const id of fresh) this.dirtyIds.add(id);
    for (const [w, problem] of before) {
      if (this.signatures.notesProblem(w) === problem) continue;
      for (const obj of this.notes.get(w)?.evals.keys() ?? []) this.changedEvals.add(obj);
      this.memo = null;
    }
    if (fresh.length) this.memo = null;
  }

  /** A node's evaluation lines as the snapshot counts them: the pass lines a re-run here disputed, and unsigned writers' lines (trust: signed), are left out. */
  private countedEvals(id: string): Evaluation[] | undefined {
    const all = this.evalsByNode.get(id);
    if (!all || (this.disputes.size === 0 && !this.signatures.enabled)) return all;
    const kept = all.filter((e) => (e.outcome !== 'pass' || !this.disputes.has(`${e.writer}\0${e.node}\0${e.task}`)) && this.signatures.notesProblem(e.writer) === null);
    return kept.length === all.length ? all : kept.length ? kept : undefined;
  }

  /** Bring the state up to date with the refs. */
  async refresh(): Promise<LoadStats> {
    this.readDisputes();
    const refsOut = this.refFiles?.list() ?? (await this.git.out(['for-each-ref', `--format=${FOR_EACH_REF_FORMAT}`, ...this.layout.readPatterns]));
    // Every input of the state is a ref (or what it reaches): the same refs, the same archive.
    if (this.root !== null && refsOut === this.lastRefs) return { cold: false, newCommits: 0, removedCommits: 0, noteBlobsRead: 0 };
    this.memo = null;
    // Only the lines that changed since the last refresh are looked at (100k refs are 100k lines).
    const delta = this.root !== null && this.lastRefs !== null ? diffRefText(this.lastRefs, refsOut) : null;
    this.lastRefs = null;
    const { root, tips, tipChanges, notesTips, claimRefs, promotedRefs, oddRefs } = this.classifyRefs(refsOut, delta);
    const promoted = this.countedPromotions(promotedRefs);
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
    const notesWork = this.readNotesAndClaims(notesTips, claimRefs, changedNodes);
    const [, { pendingNotes, parsed, claims: newClaims, blobsRead }] = await Promise.all([this.refreshNodes(root, delta ? tipChanges : tips, stats), notesWork]);
    stats.noteBlobsRead = blobsRead;
    this.applyNotes(pendingNotes, parsed, notesTips, changedNodes);
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

  /**
   * The notes pipeline (ls-tree/diff-tree → cat-file → JSON) and the changed claims. A writer
   * new to the state has only additions: its notes go into the state as they are parsed, so
   * 270k parsed notes are never held twice (a cold load's peak memory); the changed notes of
   * known writers come back (`pendingNotes`, `parsed`) for the caller to apply.
   */
  private async readNotesAndClaims(notesTips: Map<string, string>, claimRefs: Map<string, string>, changedNodes: Set<string>) {
    const [fresh, pendingNotes] = await Promise.all([this.listNewWriters(notesTips), this.diffNotes(notesTips)]);
    const pendingClaims = [...claimRefs].filter(([ref, sha]) => this.claims.get(ref)?.sha !== sha).map(([ref]) => ref);
    const claimBlobs = new Set(pendingClaims.map((ref) => claimRefs.get(ref) as string));
    const claimObjects = claimBlobs.size > 0 ? this.git.catFiles([...claimBlobs]) : Promise.resolve(new Map<string, { content: string }>());
    // Every note blob to read, in order (a blob asked twice is read twice: no 270k-entry set):
    // first the changed notes of known writers (slot = index in pendingNotes), then every note
    // of each new writer (slot = pendingNotes.length + its place in `fresh`, in order).
    const noteBlobs: string[] = [];
    const slot: number[] = [];
    for (const [i, p] of pendingNotes.entries()) {
      if (p.blob === null) continue;
      noteBlobs.push(p.blob);
      slot.push(i);
    }
    const freshFrom: number[] = [];
    let next = pendingNotes.length;
    for (const f of fresh) {
      freshFrom.push(next);
      for (const b of f.blobs) {
        noteBlobs.push(b);
        slot.push(next++);
      }
    }
    /** A new writer's note at this slot goes straight into the state. */
    const freshAt = (i: number) => {
      let w = freshFrom.length - 1;
      while ((freshFrom[w] as number) > i) w--;
      const f = fresh[w] as NewWriterNotes;
      const j = i - (freshFrom[w] as number);
      return { writer: f.writer, obj: intern(notePathToSha(f.bytes.toString('utf8', f.pathStart[j], f.pathEnd[j]))) };
    };
    /** Keep the lines that count (screen.ts), and note what did not. */
    const screen = (writer: string, obj: string, lines: Evaluation[], dropped: number): Evaluation[] => {
      const { kept, ignored } = screenLines(lines, writer, obj, dropped);
      const st = this.notes.get(writer) as NotesState;
      if (ignored) st.ignored.set(obj, ignored);
      else st.ignored.delete(obj);
      return kept;
    };
    // Note blobs out of ONE cat-file process, parsed as they arrive in batches of
    // NOTES_PER_PARSE: the text of all notes (690 MB with log tails at 300k lines) is never
    // held at once, each blob's log members are cut before decoding (the tails are never decoded), and
    // parsing overlaps git's work (a slow parser holds git back through the pipe).
    const parsed: Evaluation[][] = new Array(pendingNotes.length);
    let blobsRead = 0;
    /** Read and parse these blobs (slots alongside) through one cat-file process. */
    const consume = async (blobs: string[], slots: number[]) => {
      let asked = 0;
      let at: number[] = [];
      let texts: string[] = [];
      const flush = () => {
        const dropped: number[] = [];
        const evals = parseNotes(texts, { dropped });
        for (const [k, i] of at.entries()) {
          if (i >= pendingNotes.length) {
            const { writer, obj } = freshAt(i);
            (this.notes.get(writer) as NotesState).evals.set(obj, screen(writer, obj, evals[k] as Evaluation[], dropped[k] ?? 0));
            changedNodes.add(obj);
          } else {
            const p = pendingNotes[i] as { writer: string; obj: string };
            parsed[i] = screen(p.writer, intern(p.obj), evals[k] as Evaluation[], dropped[k] ?? 0);
          }
        }
        at = [];
        texts = [];
      };
      for await (const objects of this.git.catFileStream(blobs)) {
        for (const o of objects) {
          // Objects come in the order asked, missing ones left out.
          while (asked < blobs.length && blobs[asked] !== o.name) asked++;
          at.push(slots[asked++] as number);
          texts.push(stripLogMembersBytes(o.content));
          if (texts.length >= NOTES_PER_PARSE) flush();
        }
        blobsRead += objects.length;
      }
      if (texts.length > 0) flush();
    };
    // Many notes (a cold load): two cat-file processes, so git's reading (most of the work,
    // inflating every note) can use a second core while this process parses.
    if (noteBlobs.length >= PARALLEL_READ_FROM) {
      const half = noteBlobs.length >> 1;
      await Promise.all([consume(noteBlobs.slice(0, half), slot.slice(0, half)), consume(noteBlobs.slice(half), slot.slice(half))]);
    } else await consume(noteBlobs, slot);
    for (let i = 0; i < parsed.length; i++) if (parsed[i] === undefined) parsed[i] = [];
    const objects = await claimObjects;
    blobsRead += objects.size;
    const claims = pendingClaims.map((ref) => {
      const sha = claimRefs.get(ref) as string;
      return [ref, { sha, claim: parseClaim(objects.get(sha)?.content ?? '') }] as const;
    });
    return { pendingNotes, parsed, claims, blobsRead };
  }

  /** Put the changed notes of known writers in place, and drop the writers whose notes ref is gone. */
  private applyNotes(pendingNotes: { writer: string; obj: string; blob: string | null }[], parsed: Evaluation[][], notesTips: Map<string, string>, changedNodes: Set<string>): void {
    for (const [i, { writer, obj: path, blob }] of pendingNotes.entries()) {
      const lines = parsed[i];
      const obj = intern(path);
      const st = this.notes.get(writer) as NotesState;
      if (blob === null) {
        st.evals.delete(obj);
        st.ignored.delete(obj);
      } else st.evals.set(obj, lines as Evaluation[]);
      changedNodes.add(obj);
    }
    for (const [writer, tip] of notesTips) (this.notes.get(writer) as NotesState).tip = tip;
    for (const writer of [...this.notes.keys()]) {
      if (!notesTips.has(writer)) {
        for (const obj of (this.notes.get(writer) as NotesState).evals.keys()) changedNodes.add(obj);
        this.notes.delete(writer);
      }
    }
  }

  private reset(): void {
    this.resetNodes();
    this.notes = new Map();
    this.evalsByNode = new Map();
    this.gradedRuns = 0;
    this.claims = new Map();
    this.dirty += 1;
  }

  private resetNodes(): void {
    this.memo = null;
    this.lastRefs = null;
    this.refsBySha = new Map();
    this.lastSnap = null;
    this.addedIds = [];
    this.removedIds = [];
    this.orderChanged = true;
    this.root = null;
    this.tips = new Map();
    this.nodes = new Map();
    this.order = [];
    this.dirty += 1;
  }

  private async refreshNodes(root: string, tipsOrChanges: Map<string, string> | [string, string | null, string | null][], stats: LoadStats): Promise<void> {
    const isCold = this.root === null;
    const prevTipShas = () => new Set([...this.tips.values(), ...removed]);
    const { removed, added } = Array.isArray(tipsOrChanges) ? this.retipChanges(tipsOrChanges) : this.retip(tipsOrChanges);
    const tips = this.tips;
    // Commits that lost their last branch may have become unreachable: drop exactly those.
    const gone = [...new Set(removed)].filter((sha) => !this.refsBySha.has(sha) && this.nodes.has(sha));
    const current = () => new Set(tips.values());
    if (!isCold && gone.length > 0) {
      const r = await this.git.run(['rev-list', '--stdin'], {
        input: [...gone, ...[...current()].map((s) => `^${s}`), `^${root}`].join('\n') + '\n',
        reject: false,
      });
      if (r.exitCode !== 0) {
        // A gone tip was garbage-collected: the cheap answer is unknowable, start over.
        const all = new Map(this.tips);
        this.resetNodes();
        return this.refreshNodes(root, all, stats);
      }
      const unreachable = new Set(r.stdout.split('\n').filter(Boolean));
      if (unreachable.size > 0) {
        // One at a time: spreading 100k+ ids into push() exceeds the engine's argument limit.
        for (const id of unreachable) {
          this.nodes.delete(id);
          this.removedIds.push(id);
        }
        this.order = this.order.filter((n) => !unreachable.has(n.id));
        stats.removedCommits = unreachable.size;
        this.orderChanged = true;
      }
    }
    const fresh = [...new Set(added)].filter((sha) => !this.nodes.has(sha));
    if (isCold) fresh.push(root);
    if (fresh.length > 0) {
      const walked = isCold ? null : await this.walkNewCommits(fresh);
      const batches = walked ? [walked] : this.logNewCommits(fresh, prevTipShas(), current(), root, isCold);
      const added: NodeRecord[] = [];
      for await (const commits of batches) {
        for (const c of commits) {
          if (this.nodes.has(c.id)) continue;
          const rec = recordFromCommit(c, c.id === root);
          this.nodes.set(c.id, rec);
          added.push(rec);
        }
      }
      this.assignDepths(added, root);
      added.sort(byDepthThenId);
      this.order = mergeSorted(this.order, added);
      stats.newCommits = added.length;
      for (const r of added) this.addedIds.push(r.id);
      this.orderChanged = true;
    }
    this.root = root;
  }

  /** Apply ref changes [ref, old, new] to the tips in place: O(changes), not O(branches). */
  private retipChanges(changes: [string, string | null, string | null][]): { removed: string[]; added: string[] } {
    const removed: string[] = [];
    const added: string[] = [];
    for (const [ref, oldSha] of changes) {
      if (oldSha === null) continue;
      const list = this.refsBySha.get(oldSha)?.filter((r) => r !== ref) ?? [];
      if (list.length > 0) this.refsBySha.set(oldSha, list);
      else this.refsBySha.delete(oldSha);
      this.tips.delete(ref);
      this.dirtyIds.add(oldSha);
      removed.push(oldSha);
    }
    for (const [ref, , newSha] of changes) {
      if (newSha === null) continue;
      const list = this.refsBySha.get(newSha);
      if (list) list.push(ref);
      else this.refsBySha.set(newSha, [ref]);
      this.tips.set(ref, newSha);
      this.dirtyIds.add(newSha);
      added.push(newSha);
    }
    return { removed, added };
  }

  /** Replace the tips, marking the commits whose branches changed; returns the SHAs that lost or gained a branch. */
  private retip(tips: Map<string, string>): { removed: string[]; added: string[] } {
    const removed: string[] = [];
    const added: string[] = [];
    for (const [ref, sha] of this.tips) {
      if (tips.get(ref) === sha) continue;
      const list = this.refsBySha.get(sha)?.filter((r) => r !== ref) ?? [];
      if (list.length > 0) this.refsBySha.set(sha, list);
      else this.refsBySha.delete(sha);
      this.dirtyIds.add(sha);
      removed.push(sha);
    }
    for (const [ref, sha] of tips) {
      if (this.tips.get(ref) === sha) continue;
      const list = this.refsBySha.get(sha);
      if (list) list.push(ref);
      else this.refsBySha.set(sha, [ref]);
      this.dirtyIds.add(sha);
      added.push(sha);
    }
    this.tips = tips;
    return { removed, added };
  }

  /**
   * The commits that are new since the last refresh, found by reading the new tips' parents
   * with cat-file (usually one round: an agent commits on top of a known node). Each is parsed
   * out of its raw object when it has the plain shape parseCommitObject reproduces git's rules
   * for (the rest are formatted by `git log --no-walk`). Null when the walk does not close
   * within a few rounds or reaches a parentless commit (history below the root): then git walks
   * it instead.
   */
  private async walkNewCommits(fresh: string[]): Promise<RawCommit[] | null> {
    const found = new Set<string>();
    const parseable = await this.commitsParseable();
    const commits: RawCommit[] = [];
    const unparsed: string[] = [];
    let frontier = fresh;
    for (let round = 0; round < 4 && frontier.length > 0; round++) {
      const objects = await this.git.catFileBytes(frontier);
      const next = new Set<string>();
      for (const sha of frontier) {
        const o = objects.get(sha);
        if (!o || o.type !== 'commit') return null;
        found.add(sha);
        const parsed = parseable ? parseCommitObject(sha, o.content) : null;
        const parents = parsed ? parsed.parents : commitParents(o.content.toString('latin1'));
        if (parents.length === 0) return null;
        if (parsed) commits.push(parsed);
        else unparsed.push(sha);
        for (const p of parents) if (!this.nodes.has(p) && !found.has(p)) next.add(p);
      }
      frontier = [...next];
    }
    if (frontier.length > 0) return null;
    if (unparsed.length > 0) {
      const logged = parseLog(await this.git.out(['-c', 'log.showSignature=false', 'log', '--no-walk=unsorted', '--stdin', `--format=${LOG_FORMAT}`], { input: unparsed.join('\n') + '\n' }));
      for (const c of logged) commits.push(c);
    }
    return commits;
  }

  /**
   * Whether raw commit objects read the same as `git log` shows them here: git is kept open (a
   * spawn saved per refresh), no config changes how git finds subjects and trailers or
   * re-encodes them, no replace refs, and no shallow or grafted history (git log would hide
   * parents the objects name). The config and refs are asked once; the files every time.
   */
  private async commitsParseable(): Promise<boolean> {
    if (!this.git.keptOpen) return false;
    this.plainGitConfig ??= Promise.all([
      this.git.run(['config', '--get-regexp', '^(core\\.comment|trailer\\.|i18n\\.logoutputencoding)'], { reject: false }),
      this.git.run(['for-each-ref', '--count=1', '--format=%(refname)', 'refs/replace/'], { reject: false }),
    ]).then(([config, replace]) => config.stdout.trim() === '' && replace.exitCode === 0 && replace.stdout.trim() === '');
    if (!(await this.plainGitConfig)) return false;
    return !existsSync(join(this.commonDir, 'shallow')) && !existsSync(join(this.commonDir, 'info', 'grafts'));
  }

  /** The general case: let git walk from the new tips down to anything already known. */
  private logNewCommits(fresh: string[], old: Set<string>, current: Set<string>, root: string, isCold: boolean): AsyncGenerator<RawCommit[]> {
    const negatives = new Set<string>();
    for (const s of old) if (this.nodes.has(s)) negatives.add(s);
    for (const s of current) if (this.nodes.has(s)) negatives.add(s);
    const input = [...fresh, ...[...negatives].map((s) => `^${s}`), isCold ? `^${root}^@` : `^${root}`].join('\n') + '\n';
    // Streamed: a cold load of 100k commits never holds git's whole output.
    return this.git.logStream([], input);
  }

  /** depth = 1 + max(depth of parents that are nodes); iterative, the chains can be 100k long. */
  private assignDepths(added: NodeRecord[], root: string): void {
    const pending = new Set(added.map((r) => r.id));
    const stack: NodeRecord[] = [];
    for (const start of added) {
      if (!pending.has(start.id)) continue;
      stack.push(start);
      while (stack.length > 0) {
        const rec = stack[stack.length - 1] as NodeRecord;
        if (!pending.has(rec.id)) {
          stack.pop();
          continue;
        }
        let ready = true;
        let depth = 0;
        if (rec.id !== root) {
          for (const p of rec.parents) {
            const parent = this.nodes.get(p);
            if (!parent) continue;
            if (pending.has(p)) {
              ready = false;
              stack.push(parent);
            } else depth = Math.max(depth, parent.depth + 1);
          }
        }
        if (ready) {
          rec.depth = depth;
          pending.delete(rec.id);
          stack.pop();
        }
      }
    }
  }

  /**
   * Every note of each writer new to the state (one ls-tree each, all at once): compact, as a
   * cold load has 270k of them — the blob ids, and where each note's path sits in git's output.
   */
  private async listNewWriters(notesTips: Map<string, string>): Promise<NewWriterNotes[]> {
    const fresh = [...notesTips].filter(([writer]) => !this.notes.has(writer));
    const outputs = await Promise.all(fresh.map(([, tip]) => this.git.outBytes(['ls-tree', '-r', '-z', '--full-tree', tip])));
    return fresh.map(([writer], i) => {
      this.notes.set(writer, { tip: '', evals: new Map(), ignored: new Map() });
      const bytes = outputs[i] as Buffer;
      const blobs: string[] = [];
      const starts: number[] = [];
      const ends: number[] = [];
      forEachLsTreeBlob(bytes, (sha, start, end) => {
        blobs.push(sha);
        starts.push(start);
        ends.push(end);
      });
      return { writer, bytes, blobs, pathStart: Uint32Array.from(starts), pathEnd: Uint32Array.from(ends) };
    });
  }

  /**
   * Which note blobs changed per writer already in the state whose tip moved: a walk over the
   * old and new notes trees through the kept-open cat-file, into differing subtrees only (an
   * appended note changes 2–3 trees), or `git diff-tree` when git is not kept open or too many
   * subtrees differ (a fan-out change rewrites them all).
   */
  private async diffNotes(notesTips: Map<string, string>): Promise<{ writer: string; obj: string; blob: string | null }[]> {
    const pending: { writer: string; obj: string; blob: string | null }[] = [];
    const changed = [...notesTips].filter(([writer, tip]) => this.notes.has(writer) && this.notes.get(writer)?.tip !== tip);
    // One walk (or git process) per changed writer, all at once.
    const outputs = await Promise.all(
      changed.map(async ([writer, tip]): Promise<string | TreeChange[]> => {
        const st = this.notes.get(writer) as NotesState;
        const walked = await this.git.diffTrees(`${st.tip}^{tree}`, `${tip}^{tree}`, { maxTrees: NOTES_DIFF_MAX_TREES });
        if (walked) return walked.map((c) => ({ status: c.status, sha: c.sha ?? zeroIdLike(tip), path: c.path }));
        return this.git.out(['diff-tree', '-r', '-z', '--no-renames', st.tip, tip]);
      }),
    );
    for (const [i, [writer]] of changed.entries()) {
      const out = outputs[i] as string | TreeChange[];
      const changes = typeof out === 'string' ? parseDiffTree(out) : out;
      // Deletions first: a fan-out change moves a note to a new path in the same diff.
      for (const c of changes) if (c.status === 'D') pending.push({ writer, obj: notePathToSha(c.path), blob: null });
      for (const c of changes) {
        if (c.status === 'D') continue;
        pending.push({ writer, obj: notePathToSha(c.path), blob: c.sha });
      }
    }
    return pending;
  }

  /**
   * Where the notes on the object are, as of the state's notes tips: per writer that has a note
   * on it (writers in sorted order, as in the snapshot), the `<tip>:<path>` names it may have
   * under git's fan-out (`obj`, `xx/rest`, `xx/yy/rest`); the first that exists is the note.
   */
  noteNamesOf(obj: string): { writer: string; names: string[] }[] {
    const out: { writer: string; names: string[] }[] = [];
    for (const w of [...this.notes.keys()].sort()) {
      const st = this.notes.get(w) as NotesState;
      if (!st.evals.has(obj)) continue;
      out.push({ writer: w, names: [`${st.tip}:${obj}`, `${st.tip}:${obj.slice(0, 2)}/${obj.slice(2)}`, `${st.tip}:${obj.slice(0, 2)}/${obj.slice(2, 4)}/${obj.slice(4)}`] });
    }
    return out;
  }

  /**
   * The note blobs on many objects at once, per object in noteNamesOf's writer order: one
   * ls-tree per writer that has notes on any of them, instead of a path look-up per name.
   */
  async noteBlobsOf(objs: string[]): Promise<Map<string, { writer: string; blob: string }[]>> {
    const wanted = new Set(objs);
    const writers = [...this.notes.keys()].sort().filter((w) => objs.some((o) => (this.notes.get(w) as NotesState).evals.has(o)));
    const listed = await Promise.all(writers.map((w) => this.git.outBytes(['ls-tree', '-r', '-z', '--full-tree', (this.notes.get(w) as NotesState).tip])));
    const out = new Map<string, { writer: string; blob: string }[]>(objs.map((o) => [o, []]));
    for (const [i, bytes] of listed.entries()) {
      forEachLsTreeBlob(bytes, (sha, start, end) => {
        const obj = notePathToSha(bytes.toString('utf8', start, end));
        if (wanted.has(obj)) out.get(obj)!.push({ writer: writers[i] as string, blob: sha });
      });
    }
    return out;
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
    const writer = r.writer || (branch ? (this.layout.writerOf(`refs/heads/${branch}`) ?? '') : '');
    const pruned = branch === null && r.tracked;
    const promoted = this.promoted.has(r.id);
    const branchWriter = branch ? this.layout.writerOf(`refs/heads/${branch}`) : null;
    const untrusted =
      r.trailerIssue ??
      (r.writer && branchWriter !== null && r.writer !== branchWriter ? `Evogit-Writer ${JSON.stringify(r.writer)} on a branch of ${branchWriter}` : undefined) ??
      (r.tracked && r.id !== this.root ? (this.signatures.nodeProblem(r.id, writer) ?? undefined) : undefined);
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
        const ev = this.nodes.has(id) ? this.countedEvals(id) : undefined;
        if (ev) evaluations.set(id, ev);
        else evaluations.delete(id);
      }
    } else {
      evaluations = new Map();
      for (const n of nodes) {
        const ev = this.countedEvals(n.id);
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
    const ignored = this.ignoredList(nodes);
    this.memo = { root: this.root as string, nodes, evaluations, claims, gradedRuns: this.gradedRuns, ...(ignored.length ? { ignored } : {}) };
    this.lastSnap = this.memo;
    return this.memo;
  }

  // ---- the disposable cache file ----

  /**
   * The cache file is JSON lines, each a chunk of the state (["nodes", [...]], ["notes", writer,
   * tip, [...]]…), written and read as a stream so no 100 MB string is ever built.
   */
  async loadCache(): Promise<boolean> {
    let lines: ReturnType<typeof createInterface>;
    let input: ReturnType<typeof createReadStream>;
    try {
      await access(this.cacheFile);
      input = createReadStream(this.cacheFile, 'utf8');
      lines = createInterface({ input, crlfDelay: Infinity });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    let root: string | null = null;
    const tips = new Map<string, string>();
    const order: NodeRecord[] = [];
    const notes = new Map<string, NotesState>();
    const claims = new Map<string, ClaimState>();
    let complete = false;
    try {
      for await (const line of lines) {
        const chunk = JSON.parse(line) as CacheChunk;
        switch (chunk[0]) {
          case 'head':
            if (chunk[1] !== CACHE_VERSION || chunk[2] !== this.layout.prefix) return false;
            root = chunk[3];
            break;
          case 'tips':
            for (const [ref, sha] of chunk[1]) tips.set(ref, sha);
            break;
          case 'nodes':
            for (const r of chunk[1]) order.push(r);
            break;
          case 'notes': {
            const st = notes.get(chunk[1]) ?? { tip: chunk[2], evals: new Map(), ignored: new Map() };
            notes.set(chunk[1], st);
            for (const [o, evals] of chunk[3]) st.evals.set(o, evals);
            break;
          }
          case 'claims':
            for (const [ref, c] of chunk[1]) claims.set(ref, c);
            break;
          case 'ignored': {
            const st = notes.get(chunk[1]);
            if (st) for (const [o, count, reason] of chunk[2]) st.ignored.set(o, { count, reason });
            break;
          }
          case 'end':
            complete = true;
            break;
        }
      }
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      // A torn or foreign cache file is worth nothing; a cold load rebuilds it.
      return false;
    } finally {
      lines.close();
      input.destroy();
    }
    if (!complete || root === null) return false;
    this.resetNodes();
    this.root = root;
    this.retip(tips);
    this.order = order;
    this.nodes = new Map(order.map((r) => [r.id, r]));
    this.notes = notes;
    this.evalsByNode = new Map();
    this.gradedRuns = 0;
    this.regroupEvaluations(new Set([...notes.values()].flatMap((st) => [...st.evals.keys()])));
    this.claims = claims;
    this.dirty = 0;
    this.lastSaved = Date.now();
    return true;
  }

  /**
   * Write the cache file, synchronously: nothing can change the state while it is written, so
   * nothing is copied first (a copy of 300k lines' index was the peak of a cold load). The
   * Archive runs this between loads, never during one. Chunk by chunk, each its own line, so
   * no 100 MB string is built; through a temporary file and a rename, so a reader never sees
   * half a file.
   */
  writeCache(): void {
    if (this.root === null) return;
    mkdirSync(dirname(this.cacheFile), { recursive: true });
    const tmp = `${this.cacheFile}.${process.pid}.${Date.now()}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      const put = (chunk: CacheChunk) => writeSync(fd, JSON.stringify(chunk) + '\n');
      put(['head', CACHE_VERSION, this.layout.prefix, this.root]);
      let batch: [string, string][] = [];
      for (const entry of this.tips) {
        batch.push(entry);
        if (batch.length >= CACHE_CHUNK) {
          put(['tips', batch]);
          batch = [];
        }
      }
      if (batch.length) put(['tips', batch]);
      for (let i = 0; i < this.order.length; i += CACHE_CHUNK) put(['nodes', this.order.slice(i, i + CACHE_CHUNK)]);
      for (const [w, st] of this.notes) {
        let entries: [string, Evaluation[]][] = [];
        if (st.evals.size === 0) put(['notes', w, st.tip, []]);
        for (const entry of st.evals) {
          entries.push(entry);
          if (entries.length >= CACHE_CHUNK) {
            put(['notes', w, st.tip, entries]);
            entries = [];
          }
        }
        if (entries.length) put(['notes', w, st.tip, entries]);
        if (st.ignored.size) put(['ignored', w, [...st.ignored].map(([o, x]) => [o, x.count, x.reason])]);
      }
      put(['claims', [...this.claims]]);
      put(['end']);
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    closeSync(fd);
    renameSync(tmp, this.cacheFile);
    this.dirty = 0;
    this.lastSaved = Date.now();
  }
}

const CACHE_CHUNK = 200;

/** Under .git/evogit/: the promotion tags `evogit promote` made on this machine, one ref a line. */
export const PROMOTED_HERE = 'promoted';
/** Under .git/evogit/: pass lines of other writers a re-run here contradicted, one JSON object a line. */
export const DISPUTED = 'disputed';
/** Under .git/evogit/: refs the last fetch of each remote did not take ({remote, ref} JSON lines). */
export const FETCH_IGNORED = 'fetch-ignored';

/** A state file's non-empty lines; none when it does not exist. */
function readLines(file: string): string[] {
  return (unlessMissing(() => readFileSync(file, 'utf8')) ?? '').split('\n').filter(Boolean);
}

type CacheChunk =
  | ['head', number, string, string]
  | ['tips', [string, string][]]
  | ['nodes', NodeRecord[]]
  | ['notes', string, string, [string, Evaluation[]][]]
  | ['claims', [string, ClaimState][]]
  | ['ignored', string, [string, number, string][]]
  | ['end'];

function mergeSorted(a: NodeRecord[], b: NodeRecord[]): NodeRecord[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: NodeRecord[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = byDepthThenId(a[i] as NodeRecord, b[j] as NodeRecord) <= 0 ? (a[i++] as NodeRecord) : (b[j++] as NodeRecord);
  while (i < a.length) out[k++] = a[i++] as NodeRecord;
  while (j < b.length) out[k++] = b[j++] as NodeRecord;
  return out;
}

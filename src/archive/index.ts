/**
 * The archive: the git repository read as a population of nodes and their evaluations.
 * Every other domain reads and writes the archive only through this entry.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EvogitError } from '../errors/index.js';
import { ProcError } from '../proc/index.js';
import { Git, zeroIdLike } from '../git/index.js';
import { heldClaimsDirs, holdClaimsDir, putClaim, releaseClaim, releaseClaimsDir } from './claims.js';
import { checkClaimRef, checkWriter, listRefs, revParse } from './git-calls.js';
import { ArchiveState, DISPUTED, PROMOTED_HERE, type LoadStats, type TrustOptions } from './load.js';
import { NodeWriter, type WriteNodeRequest } from './node-writer.js';
import { parseNoteLines } from './notes.js';
import { NotesWriter } from './notes-write.js';
import { RefLayout } from './refs.js';
import { RemoteSync } from './remote.js';
import { screenLines } from './screen.js';
import type { ArchiveNode, ArchiveSnapshot, Claim, Evaluation } from './types.js';

export type { ArchiveNode, ArchiveSnapshot, Claim, Evaluation, Operator, Outcome, TestCounts } from './types.js';
export { RefLayout } from './refs.js';

/** The root's ref for a branch prefix (evo/root by default): what `evogit init` writes. */
export const rootRefOf = (prefix = 'evo'): string => new RefLayout(prefix).rootRef;
export type { LoadStats, TrustOptions } from './load.js';
export type { WriteNodeRequest } from './node-writer.js';
export type { Ignored } from './screen.js';
export { remoteHook } from './hook.js';
export { thisHost } from './claims.js';

/** Write the cache file after this many changed records, or when it is older than CACHE_MAX_AGE_MS. */
const CACHE_SAVE_CHANGES = 1000;
const CACHE_MAX_AGE_MS = 60_000;
/** evaluationLogsOf lists the notes trees instead of naming each note from this many nodes on. */
const NOTES_LISTED_FROM = 64;
/** A loop's archive has git pack its refs once this many ref files are loose (see packRefsIfDue). */
const PACK_REFS_AT = 500;
/** The `git pack-refs` under way in this process, by repository: one at a time each. */
const packing = new Map<string, Promise<boolean>>();

export class Archive {
  readonly layout: RefLayout;
  /** What the last load() did (cold or incremental, how much it read). */
  lastLoad: LoadStats | null = null;
  /** Why the last background write of the cache file failed, if it did (the cache is optional). */
  cacheError: Error | null = null;
  private readonly state: ArchiveState;
  private cacheTried = false;
  private loading: Promise<unknown> = Promise.resolve();
  private readonly nodeWriter: NodeWriter;
  private readonly notesWriter: NotesWriter;
  private readonly remoteSync: RemoteSync;
  /** Writers this process has recorded as writing on this machine (see localWriters). */
  private readonly recordedWriters = new Set<string>();
  /** Pack the loose refs from this many on; 0 = never (only a loop's archive packs, see open). */
  private packRefsAt = 0;
  /** Loose refs that were still there at the refresh after this archive's last pack (refs git does not pack, or new ones): not counted again. */
  private looseLeft = 0;
  private packedSinceRefresh = false;

  private constructor(
    readonly git: Git,
    readonly gitDir: string,
    readonly prefix: string,
    trust: TrustOptions = {},
  ) {
    this.layout = new RefLayout(prefix);
    this.state = new ArchiveState(git, this.layout, join(gitDir, 'evogit', `archive-${prefix.replace(/[^A-Za-z0-9._-]/g, '_')}.json`), gitDir, trust);
    // trust: signed — this repository's own nodes and notes commits are signed with git's configured key.
    const signing = trust.mode === 'signed';
    this.nodeWriter = new NodeWriter(git, this.layout, signing);
    this.notesWriter = new NotesWriter(git, this.layout, signing);
    this.remoteSync = new RemoteSync(git, this.layout, gitDir);
  }

  /** The working directory evogit was pointed at. */
  get repoDir(): string {
    return this.git.dir;
  }

  /** Where evogit keeps disposable local state (caches, logs, worktrees, transcripts): .git/evogit/. */
  get gitCommonDir(): string {
    return this.gitDir;
  }

  /**
   * `keepGitOpen`: serve the archive's small reads and writes through long-lived git processes
   * (see Git.keepOpen) and keep the refs packed (packRefsIfDue) — for a loop that writes every
   * step; call close() when done. `packRefsAt` moves the packing threshold (tests).
   */
  static async open(opts: { repoDir: string; prefix?: string; keepGitOpen?: boolean; trust?: TrustOptions; packRefsAt?: number }): Promise<Archive> {
    const git = new Git(opts.repoDir);
    // Both at once: every spawn costs ~10 ms, and a missing repo fails both anyway.
    const [dirResult, refsResult] = await Promise.all([
      git.run(['rev-parse', '--absolute-git-dir'], { reject: false }),
      git.run(['for-each-ref', '--count=1', '--format=%(refname)'], { reject: false }),
    ]);
    if (dirResult.exitCode !== 0) {
      throw new EvogitError('E_NOT_A_REPO', `${opts.repoDir} is not a git repository`, 'Run evogit inside a git repository, or create one with `git init` and commit your code.', {
        cause: new Error(dirResult.stderr.trim()),
      });
    }
    const gitDir = dirResult.stdout.trim();
    // Any ref counts: a fresh clone of a remote whose HEAD is dangling still has remote branches.
    if (refsResult.exitCode !== 0 || !refsResult.stdout.trim()) {
      throw new EvogitError('E_NO_COMMITS', `${opts.repoDir} has no commits yet`, 'Commit your code first (`git add -A && git commit -m base`); the first commit becomes the archive root.');
    }
    const prefix = opts.prefix ?? 'evo';
    if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(prefix) || prefix.endsWith('/') || prefix.includes('//')) {
      throw new EvogitError('E_BAD_PREFIX', `branch prefix "${prefix}" is not usable`, 'Use letters, digits, ".", "_", "-" and "/" (e.g. "evo").');
    }
    if (opts.keepGitOpen) git.keepOpen();
    const archive = new Archive(git, gitDir, prefix, opts.trust);
    if (opts.keepGitOpen) archive.packRefsAt = opts.packRefsAt ?? PACK_REFS_AT;
    return archive;
  }

  /** End the long-lived git processes, if any (the archive stays usable, one process per call), after a pack of the refs under way. */
  async close(): Promise<void> {
    await this.loading;
    await this.git.close();
  }

  async root(): Promise<string | null> {
    return revParse(this.git, this.layout.rootRef);
  }

  async createRoot(commit: string, opts: { force?: boolean } = {}): Promise<void> {
    const sha = await revParse(this.git, `${commit}^{commit}`);
    if (!sha) throw new EvogitError('E_UNKNOWN_COMMIT', `no commit named "${commit}"`, 'Give a branch, tag or commit SHA that exists in this repository.');
    const old = await this.root();
    if (old === sha) return;
    if (old && !opts.force) {
      throw new EvogitError('E_ROOT_EXISTS', `the archive root is already ${old.slice(0, 12)}`, 'Pass --force to move the root (every node stays; only what counts as the base changes).');
    }
    await this.git.run(['update-ref', '-m', 'evogit: root', this.layout.rootRef, sha, old ?? zeroIdLike(sha)]);
  }

  /** A consistent snapshot of the archive; incremental after the first call (and across processes via the cache). */
  load(): Promise<ArchiveSnapshot> {
    // One refresh at a time: two at once would apply the same ref delta twice to the shared state.
    const next = this.loading.then(
      () => this.loadNow(),
      () => this.loadNow(),
    );
    // The cache file is written, and the refs packed, after the caller has its snapshot and
    // before the next refresh.
    this.loading = next.then(
      () => new Promise<void>((resolve) => setImmediate(() => (this.saveCacheIfDue(), resolve()))).then(() => this.packRefsIfDue()),
      () => undefined,
    );
    return next;
  }

  /**
   * A loop writes one loose ref file per node, and each refresh looks at every loose file (a
   * stat, ~8 µs): 10k of them, a long run's, cost ~80 ms a refresh, and git itself slows too.
   * Once packRefsAt are loose, git packs them (`git pack-refs --all`, what gc does; ~70 ms for
   * 200 new refs beside 110k packed ones). One pack per repository at a time in this process;
   * git's lock keeps other processes' apart, and a pack that fails (the lock held elsewhere) is
   * tried again after the next refresh. What a pack leaves loose (a ref git will not pack) does
   * not count towards the next one, so a repository of such refs is not packed every step.
   */
  private async packRefsIfDue(): Promise<void> {
    if (this.packRefsAt === 0) return;
    const loose = this.state.looseRefs();
    if (this.packedSinceRefresh) {
      this.looseLeft = loose;
      this.packedSinceRefresh = false;
    }
    if (loose - this.looseLeft < this.packRefsAt) return;
    let pack = packing.get(this.gitDir);
    if (pack === undefined) {
      const done = (ok: boolean) => (packing.delete(this.gitDir), ok);
      pack = this.git.run(['pack-refs', '--all'], { reject: false }).then(
        (r) => done(r.exitCode === 0),
        () => done(false),
      );
      packing.set(this.gitDir, pack);
    }
    this.packedSinceRefresh = await pack;
  }

  /** Write the cache when enough changed (or a cold load just built the state); a failure is kept, not thrown: the cache only saves work. */
  private saveCacheIfDue(): void {
    const st = this.state;
    if (!(this.lastLoad?.cold || st.dirty >= CACHE_SAVE_CHANGES || (st.dirty > 0 && Date.now() - st.lastSaved > CACHE_MAX_AGE_MS))) return;
    try {
      st.writeCache();
      this.cacheError = null;
    } catch (e) {
      this.cacheError = e instanceof Error ? e : new Error(String(e));
    }
  }

  private async loadNow(): Promise<ArchiveSnapshot> {
    if (!this.cacheTried) {
      this.cacheTried = true;
      await this.state.loadCache();
    }
    let stats: LoadStats;
    try {
      stats = await this.state.refresh();
    } catch (e) {
      if (!(e instanceof ProcError) || this.state.root === null) throw e;
      // The cache named objects git no longer has (a gc after a rewrite), or a ref file named
      // one (a broken ref, which git itself skips): rebuild from scratch, listing refs with git.
      this.state.root = null;
      this.state.listRefsWithGit();
      stats = await this.state.refresh();
    }
    this.lastLoad = stats;
    return this.state.snapshot();
  }

  /**
   * A node's evaluation lines as written, log tails included (snapshots drop `log` to stay
   * small): read from the notes of every writer, in the snapshot's order. `node` is a full SHA.
   */
  async evaluationLogs(node: string): Promise<Evaluation[]> {
    return (await this.evaluationLogsOf([node])).get(node) ?? [];
  }

  /**
   * evaluationLogs for many nodes with one object read (a report reads every node's). The lines
   * are those the snapshot counts (screen.ts): never a line of another writer's.
   */
  async evaluationLogsOf(nodes: string[]): Promise<Map<string, Evaluation[]>> {
    if (nodes.length < NOTES_LISTED_FROM) {
      for (let attempt = 0; ; attempt++) {
        if (attempt > 0 || this.state.root === null) await this.load();
        const notes = nodes.map((node) => this.state.noteNamesOf(node));
        const objects = await this.git.catFiles(notes.flatMap((perWriter) => perWriter.flatMap((n) => n.names)));
        const texts = notes.map((perWriter) => perWriter.map(({ writer, names }) => ({ writer, text: names.map((n) => objects.get(n)).find((o) => o !== undefined)?.content })));
        // A note that is gone (notes rewritten and collected since the last load): load again, once.
        if (attempt === 0 && texts.some((t) => t.some((x) => x.text === undefined))) continue;
        return new Map(nodes.map((node, i) => [node, texts[i]!.flatMap(({ writer, text }) => screenLines(parseNoteLines(text ?? ''), writer, node).kept)]));
      }
    }
    // Many nodes: a `<tip>:<path>` name costs git a walk of the notes tree, so list the trees once.
    if (this.state.root === null) await this.load();
    const blobs = await this.state.noteBlobsOf(nodes);
    const objects = await this.git.catFiles([...new Set([...blobs.values()].flat().map((b) => b.blob))]);
    return new Map(nodes.map((node) => [node, (blobs.get(node) ?? []).flatMap(({ writer, blob }) => screenLines(parseNoteLines(objects.get(blob)?.content ?? ''), writer, node).kept)]));
  }

  /** Persist the cache now, between loads (a long-running loop calls this on exit); throws when it cannot be written. */
  async saveCache(): Promise<void> {
    const write = () => {
      if (this.state.dirty > 0) this.state.writeCache();
    };
    const done = this.loading.then(write, write);
    this.loading = done.catch(() => undefined);
    await done;
  }

  /**
   * The writers that wrote on this machine (recorded in .git/evogit/writers as they write): their
   * evidence is this machine's own; everyone else's is "other writers' evidence".
   */
  async localWriters(): Promise<Set<string>> {
    const text = await readFile(join(this.gitDir, 'evogit', 'writers'), 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return '';
      throw e;
    });
    return new Set(text.split('\n').filter(Boolean));
  }

  private async recordWriter(writer: string): Promise<void> {
    if (this.recordedWriters.has(writer)) return;
    this.recordedWriters.add(writer);
    if ((await this.localWriters()).has(writer)) return;
    await mkdir(join(this.gitDir, 'evogit'), { recursive: true });
    await appendFile(join(this.gitDir, 'evogit', 'writers'), `${writer}\n`);
  }

  /**
   * Record that a re-run on this machine contradicts `writer`'s pass line(s) for `task` on
   * `node`: from now on they do not count here, and status and best name them.
   */
  async dispute(d: { writer: string; node: string; task: string; reason: string }): Promise<void> {
    await mkdir(join(this.gitDir, 'evogit'), { recursive: true });
    await appendFile(join(this.gitDir, 'evogit', DISPUTED), `${JSON.stringify(d)}\n`);
  }

  async writeNode(req: WriteNodeRequest): Promise<ArchiveNode> {
    checkWriter(req.writer);
    await this.recordWriter(req.writer);
    return this.nodeWriter.write(req);
  }

  /** Append evaluation lines to each node's note in the writer's notes ref, in one notes commit (notes-write.ts). */
  async appendEvaluations(writer: string, evals: Evaluation[], opts: { releaseClaim?: string } = {}): Promise<void> {
    checkWriter(writer);
    await this.recordWriter(writer);
    if (opts.releaseClaim !== undefined) checkClaimRef(opts.releaseClaim);
    if (evals.length === 0) return;
    await this.notesWriter.append(writer, evals, opts);
  }

  /** Write a claim ref (claims.ts); returns its name. */
  putClaim(claim: Claim): Promise<string> {
    return putClaim(this.git, this.layout, claim);
  }

  releaseClaim(ref: string): Promise<void> {
    return releaseClaim(this.git, ref);
  }

  /** Keep the writer's claims directory in place while its loop runs (claims.ts). */
  holdClaimsDir(writer: string): void {
    holdClaimsDir(this.gitDir, this.layout, writer);
  }

  /** Undo holdClaimsDir (also for a writer that died holding it). */
  releaseClaimsDir(writer: string): void {
    releaseClaimsDir(this.gitDir, this.layout, writer);
  }

  /** The writers whose claims directory is held on this machine (holdClaimsDir), alive or not. */
  heldClaimsDirs(): string[] {
    return heldClaimsDirs(this.gitDir, this.layout);
  }

  /** Delete the node's branch (and with clade, every descendant's); returns the deleted branch names. */
  async prune(node: string, opts: { clade?: boolean } = {}): Promise<string[]> {
    const target = await this.resolve(node);
    const snap = await this.load();
    if (target.id === snap.root) throw new EvogitError('E_PRUNE_ROOT', 'the root cannot be pruned', 'Prune its children instead, or move the root with `evogit init --force`.');
    const ids = new Set(opts.clade ? cladeOf(snap, target.id) : [target.id]);
    const refs = (await listRefs(this.git, this.layout.branchesDir)).filter((r) => ids.has(r.sha) && this.layout.isNodeRef(r.ref));
    if (refs.length === 0) return [];
    const input = refs.map((r) => `delete ${r.ref}\0${r.sha}\0`).join('');
    await this.git.run(['update-ref', '--stdin', '-z'], { input });
    return refs.map((r) => RefLayout.short(r.ref)).sort();
  }

  /**
   * Tag the node as promoted; returns the tag name. Promoting twice is a no-op. The tag counts
   * on this machine (recorded in .git/evogit/promoted); `writer` names it
   * `<prefix>-promoted/<writer>/<sha12>`, which also counts on machines whose trust.promoters
   * list the writer.
   */
  async promote(node: string, opts: { writer?: string } = {}): Promise<string> {
    if (opts.writer !== undefined) checkWriter(opts.writer);
    const target = await this.resolve(node);
    const ref = this.layout.promotedRef(target.id, opts.writer);
    await mkdir(join(this.gitDir, 'evogit'), { recursive: true });
    await appendFile(join(this.gitDir, 'evogit', PROMOTED_HERE), `${ref}\n`);
    const r = await this.git.run(['update-ref', ref, target.id, zeroIdLike(target.id)], { reject: false });
    if (r.exitCode !== 0 && (await revParse(this.git, ref)) !== target.id) {
      throw new EvogitError('E_TAG_EXISTS', `${ref} already names another commit`, 'Delete the old tag with `git tag -d` if it is stale.');
    }
    return ref.slice('refs/tags/'.length);
  }

  /** A branch name (evo/a1/3), a full or unique short SHA, or any git revision that names a node. */
  async resolve(name: string): Promise<ArchiveNode> {
    const snap = await this.load();
    const wanted = name.trim();
    const branch = wanted.startsWith('refs/heads/') ? wanted.slice('refs/heads/'.length) : wanted;
    const byBranch = snap.nodes.find((n) => n.branch === branch);
    if (byBranch) return byBranch;
    if (/^[0-9a-f]{4,64}$/i.test(wanted)) {
      const hex = wanted.toLowerCase();
      const hits = snap.nodes.filter((n) => n.id.startsWith(hex));
      if (hits.length === 1) return hits[0] as ArchiveNode;
      if (hits.length > 1) throw new EvogitError('E_AMBIGUOUS_NODE', `"${name}" matches ${hits.length} nodes`, 'Give more characters of the SHA, or the branch name.');
    }
    const sha = await revParse(this.git, `${wanted}^{commit}`);
    const byRev = sha ? snap.nodes.find((n) => n.id === sha) : undefined;
    if (byRev) return byRev;
    throw new EvogitError(
      'E_UNKNOWN_NODE',
      sha ? `${name} (${sha.slice(0, 12)}) is not a node of the archive` : `no node named "${name}"`,
      `List the nodes with \`evogit status\` or \`git branch --list '${this.prefix}/*'\`; a node is a branch name like ${this.prefix}/a1/3 or a commit SHA.`,
    );
  }

  /** Bring in the other writers' refs from the remote (remote.ts); never touches the writer's own refs. */
  fetch(remote: string, writer?: string, opts: { localWriters?: readonly string[] } = {}): Promise<{ ignored: string[] }> {
    return this.remoteSync.fetch(remote, writer, opts);
  }

  /** Push the writer's own branches (each once), notes and claims (remote.ts). Never forced. */
  push(remote: string, writer: string): Promise<void> {
    return this.remoteSync.push(remote, writer);
  }
}

/** The node and all its descendants (commits that have it as an ancestor), the node first. */
export function cladeOf(snapshot: ArchiveSnapshot, id: string): string[] {
  const children = new Map<string, string[]>();
  for (const n of snapshot.nodes) {
    for (const p of n.parents) {
      const list = children.get(p);
      if (list) list.push(n.id);
      else children.set(p, [n.id]);
    }
  }
  const seen = new Set<string>([id]);
  const out = [id];
  for (let i = 0; i < out.length; i++) {
    for (const c of children.get(out[i] as string) ?? []) {
      if (!seen.has(c)) {
        seen.add(c);
        out.push(c);
      }
    }
  }
  return out;
}

/** A node's own counts: passed, failed and infrastructure-error runs (errors never count as failures). */
export function ownCounts(evals: Evaluation[]): { pass: number; fail: number; error: number } {
  const c = { pass: 0, fail: 0, error: 0 };
  for (const e of evals) c[e.outcome] += 1;
  return c;
}

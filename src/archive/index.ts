/**
 * The archive: the git repository read as a population of nodes and their evaluations.
 * Every other domain reads and writes the archive only through this entry.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { EvogitError, InfraError } from '../errors/index.js';
import { ProcError } from '../proc/index.js';
import { commitText, formatTree, FOR_EACH_REF_FORMAT, Git, RefFiles, parseForEachRef, parsePushRejections, parseTree, TREE_MODE, FULL_ID, zeroIdLike, type TreeObjectEntry } from '../git/index.js';
import { ArchiveState, DISPUTED, FETCH_IGNORED, PROMOTED_HERE, type LoadStats, type TrustOptions } from './load.js';
import { parseNoteLines } from './notes.js';
import { formatTargets, parseTargets, screenLines } from './screen.js';
import { RefLayout, WRITER_RE } from './refs.js';
import type { ArchiveNode, ArchiveSnapshot, Claim, Evaluation, Operator } from './types.js';

export type { ArchiveNode, ArchiveSnapshot, Claim, Evaluation, Operator, Outcome, TestCounts } from './types.js';
export { RefLayout } from './refs.js';

/** The root's ref for a branch prefix (evo/root by default): what `evogit init` writes. */
export const rootRefOf = (prefix = 'evo'): string => new RefLayout(prefix).rootRef;
export type { LoadStats, TrustOptions } from './load.js';
export type { Ignored } from './screen.js';
export { remoteHook } from './hook.js';

export interface WriteNodeRequest {
  writer: string;
  parents: string[];
  tree: string;
  message: string;
  agent: string;
  operator: Operator;
  model?: string;
  cost?: number;
  /** The tasks the edit is aimed at (ArchiveNode.targets). */
  targets?: string[];
  /** A claim ref of this writer to delete in the same ref transaction that creates the branch. */
  releaseClaim?: string;
  /**
   * A branch (e.g. `evo/a1/3`) that must still point at the first parent when the node's branch
   * is created, checked in the same transaction; E_PARENT_PRUNED when it does not.
   */
  parentBranch?: string;
}

/** Write the cache file after this many changed records, or when it is older than CACHE_MAX_AGE_MS. */
const CACHE_SAVE_CHANGES = 1000;
const CACHE_MAX_AGE_MS = 60_000;
/** evaluationLogsOf lists the notes trees instead of naming each note from this many nodes on. */
const NOTES_LISTED_FROM = 64;
const WRITE_OPERATORS: ReadonlySet<Operator> = new Set(['mutate', 'llm', 'command', 'self', 'crossover', 'manual']);

export class Archive {
  readonly layout: RefLayout;
  /** What the last load() did (cold or incremental, how much it read). */
  lastLoad: LoadStats | null = null;
  /** Why the last background write of the cache file failed, if it did (the cache is optional). */
  cacheError: Error | null = null;
  private readonly state: ArchiveState;
  private cacheTried = false;
  private loading: Promise<unknown> = Promise.resolve();
  /** Highest seq this process handed out per writer, so a just-deleted branch is not reused. */
  private readonly seqHigh = new Map<string, number>();
  /** What this process last wrote to each notes ref, so the next append reads nothing back (see appendEvaluations). */
  private readonly notesWritten = new Map<string, { tip: string; tree: string }>();
  /** Notes trees and note texts this process wrote or read, by object id (immutable, so never stale). */
  private readonly notesObjects = new Map<string, TreeObjectEntry[] | string>();
  /** Writers this process has recorded as writing on this machine (see localWriters). */
  private readonly recordedWriters = new Set<string>();

  private constructor(
    readonly git: Git,
    readonly gitDir: string,
    readonly prefix: string,
    private readonly trust: TrustOptions = {},
  ) {
    this.layout = new RefLayout(prefix);
    this.state = new ArchiveState(git, this.layout, join(gitDir, 'evogit', `archive-${prefix.replace(/[^A-Za-z0-9._-]/g, '_')}.json`), gitDir, trust);
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
   * (see Git.keepOpen) — for a loop that writes every step; call close() when done.
   */
  static async open(opts: { repoDir: string; prefix?: string; keepGitOpen?: boolean; trust?: TrustOptions }): Promise<Archive> {
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
    return new Archive(git, gitDir, prefix, opts.trust);
  }

  /** End the long-lived git processes, if any (the archive stays usable, one process per call). */
  close(): Promise<void> {
    return this.git.close();
  }

  async root(): Promise<string | null> {
    return this.revParse(this.layout.rootRef);
  }

  async createRoot(commit: string, opts: { force?: boolean } = {}): Promise<void> {
    const sha = await this.revParse(`${commit}^{commit}`);
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
    // The cache file is written after the caller has its snapshot and before the next refresh.
    this.loading = next.then(
      () => new Promise<void>((resolve) => setImmediate(() => (this.saveCacheIfDue(), resolve()))),
      () => undefined,
    );
    return next;
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
    if (!WRITE_OPERATORS.has(req.operator)) throw new EvogitError('E_BAD_OPERATOR', `unknown operator "${req.operator}"`, `Use one of: ${[...WRITE_OPERATORS].join(', ')}.`);
    if (req.parents.length === 0) throw new EvogitError('E_NO_PARENT', 'a node needs at least one parent', 'Branch from the root or from an existing node.');
    const trailers: [string, string][] = [
      ['Evogit-Writer', req.writer],
      ['Evogit-Agent', oneLine(req.agent)],
      ['Evogit-Operator', req.operator],
    ];
    if (req.model !== undefined) trailers.push(['Evogit-Model', oneLine(req.model)]);
    if (req.cost !== undefined) trailers.push(['Evogit-Cost', String(req.cost)]);
    const targets = req.targets !== undefined ? formatTargets(req.targets) : undefined;
    if (targets !== undefined) trailers.push(['Evogit-Targets', targets]);
    const message = `${req.message.trimEnd() || 'evogit node'}\n\n${trailers.map(([k, v]) => `${k}: ${v}`).join('\n')}\n`;
    const time = Math.floor(Date.now() / 1000);
    // The commit `git commit-tree` would write, without a process per node when git is kept open.
    // trust: signed — git signs it (the in-process writer cannot).
    const id = this.signing ? await this.signedCommit(req.tree, req.parents, message) : await this.git.writeObject('commit', commitText({ tree: req.tree, parents: req.parents, message, time }));

    if (req.releaseClaim !== undefined) checkClaimRef(req.releaseClaim);
    // After its first node this process knows its writer's highest seq: try the next one
    // without listing the branches; a taken name (create-only below) falls back to the list.
    const known = this.seqHigh.get(req.writer);
    let seq = (known ?? (await this.highestSeq(req.writer))) + 1;
    for (let attempt = 0; ; attempt++) {
      const ref = this.layout.nodeRef(req.writer, seq);
      // Expected old value 0: create only. Another process of the same writer may take the seq first.
      // No reflog: a node's branch never moves, and git deletes a branch's reflog with it, so
      // one would only cost a file per node.
      const r = await this.updateRefs('evogit: node', [
        [`update ${ref}`, id, zeroIdLike(id)],
        ...(req.parentBranch !== undefined ? [[`verify refs/heads/${req.parentBranch}`, req.parents[0] as string]] : []),
        ...(req.releaseClaim !== undefined ? [[`delete ${req.releaseClaim}`, '']] : []),
      ], { reflog: false });
      if (r.ok) {
        this.seqHigh.set(req.writer, seq);
        const node: ArchiveNode = {
          id,
          parents: [...req.parents],
          tree: req.tree,
          branch: RefLayout.short(ref),
          writer: req.writer,
          agent: oneLine(req.agent),
          operator: req.operator,
          time,
          subject: message.split('\n', 1)[0] as string,
          pruned: false,
          promoted: false,
        };
        if (req.model !== undefined) node.model = oneLine(req.model);
        if (req.cost !== undefined) node.cost = req.cost;
        if (targets !== undefined) node.targets = parseTargets(targets);
        return node;
      }
      if (req.parentBranch !== undefined && (await this.revParse(`refs/heads/${req.parentBranch}`)) !== req.parents[0]) {
        throw new EvogitError('E_PARENT_PRUNED', `${req.parentBranch} was deleted while the agent worked`, 'The parent was pruned (`git branch -D`); its children are dropped.');
      }
      if (attempt >= 50) throw new InfraError('E_REF_BUSY', `could not create a branch for writer ${req.writer}: ${r.stderr.trim()}`, 'Another process keeps taking the same names; check for a runaway loop.');
      seq = Math.max(seq, await this.highestSeq(req.writer), known ?? 0) + 1;
    }
  }

  /** Append evaluation lines to each node's note in the writer's notes ref, in one notes commit. */
  async appendEvaluations(writer: string, evals: Evaluation[], opts: { releaseClaim?: string } = {}): Promise<void> {
    checkWriter(writer);
    await this.recordWriter(writer);
    if (opts.releaseClaim !== undefined) checkClaimRef(opts.releaseClaim);
    if (evals.length === 0) return;
    const byNode = new Map<string, Evaluation[]>();
    for (const e of evals) {
      if (!FULL_ID.test(e.node)) throw new EvogitError('E_BAD_EVALUATION', `evaluation names "${e.node}", not a full commit SHA`, 'Evaluations refer to nodes by their full SHA.');
      const list = byNode.get(e.node) ?? [];
      list.push(e);
      byNode.set(e.node, list);
    }
    const notesRef = this.layout.notesRef(writer);
    for (let attempt = 0; ; attempt++) {
      // First from what this process wrote last (the ref's compare-and-swap below catches a tip
      // that moved since: a remote merge, another process of this writer); read on a retry.
      const { tip, tree, existing } = (attempt === 0 && this.notesFromMemory(notesRef, [...byNode.keys()])) || (await this.readNotesAt(notesRef, [...byNode.keys()]));
      const texts = new Map<string, string>();
      for (const [node, list] of byNode) {
        let text = existing.get(node) ?? '';
        if (text && !text.endsWith('\n')) text += '\n';
        texts.set(node, text + list.map((e) => JSON.stringify(e)).join('\n') + '\n');
      }
      const msg = `evogit: ${evals.length} evaluation${evals.length === 1 ? '' : 's'} by ${writer}\n`;
      if (this.git.keptOpen) {
        // Objects through the long-lived hash-object, then the notes ref (compare-and-swap on the
        // tip read above) and the claim's release in one transaction: no process at all.
        const written = await this.writeNotesCommit(tip, tree, texts, msg);
        const r = await this.updateRefs('evogit: evaluations', [[`update ${notesRef}`, written.commit, tip ?? zeroIdLike(written.commit)], ...(opts.releaseClaim !== undefined ? [[`delete ${opts.releaseClaim}`, '']] : [])]);
        this.notesWritten.delete(notesRef);
        if (r.ok) return void this.notesWritten.set(notesRef, { tip: written.commit, tree: written.tree });
        if (attempt >= 20) throw new InfraError('E_REF_BUSY', `could not update ${notesRef}: ${r.stderr.trim()}`, 'Another process of the same writer keeps updating its notes; give each agent its own writer name.');
        continue;
      }
      const tmpRef = `refs/evogit/tmp/notes-${writer}-${process.pid}-${randomBytes(4).toString('hex')}`;
      const now = Math.floor(Date.now() / 1000);
      let stream = `commit ${tmpRef}\nmark :1\ncommitter evogit <evogit@localhost> ${now} +0000\n${data(msg)}`;
      if (tip) stream += `from ${tip}\n`;
      for (const [node, text] of texts) stream += `N inline ${node}\n${data(text)}`;
      // get-mark prints the new commit's SHA: no rev-parse of the temporary ref.
      stream += 'get-mark :1\ndone\n';
      let tmpLeft = true;
      try {
        const imported = (await this.git.out(['fast-import', '--quiet', '--done'], { input: stream })).trim();
        // trust: signed — the same notes commit, signed by git (fast-import cannot sign).
        const commit = this.signing ? await this.signedCommit((await this.git.out(['rev-parse', `${imported}^{tree}`])).trim(), tip ? [tip] : [], msg, { name: 'evogit', email: 'evogit@localhost' }) : imported;
        // The notes ref (compare-and-swap on the tip read above), the temporary ref's removal and
        // the claim's release in one transaction.
        const r = await this.updateRefs('evogit: evaluations', [
          [`update ${notesRef}`, commit, tip ?? zeroIdLike(commit)],
          [`delete ${tmpRef}`, imported],
          ...(opts.releaseClaim !== undefined ? [[`delete ${opts.releaseClaim}`, '']] : []),
        ]);
        if (r.ok) {
          tmpLeft = false;
          return;
        }
        if (attempt >= 20) throw new InfraError('E_REF_BUSY', `could not update ${notesRef}: ${r.stderr.trim()}`, 'Another process of the same writer keeps updating its notes; give each agent its own writer name.');
      } finally {
        if (tmpLeft) await this.git.run(['update-ref', '-d', tmpRef], { reject: false });
      }
    }
  }

  async putClaim(claim: Claim): Promise<string> {
    checkWriter(claim.writer);
    const blob = await this.git.writeObject('blob', JSON.stringify({ host: thisHost(), pid: process.pid, ...claim }));
    for (let attempt = 0; ; attempt++) {
      const ref = this.layout.claimRef(claim.writer, `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`);
      // Create only: a name taken (by chance) is never overwritten.
      const r = await this.git.createRef(ref, blob);
      if (r.ok) return ref;
      if (attempt >= 20) throw new InfraError('E_REF_BUSY', `could not write a claim for writer ${claim.writer}: ${r.stderr.trim()}`, 'Check that .git is writable and not full.');
    }
  }

  async releaseClaim(ref: string): Promise<void> {
    checkClaimRef(ref);
    const r = await this.git.updateRefs([[`delete ${ref}`, '']]);
    if (!r.ok) throw new InfraError('E_REF_BUSY', `could not release the claim ${ref}: ${r.stderr.trim()}`, 'Check that .git is writable; a stale claim expires on its own.');
  }

  /**
   * Keep the writer's claims directory in place while its loop runs. Each step writes a claim
   * and releases it; releasing the last one makes git remove the emptied directory, and the
   * next claim makes it again: a mkdir and an rmdir every step (about 1 ms on ext4). An empty
   * `.keep` directory inside it stops that: git skips names starting with "." and no ref can
   * have one, so nothing that reads refs sees it. Only where refs are files (not reftable).
   */
  holdClaimsDir(writer: string): void {
    checkWriter(writer);
    const common = RefFiles.commonDirOf(this.gitDir);
    if (RefFiles.supported(common)) mkdirSync(this.claimsKeepDir(common, writer), { recursive: true });
  }

  /** Undo holdClaimsDir (also for a writer that died holding it): the directory goes once empty, as git would leave it. */
  releaseClaimsDir(writer: string): void {
    if (!WRITER_RE.test(writer)) return;
    const keep = this.claimsKeepDir(RefFiles.commonDirOf(this.gitDir), writer);
    for (const dir of [keep, dirname(keep)]) {
      try {
        rmdirSync(dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTEMPTY' || code === 'EEXIST') return;
        throw e;
      }
    }
  }

  private claimsKeepDir(commonDir: string, writer: string): string {
    return join(commonDir, this.layout.claimsKeepDir(writer));
  }

  /** Delete the node's branch (and with clade, every descendant's); returns the deleted branch names. */
  async prune(node: string, opts: { clade?: boolean } = {}): Promise<string[]> {
    const target = await this.resolve(node);
    const snap = await this.load();
    if (target.id === snap.root) throw new EvogitError('E_PRUNE_ROOT', 'the root cannot be pruned', 'Prune its children instead, or move the root with `evogit init --force`.');
    const ids = new Set(opts.clade ? cladeOf(snap, target.id) : [target.id]);
    const refs = (await this.listRefs(this.layout.branchesDir)).filter((r) => ids.has(r.sha) && this.layout.isNodeRef(r.ref));
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
    if (r.exitCode !== 0 && (await this.revParse(ref)) !== target.id) {
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
    const sha = await this.revParse(`${wanted}^{commit}`);
    const byRev = sha ? snap.nodes.find((n) => n.id === sha) : undefined;
    if (byRev) return byRev;
    throw new EvogitError(
      'E_UNKNOWN_NODE',
      sha ? `${name} (${sha.slice(0, 12)}) is not a node of the archive` : `no node named "${name}"`,
      `List the nodes with \`evogit status\` or \`git branch --list '${this.prefix}/*'\`; a node is a branch name like ${this.prefix}/a1/3 or a commit SHA.`,
    );
  }

  /** Fetch every writer's branches, notes, claims and promotion tags; never touches the writer's own refs. */
  /**
   * Bring in the other writers' refs from the remote. They are fetched into a staging mirror of
   * the remote's archive refs (one per remote and writer: agents sharing this repository fetch
   * different sets), then applied: a new ref is created, a ref moves only forward (a notes ref
   * the remote has behind ours — another agent here that has not pushed yet — or rewritten is
   * left as it is, and named in `ignored`), and a ref is dropped only when the remote had it at
   * the last fetch and no longer has (pruned there) — never because the remote never had it
   * (this machine's own earlier work). The root is never moved: a remote without one gets ours
   * (created, never forced); a remote with another is refused, nothing changed.
   * `localWriters`: the writers at work in this repository besides `writer` (the agents of one
   * `evogit run`): their refs here are newer than the remote's copy, which is never taken.
   */
  async fetch(remote: string, writer?: string, opts: { localWriters?: readonly string[] } = {}): Promise<{ ignored: string[] }> {
    if (writer !== undefined) checkWriter(writer);
    const staging = RefLayout.stagingDir(`${createHash('sha1').update(remote).digest('hex').slice(0, 12)}-${writer ?? 'all'}`);
    const before = new Map((await this.listRefs(staging)).map((r) => [r.ref.slice(staging.length), r.sha]));
    const specs = this.layout.fetchRefspecs(writer, staging);
    const r = await this.git.run(['fetch', '--prune', '--no-tags', '--quiet', '--no-write-fetch-head', remote, ...specs], { reject: false, timeoutMs: 5 * 60_000 });
    if (r.exitCode !== 0) await this.refuseOtherObjectFormat(remote, r.stderr);
    if (r.exitCode !== 0) throw new InfraError('E_FETCH', `git fetch ${remote} failed: ${lastLine(r.stderr)}`, 'Check that the remote exists and is reachable (`git ls-remote <remote>`).');
    const after = new Map((await this.listRefs(staging)).map((x) => [x.ref.slice(staging.length), x.sha]));
    const rootRef = this.layout.rootRef;
    const localRoot = await this.revParse(rootRef);
    const remoteRoot = after.get(rootRef);
    if (remoteRoot !== undefined && localRoot !== null && remoteRoot !== localRoot) {
      throw new EvogitError(
        'E_ROOT_MISMATCH',
        `the remote ${remote} has another archive root (${remoteRoot.slice(0, 12)}) than this repository (${localRoot.slice(0, 12)})`,
        `Nothing was changed. If the remote's archive is the one to join, start from a fresh clone of it; to replace this repository's root with it: \`git update-ref ${rootRef} ${remoteRoot}\`.`,
      );
    }
    if (remoteRoot === undefined && localRoot !== null) await this.publishRoot(remote, localRoot);
    const local = new Map((await this.listRefs(...this.layout.readPatterns)).map((x) => [x.ref, x.sha]));
    const lines: string[][] = [];
    const ignored: string[] = [];
    const here = new Set(opts.localWriters ?? []);
    const ours = (ref: string) => here.has(this.layout.writerOf(ref) ?? '');
    // A ref that would block a writer's numbered branches (evo/bob/1/x) is never taken; it is
    // named in .git/evogit/fetch-ignored, for status and best.
    const blocking = [...after.keys()].filter((ref) => !this.layout.isArchiveRef(ref));
    await this.recordFetchIgnored(remote, blocking);
    for (const [ref, sha] of after) {
      const mine = local.get(ref);
      if (mine === sha || (ref === rootRef && localRoot !== null) || ours(ref) || !this.layout.isArchiveRef(ref)) continue;
      // Compare-and-swap on the value read: created if still absent, moved if still ours.
      if (mine === undefined) lines.push([`update ${ref}`, sha, zeroIdLike(sha)]);
      else if (!ref.startsWith(RefLayout.claimsDir) && (await this.isAncestor(mine, sha))) lines.push([`update ${ref}`, sha, mine]);
      else if (!(await this.isAncestor(sha, mine))) ignored.push(ref);
    }
    for (const [ref, sha] of before) if (!after.has(ref) && ref !== rootRef && !ours(ref) && local.get(ref) === sha) lines.push([`delete ${ref}`, sha]);
    if (lines.length) {
      const applied = await this.git.updateRefs(lines);
      if (!applied.ok) throw new InfraError('E_REF_BUSY', `could not apply what was fetched from ${remote}: ${lastLine(applied.stderr)}`, 'Run the agent again; the next fetch retries.');
    }
    if (writer !== undefined) await this.dropOwnBranchesDeletedOnRemote(remote, writer);
    return { ignored };
  }

  /** Is commit `a` an ancestor of (or equal to) commit `b`? False for anything that is not a commit. */
  private async isAncestor(a: string, b: string): Promise<boolean> {
    return (await this.git.run(['merge-base', '--is-ancestor', a, b], { reject: false })).exitCode === 0;
  }

  /** The refs the last fetch from `remote` left out, for status and best to name (replaced at every fetch). */
  private async recordFetchIgnored(remote: string, refs: string[]): Promise<void> {
    const file = join(this.gitDir, 'evogit', FETCH_IGNORED);
    const others = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((l) => l && (JSON.parse(l) as { remote: string }).remote !== remote);
    const lines = [...others, ...refs.map((ref) => JSON.stringify({ remote, ref }))];
    if (lines.length === 0 && others.length === 0) {
      await rm(file, { force: true });
      return;
    }
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, lines.map((l) => `${l}\n`).join(''));
  }

  /** A remote with no archive yet gets this repository's root, so other machines can join (created, never forced). */
  private async publishRoot(remote: string, root: string): Promise<void> {
    const ref = this.layout.rootRef;
    const r = await this.git.run(['push', '--porcelain', remote, `${root}:${ref}`], { reject: false, timeoutMs: 5 * 60_000 });
    if (r.exitCode !== 0) await this.refuseOtherObjectFormat(remote, r.stderr);
    if (r.exitCode !== 0) throw new InfraError('E_PUSH', `could not publish the archive root to ${remote}: ${lastLine(r.stderr)}`, 'Check that the remote exists and accepts pushes.');
  }

  /**
   * A person prunes on the shared remote with `git push --delete`, also the writer's own
   * branches. Fetch never touches own refs, so: a branch this writer pushed before that the
   * remote no longer has was pruned there, and is deleted here too (and never pushed again).
   */
  private async dropOwnBranchesDeletedOnRemote(remote: string, writer: string): Promise<void> {
    const pushed = await this.pushedBranches(remote, writer);
    if (pushed.size === 0) return;
    const dir = this.layout.writerBranchesDir(writer);
    const r = await this.git.run(['ls-remote', '--heads', remote, `${dir}*`], { reject: false, timeoutMs: 5 * 60_000 });
    if (r.exitCode !== 0) throw new InfraError('E_FETCH', `git ls-remote ${remote} failed: ${lastLine(r.stderr)}`, 'Check that the remote exists and is reachable.');
    const onRemote = new Set(r.stdout.split('\n').map((l) => l.split('\t')[1]).filter((x): x is string => Boolean(x)));
    const gone = (await this.listRefs(dir)).filter(({ ref }) => pushed.has(ref) && !onRemote.has(ref));
    if (gone.length === 0) return;
    // -z format: "delete SP <ref> NUL <old-oid> NUL"; the old value makes it a compare-and-delete.
    const dropped = await this.git.updateRefs(gone.map(({ ref, sha }) => [`delete ${ref}`, sha]));
    if (!dropped.ok) throw new InfraError('E_REF_BUSY', `could not drop branches pruned on ${remote}: ${lastLine(dropped.stderr)}`, 'Run the agent again; the next fetch retries.');
  }

  /** The writer's branches already pushed to this remote (a local, disposable record under .git/evogit/). */
  private pushedFile(remote: string, writer: string): string {
    const key = createHash('sha1').update(remote).digest('hex').slice(0, 12);
    return join(this.gitDir, 'evogit', 'pushed', `${key}-${writer}`);
  }

  private async pushedBranches(remote: string, writer: string): Promise<Set<string>> {
    const text = await readFile(this.pushedFile(remote, writer), 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return '';
      throw e;
    });
    return new Set(text.split('\n').filter(Boolean));
  }

  /**
   * Push the writer's own branches, notes and claims. Never forced. Each branch is pushed once
   * (recorded under .git/evogit/pushed/), so a branch pruned on the remote with
   * `git push --delete` is never pushed back to life.
   */
  async push(remote: string, writer: string): Promise<void> {
    checkWriter(writer);
    const notesRef = this.layout.notesRef(writer);
    const [, notesSpec, claimSpec] = this.layout.pushRefspecs(writer) as [string, string, string];
    for (let attempt = 0; ; attempt++) {
      const hasNotes = (await this.revParse(notesRef)) !== null;
      // Each branch is pushed once: one that was pushed and is gone from the remote was pruned
      // there by a person, and must not come back. Branches and notes are never --pruned.
      const pushed = await this.pushedBranches(remote, writer);
      const fresh = (await this.listRefs(this.layout.writerBranchesDir(writer))).map((r) => r.ref).filter((ref) => !pushed.has(ref));
      const specs = [...fresh.map((ref) => `${ref}:${ref}`), ...(hasNotes ? [notesSpec] : [])];
      const main = specs.length ? await this.git.run(['push', '--porcelain', remote, ...specs], { reject: false, timeoutMs: 5 * 60_000 }) : { exitCode: 0, stdout: '', stderr: '' };
      const rejected = parsePushRejections(main.stdout);
      if (main.exitCode !== 0) await this.refuseOtherObjectFormat(remote, main.stderr);
      if (main.exitCode === 0) {
        if (fresh.length) {
          await mkdir(join(this.gitDir, 'evogit', 'pushed'), { recursive: true });
          await appendFile(this.pushedFile(remote, writer), fresh.map((r) => `${r}\n`).join(''));
        }
        // Claims are ephemeral: released ones are deleted on the remote too.
        const c = await this.git.run(['push', '--porcelain', '--prune', remote, claimSpec], { reject: false, timeoutMs: 5 * 60_000 });
        if (c.exitCode === 0) return;
        if (attempt >= 5) throw new InfraError('E_PUSH', `git push of claims to ${remote} failed: ${lastLine(c.stderr)}`, 'Check the remote.');
        continue;
      }
      const notesRejected = rejected.some((r) => r.endsWith(notesRef));
      if (attempt >= 5 || (rejected.length > 0 && !notesRejected)) {
        const blocking = rejected.length > 0 ? await this.blockingRefs(remote, writer) : [];
        throw new InfraError(
          'E_PUSH',
          `git push to ${remote} failed: ${rejected.length > 0 ? `rejected ${rejected.join(', ')}` : lastLine(main.stderr)}${blocking.length ? `; the remote holds ${blocking.join(', ')} in ${writer}'s namespace, which blocks it` : ''}`,
          blocking.length
            ? `Someone else pushed into ${writer}'s namespace: delete it there (\`git push ${remote} --delete ${blocking[0]}\`), and guard the remote with \`evogit remote-hook\` (or a ruleset).`
            : rejected.length > 0
              ? `Another machine writes as "${writer}"; give every agent its own writer name.`
              : 'Check that the remote exists and is reachable.',
        );
      }
      if (notesRejected) await this.mergeRemoteNotes(remote, writer);
    }
  }

  // ---- helpers ----

  /** trust: signed — this repository's own nodes and notes commits are signed with git's configured key. */
  private get signing(): boolean {
    return this.trust.mode === 'signed';
  }

  /** `git commit-tree -S`: the commit signed with user.signingkey (gpg.format says SSH or GPG). */
  private async signedCommit(tree: string, parents: readonly string[], message: string, identity?: { name: string; email: string }): Promise<string> {
    const env: Record<string, string> = identity ? { GIT_AUTHOR_NAME: identity.name, GIT_AUTHOR_EMAIL: identity.email, GIT_COMMITTER_NAME: identity.name, GIT_COMMITTER_EMAIL: identity.email } : {};
    const r = await this.git.run(['commit-tree', '-S', ...parents.flatMap((p) => ['-p', p]), '-F', '-', tree], { input: message, env, reject: false });
    if (r.exitCode !== 0) {
      throw new EvogitError('E_SIGN', `git could not sign a commit (trust: signed): ${lastLine(r.stderr)}`, 'Set a signing key: `git config user.signingkey <key>` (and `git config gpg.format ssh` for an SSH key), or use trust: all.');
    }
    return r.stdout.trim();
  }

  /** Refs on the remote in the writer's branch namespace that are not node branches (evo/bob/1/x blocks evo/bob/1). */
  private async blockingRefs(remote: string, writer: string): Promise<string[]> {
    const r = await this.git.run(['ls-remote', remote, `${this.layout.writerBranchesDir(writer)}*`], { reject: false, timeoutMs: 60_000 });
    if (r.exitCode !== 0) return [];
    return r.stdout.split('\n').map((l) => l.split('\t')[1]).filter((ref): ref is string => Boolean(ref) && !this.layout.isArchiveRef(ref as string));
  }

  /**
   * A SHA-256 archive cannot be shared through a SHA-1 remote, nor the other way round: git
   * refuses, in words that do not say so (`protocol error: unexpected capabilities^{}`). Said
   * plainly, as the user's to fix, before anything was changed.
   */
  private async refuseOtherObjectFormat(remote: string, stderr: string): Promise<void> {
    if (!/mismatched algorithms|does not support this repository's hash algorithm|unexpected capabilities\^\{\}/.test(stderr)) return;
    const format = (await this.git.out(['rev-parse', '--show-object-format'])).trim();
    throw new EvogitError(
      'E_OBJECT_FORMAT',
      `the remote ${remote} stores objects in another format than this repository (${format}): git cannot exchange them`,
      `Share the archive through a ${format} remote (\`git init --bare --object-format=${format}\`), or clone the remote and run \`evogit init\` there.`,
    );
  }

  /** The remote holds notes of this writer we lack (same writer on two machines): union the lines and retry. */
  private async mergeRemoteNotes(remote: string, writer: string): Promise<void> {
    const notesRef = this.layout.notesRef(writer);
    const tmp = `refs/evogit/tmp/remote-notes-${writer}`;
    await this.git.run(['fetch', '--quiet', '--no-write-fetch-head', remote, `+${notesRef}:${tmp}`]);
    try {
      await this.git.run(['notes', `--ref=${notesRef}`, 'merge', '--quiet', '-s', 'cat_sort_uniq', tmp]);
    } finally {
      await this.git.run(['update-ref', '-d', tmp], { reject: false });
    }
  }

  /** The notes ref's tip and the nodes' notes at it, with one `cat-file --batch` (tip null when the ref does not exist). */
  private async readNotesAt(notesRef: string, nodes: string[]): Promise<{ tip: string | null; tree: string | null; existing: Map<string, string> }> {
    // The note for X sits at X, xx/rest or xx/yy/rest depending on git's fan-out; the ref's
    // name comes first and answers with the tip commit.
    const names: string[] = [notesRef];
    for (const n of nodes) names.push(`${notesRef}:${n}`, `${notesRef}:${n.slice(0, 2)}/${n.slice(2)}`, `${notesRef}:${n.slice(0, 2)}/${n.slice(2, 4)}/${n.slice(4)}`);
    const found = await this.git.catFiles(names);
    const head = found.get(notesRef);
    const tip = head && head.type === 'commit' ? head.sha : null;
    const existing = new Map<string, string>();
    const tree = tip === null ? null : (/^tree ([0-9a-f]+)$/m.exec(head?.content ?? '')?.[1] ?? null);
    if (tip === null) return { tip, tree, existing };
    for (const [i, n] of nodes.entries()) {
      for (let k = 0; k < 3; k++) {
        const o = found.get(names[1 + i * 3 + k] as string);
        if (o) {
          existing.set(n, o.content);
          break;
        }
      }
    }
    return { tip, tree, existing };
  }

  /**
   * The notes commit that sets each node's note to its text, on top of `tip` (tree `tree`),
   * written object by object as git notes lays them out: a note replaces the old one where it
   * is (X, xx/rest or xx/yy/rest), a new one goes one level down wherever a level is fanned out
   * (has xx/ directories), and a level holding 256 notes or more is fanned out (as fast-import does).
   */
  private async writeNotesCommit(tip: string | null, tree: string | null, texts: Map<string, string>, message: string): Promise<{ commit: string; tree: string }> {
    // Bounded: a long run writes a tree or two and a note per evaluation.
    if (this.notesObjects.size > 4096) this.notesObjects.clear();
    const notes: [string, string][] = [];
    for (const [node, text] of texts) {
      const blob = await this.git.writeObject('blob', text);
      this.notesObjects.set(blob, text);
      notes.push([node, blob]);
    }
    const readTree = async (sha: string): Promise<TreeObjectEntry[]> => {
      const known = this.notesObjects.get(sha);
      if (Array.isArray(known)) return known;
      const o = (await this.git.catFileBytes([sha])).get(sha);
      if (!o || o.type !== 'tree') throw new InfraError('E_GIT_OUTPUT', `notes tree ${sha} is missing`, 'Check the repository with `git fsck`.');
      const entries = parseTree(o.content, sha.length / 2);
      this.notesObjects.set(sha, entries);
      return entries;
    };
    const update = async (sha: string | null, items: [string, string][]): Promise<string> => {
      const byName = new Map((sha ? await readTree(sha) : []).map((e) => [e.name, e]));
      // A level with fan-out directories is fanned out: a new note goes into (a new) xx/.
      const fannedOut = [...byName.values()].some((e) => e.mode === TREE_MODE && /^[0-9a-f]{2}$/.test(e.name));
      const deeper = new Map<string, [string, string][]>();
      for (const [rest, blob] of items) {
        const d = rest.slice(0, 2);
        const dir = byName.get(d);
        if (!byName.has(rest) && (dir?.mode === TREE_MODE || (fannedOut && !dir))) deeper.set(d, [...(deeper.get(d) ?? []), [rest.slice(2), blob]]);
        else byName.set(rest, { mode: '100644', name: rest, sha: blob });
      }
      const flat = [...byName.values()].filter((e) => e.mode !== TREE_MODE && /^[0-9a-f]{3,}$/.test(e.name));
      if (flat.length >= 256) {
        for (const e of flat) {
          byName.delete(e.name);
          const d = e.name.slice(0, 2);
          deeper.set(d, [...(deeper.get(d) ?? []), [e.name.slice(2), e.sha]]);
        }
      }
      for (const [d, list] of deeper) {
        const old = byName.get(d);
        byName.set(d, { mode: TREE_MODE, name: d, sha: await update(old?.mode === TREE_MODE ? old.sha : null, list) });
      }
      const entries = [...byName.values()];
      const written = await this.git.writeObject('tree', formatTree(entries));
      this.notesObjects.set(written, entries);
      return written;
    };
    const root = await update(tree, notes);
    const time = Math.floor(Date.now() / 1000);
    const commit = this.signing
      ? await this.signedCommit(root, tip ? [tip] : [], message, { name: 'evogit', email: 'evogit@localhost' })
      : await this.git.writeObject('commit', commitText({ tree: root, parents: tip ? [tip] : [], message, time, identity: { name: 'evogit', email: 'evogit@localhost' } }));
    return { commit, tree: root };
  }

  /**
   * readNotesAt's answer from what this process wrote last to the notes ref, or null when any
   * part of it is not in memory (then it is read).
   */
  private notesFromMemory(notesRef: string, nodes: string[]): { tip: string; tree: string; existing: Map<string, string> } | null {
    const last = this.notesWritten.get(notesRef);
    if (!last) return null;
    const existing = new Map<string, string>();
    for (const node of nodes) {
      // The note for X sits at X, xx/rest or xx/yy/rest (readNotesAt).
      let at: string = last.tree;
      let rest = node;
      let text: string | null = null;
      for (let depth = 0; depth <= 2; depth++) {
        const entries = this.notesObjects.get(at);
        if (!Array.isArray(entries)) return null;
        const note = entries.find((e) => e.name === rest && e.mode !== TREE_MODE);
        if (note) {
          const known = this.notesObjects.get(note.sha);
          if (typeof known !== 'string') return null;
          text = known;
          break;
        }
        const dir = entries.find((e) => e.name === rest.slice(0, 2) && e.mode === TREE_MODE);
        if (!dir || depth === 2) break;
        at = dir.sha;
        rest = rest.slice(2);
      }
      if (text !== null) existing.set(node, text);
    }
    return { tip: last.tip, tree: last.tree, existing };
  }

  /**
   * One atomic ref transaction (`update-ref --stdin -z`) with a reflog message; each command is
   * its fields: [`update <ref>`, new, old] or [`delete <ref>`, old] ('' = whatever it is).
   */
  private updateRefs(message: string, commands: string[][], opts: { reflog?: boolean } = {}): Promise<{ ok: boolean; stderr: string }> {
    return this.git.updateRefs(commands, { message, ...opts });
  }

  private async listRefs(...prefixes: string[]): Promise<{ ref: string; sha: string }[]> {
    return parseForEachRef(await this.git.out(['for-each-ref', `--format=${FOR_EACH_REF_FORMAT}`, ...prefixes]));
  }

  private async highestSeq(writer: string): Promise<number> {
    let max = 0;
    for (const { ref } of await this.listRefs(this.layout.writerBranchesDir(writer))) {
      const p = this.layout.parseNodeRef(ref);
      if (p && p.seq > max) max = p.seq;
    }
    return max;
  }

  private async revParse(rev: string): Promise<string | null> {
    const r = await this.git.run(['rev-parse', '--verify', '--quiet', '--end-of-options', rev], { reject: false });
    return r.exitCode === 0 ? r.stdout.trim() : null;
  }
}

let hostId: string | null = null;
/**
 * This machine, as claims name it: the host name and, on Linux, the kernel's boot id (two
 * machines or containers may share a name, never a boot id; containers on one kernel share it,
 * as they share the processes a pid names).
 */
export function thisHost(): string {
  if (hostId === null) {
    let boot = '';
    try {
      boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().slice(0, 8);
    } catch {
      // Not Linux: the host name alone.
      boot = '';
    }
    hostId = boot ? `${hostname()}#${boot}` : hostname();
  }
  return hostId;
}

function checkClaimRef(ref: string): void {
  if (!ref.startsWith(RefLayout.claimsDir)) throw new EvogitError('E_NOT_A_CLAIM', `${ref} is not a claim ref`, `Claims live under ${RefLayout.claimsDir}.`);
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

function checkWriter(writer: string): void {
  if (!WRITER_RE.test(writer)) {
    throw new EvogitError('E_BAD_WRITER', `writer name "${writer}" is not usable in a ref`, 'Use letters, digits, ".", "_" and "-", starting with a letter or digit (e.g. "a1").');
  }
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function data(text: string): string {
  return `data ${Buffer.byteLength(text)}\n${text}\n`;
}

function lastLine(s: string): string {
  return s.trim().split('\n').slice(-1)[0] ?? '';
}

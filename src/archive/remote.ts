/**
 * Sharing the archive through a git remote: fetch brings in the other writers' refs (staged,
 * then applied forward-only; the root is never moved), push sends the writer's own branches
 * (each once), notes and claims (never forced). Refused plainly: a remote with another root,
 * or one in another object format.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EvogitError, InfraError } from '../errors/index.js';
import { parsePushRejections, zeroIdLike, type Git } from '../git/index.js';
import { checkWriter, lastLine, listRefs, revParse } from './git-calls.js';
import { RefLayout } from './refs.js';
import { FETCH_IGNORED } from './trust-state.js';

export class RemoteSync {
  constructor(
    private readonly git: Git,
    private readonly layout: RefLayout,
    private readonly gitDir: string,
  ) {}

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
    const before = new Map((await listRefs(this.git, staging)).map((r) => [r.ref.slice(staging.length), r.sha]));
    const specs = this.layout.fetchRefspecs(writer, staging);
    const r = await this.git.run(['fetch', '--prune', '--no-tags', '--quiet', '--no-write-fetch-head', remote, ...specs], { reject: false, timeoutMs: 5 * 60_000 });
    if (r.exitCode !== 0) await this.refuseOtherObjectFormat(remote, r.stderr);
    if (r.exitCode !== 0) throw new InfraError('E_FETCH', `git fetch ${remote} failed: ${lastLine(r.stderr)}`, 'Check that the remote exists and is reachable (`git ls-remote <remote>`).');
    const after = new Map((await listRefs(this.git, staging)).map((x) => [x.ref.slice(staging.length), x.sha]));
    const rootRef = this.layout.rootRef;
    const localRoot = await revParse(this.git, rootRef);
    const remoteRoot = after.get(rootRef);
    if (remoteRoot !== undefined && localRoot !== null && remoteRoot !== localRoot) {
      throw new EvogitError(
        'E_ROOT_MISMATCH',
        `the remote ${remote} has another archive root (${remoteRoot.slice(0, 12)}) than this repository (${localRoot.slice(0, 12)})`,
        `Nothing was changed. If the remote's archive is the one to join, start from a fresh clone of it; to replace this repository's root with it: \`git update-ref ${rootRef} ${remoteRoot}\`.`,
      );
    }
    if (remoteRoot === undefined && localRoot !== null) await this.publishRoot(remote, localRoot);
    const local = new Map((await listRefs(this.git, ...this.layout.readPatterns)).map((x) => [x.ref, x.sha]));
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
    const gone = (await listRefs(this.git, dir)).filter(({ ref }) => pushed.has(ref) && !onRemote.has(ref));
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
      const hasNotes = (await revParse(this.git, notesRef)) !== null;
      // Each branch is pushed once: one that was pushed and is gone from the remote was pruned
      // there by a person, and must not come back. Branches and notes are never --pruned.
      const pushed = await this.pushedBranches(remote, writer);
      const fresh = (await listRefs(this.git, this.layout.writerBranchesDir(writer))).map((r) => r.ref).filter((ref) => !pushed.has(ref));
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
}

/** The agent's own git worktree, and the removal of ones left by agents that died. */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { git } from '../git/index.js';

/**
 * The writer's one worktree, reused from expansion to expansion. After each expansion what
 * the agent left outside the index (untracked and ignored files, nested repositories) is
 * removed in the background while the loop goes on to its next steps; the next expansion
 * then only checks out its parent, which with --force also undoes every change to the index
 * and the tracked files (staged new files included).
 */
export class AgentWorktree {
  private tidying: Promise<boolean> | null = null;
  private resetting: Promise<void> = Promise.resolve();

  constructor(
    readonly repoDir: string,
    readonly gitCommonDir: string,
    readonly dir: string,
  ) {}

  /**
   * Put the worktree at `commit`, exactly as a fresh `worktree add --detach` would leave it: a
   * healthy worktree tidied after the last expansion needs one checkout; one not tidied (the
   * first, or a tidy that failed) a clean and a checkout; anything doubtful is made afresh.
   */
  reset(commit: string): Promise<void> {
    const done = this.resetNow(commit);
    // Whoever started it awaits it; remove() waits for it too, whatever the outcome.
    this.resetting = done.catch(() => undefined);
    return done;
  }

  private async resetNow(commit: string): Promise<void> {
    const tidy = await this.settle();
    if (isOurWorktree(this.gitCommonDir, this.dir)) {
      // clean -ffdx removes untracked and ignored files and nested repositories; then
      // checkout --force drops edits, staged files and a merge in progress: nothing of the
      // last agent's work is left.
      const clean = tidy || (await git(this.dir, ['clean', '-ffdxq'], { reject: false })).exitCode === 0;
      if (clean && (await git(this.dir, ['checkout', '--quiet', '--detach', '--force', commit], { reject: false })).exitCode === 0) return;
    }
    await removeWorktree(this.repoDir, this.dir);
    await git(this.repoDir, ['worktree', 'add', '--detach', '--force', this.dir, commit]);
  }

  /** Remove (in the background) what the agent left outside the index; the next reset's checkout does the rest. */
  tidy(): void {
    const last = this.tidying ?? Promise.resolve(false);
    this.tidying = last.then(async () => {
      if (!isOurWorktree(this.gitCommonDir, this.dir)) return false;
      return (await git(this.dir, ['clean', '-ffdxq'], { reject: false }).catch(() => null))?.exitCode === 0;
    });
  }

  /** Wait for a tidy under way; whether it left the worktree clean. */
  async settle(): Promise<boolean> {
    const t = this.tidying;
    this.tidying = null;
    return t ? t.catch(() => false) : false;
  }

  async remove(): Promise<void> {
    await this.resetting;
    await this.settle();
    await removeWorktree(this.repoDir, this.dir);
  }
}

/**
 * Is `dir` a complete linked worktree of this repository (its .git file names an admin dir
 * under .git/worktrees/ that names it back, no add left half-done, no rebase or bisect in
 * progress)? A few file reads, synchronous (microseconds): no git process.
 */
export function isOurWorktree(gitCommonDir: string, dir: string): boolean {
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return null;
    }
  };
  const dotGit = path.join(dir, '.git');
  const link = /^gitdir: (.+)$/m.exec(read(dotGit))?.[1]?.trim();
  if (!link) return false;
  const admin = path.resolve(dir, link);
  const home = real(path.join(gitCommonDir, 'worktrees'));
  if (home === null || real(path.dirname(admin)) !== home) return false;
  const back = read(path.join(admin, 'gitdir')).trim();
  if (!back || real(path.resolve(admin, back)) !== real(dotGit)) return false;
  return !['locked', 'rebase-merge', 'rebase-apply', 'BISECT_LOG'].some((f) => existsSync(path.join(admin, f)));
}

/** The real path of `p` (as /proc shows working directories), or `p` itself when it does not exist. */
export function realpathOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

export async function removeWorktree(repoDir: string, worktree: string): Promise<void> {
  // Twice --force: a `worktree add` killed midway leaves the worktree locked ("initializing").
  await git(repoDir, ['worktree', 'remove', '--force', '--force', worktree], { reject: false });
  await rm(worktree, { recursive: true, force: true });
  await git(repoDir, ['worktree', 'prune'], { reject: false });
}

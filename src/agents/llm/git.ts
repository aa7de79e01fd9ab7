/** The few git reads the agents need, each with a pure parser of machine-readable output. */
import { parseNulList, parsePorcelainZ, type StatusEntry } from '../../git/index.js';
import { run } from '../../proc/index.js';

export { parseNulList, parsePorcelainZ, type StatusEntry };

export async function trackedFiles(worktree: string): Promise<string[]> {
  const r = await run('git', ['ls-files', '-z'], { cwd: worktree });
  return parseNulList(r.stdout);
}

export async function worktreeStatus(worktree: string): Promise<StatusEntry[]> {
  const r = await run('git', ['status', '--porcelain=v1', '-z', '--untracked-files=all'], { cwd: worktree });
  return parsePorcelainZ(r.stdout);
}

export async function headCommit(worktree: string): Promise<string> {
  const r = await run('git', ['rev-parse', '--verify', 'HEAD^{commit}'], { cwd: worktree });
  return r.stdout.trim();
}

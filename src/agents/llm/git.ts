/** The few git reads the agents need, each with a pure parser of machine-readable output. */
import { run } from '../../proc/index.js';

/** `git ls-files -z` / `git diff --name-only -z` output → paths. */
export function parseNulList(stdout: string): string[] {
  return stdout.split('\0').filter(Boolean);
}

export interface StatusEntry {
  /** Two-letter XY code of `git status --porcelain`. */
  code: string;
  path: string;
}

/** `git status --porcelain=v1 -z`: renames carry the old path as an extra NUL-terminated field. */
export function parsePorcelainZ(stdout: string): StatusEntry[] {
  const fields = stdout.split('\0');
  const out: StatusEntry[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.length < 4) continue;
    const code = f.slice(0, 2);
    out.push({ code, path: f.slice(3) });
    if (code[0] === 'R' || code[0] === 'C') i++;
  }
  return out;
}

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

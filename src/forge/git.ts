/**
 * Every git call the forge makes, in one place. Each asks for machine-readable output and
 * hands it to a pure parser (exported for tests on captured output). Its runner is not
 * src/git's: a PR's commit (forge.minimize) carries the user's own identity from their git
 * config, where src/git sets evogit's identity for the archive's commits.
 */
import { run, type ProcResult } from '../proc/index.js';

export interface DiffStatEntry {
  path: string;
  /** null for a binary file. */
  added: number | null;
  deleted: number | null;
}

/** `git diff --numstat -z --no-renames` output: `added\tdeleted\tpath\0` per file, `-` for binary. */
export function parseNumstatZ(out: string): DiffStatEntry[] {
  const entries: DiffStatEntry[] = [];
  for (const record of out.split('\0')) {
    if (record === '') continue;
    const m = /^(-|\d+)\t(-|\d+)\t([\s\S]+)$/.exec(record.replace(/^\n/, ''));
    if (!m) throw new Error(`unexpected numstat record: ${JSON.stringify(record)}`);
    entries.push({
      path: m[3]!,
      added: m[1] === '-' ? null : Number(m[1]),
      deleted: m[2] === '-' ? null : Number(m[2]),
    });
  }
  return entries;
}

export async function diffStat(repoDir: string, from: string, to: string): Promise<DiffStatEntry[]> {
  const r = await git(repoDir, ['diff', '--numstat', '-z', '--no-renames', '--no-ext-diff', from, to]);
  return parseNumstatZ(r.stdout);
}

/** `git log --no-walk=unsorted --format=%H%x00%B%x1e` output → sha → full message. */
export function parseMessages(out: string): Map<string, string> {
  const messages = new Map<string, string>();
  for (const record of out.split('\x1e')) {
    const trimmed = record.replace(/^\n/, '');
    if (trimmed === '') continue;
    const nul = trimmed.indexOf('\0');
    if (nul !== 40 && nul !== 64) throw new Error(`unexpected log record: ${JSON.stringify(trimmed.slice(0, 80))}`);
    messages.set(trimmed.slice(0, nul), trimmed.slice(nul + 1).trimEnd());
  }
  return messages;
}

export async function commitMessages(repoDir: string, shas: string[]): Promise<Map<string, string>> {
  if (shas.length === 0) return new Map();
  const r = await git(repoDir, ['log', '--no-walk=unsorted', '--format=%H%x00%B%x1e', ...shas]);
  return parseMessages(r.stdout);
}

export async function isAncestor(repoDir: string, ancestor: string, descendant: string): Promise<boolean> {
  const r = await git(repoDir, ['merge-base', '--is-ancestor', ancestor, descendant], { reject: false });
  if (r.exitCode === 0) return true;
  if (r.exitCode === 1) return false;
  throw new Error(`git merge-base --is-ancestor failed: ${r.stderr.trim()}`);
}

/** `git ls-remote` output: `sha\tref\n` lines. */
export function parseLsRemote(out: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const [sha, ref] = line.split('\t');
    if (!sha || !ref) throw new Error(`unexpected ls-remote line: ${JSON.stringify(line)}`);
    refs.set(ref, sha);
  }
  return refs;
}

/** The commit a branch points to on the remote, or null when it does not exist there. */
export async function remoteBranch(repoDir: string, remote: string, branch: string): Promise<string | null> {
  const ref = `refs/heads/${branch}`;
  const r = await git(repoDir, ['ls-remote', '--refs', remote, ref]);
  return parseLsRemote(r.stdout).get(ref) ?? null;
}

/** Does the local repository have this commit (e.g. a PR head another machine pushed)? */
export async function hasCommit(repoDir: string, sha: string): Promise<boolean> {
  const r = await git(repoDir, ['cat-file', '-e', `${sha}^{commit}`], { reject: false });
  return r.exitCode === 0;
}

export async function fetchRef(repoDir: string, remote: string, branch: string): Promise<void> {
  await git(repoDir, ['fetch', '--no-tags', remote, `refs/heads/${branch}`]);
}

/** Push a commit to a branch. Never forced: git itself refuses a non-fast-forward. */
export async function pushCommit(repoDir: string, remote: string, sha: string, branch: string): Promise<ProcResult> {
  return git(repoDir, ['push', '--porcelain', remote, `${sha}:refs/heads/${branch}`], { reject: false });
}

export async function git(
  repoDir: string,
  args: string[],
  opts: { reject?: boolean; env?: Record<string, string>; input?: string } = {},
): Promise<ProcResult> {
  return run('git', args, {
    cwd: repoDir,
    reject: opts.reject ?? true,
    timeoutMs: 120_000,
    env: { GIT_TERMINAL_PROMPT: '0', ...(opts.env ?? {}) },
    input: opts.input,
  });
}

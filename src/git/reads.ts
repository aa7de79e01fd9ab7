/**
 * The git reads the rest of evogit needs about trees, commits and worktrees, each as an
 * argument list through this module's runner and a pure parser of machine-readable output.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { git, Git, parseNulList, parsePorcelainZ, type StatusEntry } from './index.js';

/** Tracked files of a worktree (`git ls-files -z`). */
export async function trackedFiles(worktree: string): Promise<string[]> {
  const r = await git(worktree, ['ls-files', '-z']);
  return parseNulList(r.stdout);
}

export async function worktreeStatus(worktree: string): Promise<StatusEntry[]> {
  const r = await git(worktree, ['status', '--porcelain=v1', '-z', '--untracked-files=all']);
  return parsePorcelainZ(r.stdout);
}

export async function headCommit(worktree: string): Promise<string> {
  const r = await git(worktree, ['rev-parse', '--verify', 'HEAD^{commit}']);
  return r.stdout.trim();
}

export async function listFiles(repoDir: string, commit: string): Promise<string[]> {
  const r = await git(repoDir, ['ls-tree', '-r', '-z', '--name-only', '--full-tree', commit]);
  return parseNulList(r.stdout);
}

/** Paths that differ between two commits (added, deleted, modified, renamed both sides). */
export async function changedFiles(repoDir: string, from: string, to: string): Promise<string[]> {
  const r = await git(repoDir, ['diff', '--name-only', '-z', '--no-renames', from, to]);
  return parseNulList(r.stdout);
}

export async function resolveCommit(repoDir: string, rev: string): Promise<string> {
  const r = await git(repoDir, ['rev-parse', '--verify', `${rev}^{commit}`]);
  return r.stdout.trim();
}

export async function showFile(repoDir: string, commit: string, file: string): Promise<string | null> {
  const r = await git(repoDir, ['cat-file', 'blob', `${commit}:${file}`], { reject: false });
  return r.exitCode === 0 ? r.stdout : null;
}

/** `git ls-tree -r -z --full-tree` entries → path → blob id (pure). */
export function parseLsTree(out: string): Map<string, string> {
  const blobs = new Map<string, string>();
  for (const entry of parseNulList(out)) {
    const tab = entry.indexOf('\t');
    const [, , oid] = entry.slice(0, tab).split(' ');
    if (oid) blobs.set(entry.slice(tab + 1), oid);
  }
  return blobs;
}

export async function treeBlobs(repoDir: string, commit: string): Promise<Map<string, string>> {
  const r = await git(repoDir, ['ls-tree', '-r', '-z', '--full-tree', commit]);
  return parseLsTree(r.stdout);
}

/**
 * `git archive` of a commit or tree as tar bytes: only `paths` (pathspecs) when given, under
 * `prefix`. Through a temporary file, not a pipe: the caller needs the bytes whole.
 */
export async function archiveTar(repoDir: string, treeish: string, opts: { paths?: readonly string[]; prefix?: string } = {}): Promise<Buffer> {
  const file = path.join(tmpdir(), `evogit-archive-${process.pid}-${randomBytes(6).toString('hex')}.tar`);
  try {
    await git(repoDir, ['archive', '--format=tar', ...(opts.prefix ? [`--prefix=${opts.prefix}`] : []), '-o', file, treeish, ...(opts.paths?.length ? ['--', ...opts.paths] : [])]);
    return await readFile(file);
  } finally {
    await rm(file, { force: true });
  }
}

/**
 * `git archive` of a commit or tree as a stream of tar bytes (for the sandbox, which never
 * holds a tree whole): `stream()` starts git; it throws after the last chunk if git failed.
 */
export function archiveStream(repoDir: string, treeish: string, opts: { paths?: readonly string[]; prefix?: string } = {}): { stream: () => AsyncIterable<Buffer> } {
  return {
    stream: async function* () {
      const p = new Git(repoDir).stream(['archive', '--format=tar', ...(opts.prefix ? [`--prefix=${opts.prefix}`] : []), treeish, ...(opts.paths?.length ? ['--', ...opts.paths] : [])]);
      try {
        yield* p.stdout;
      } finally {
        p.kill();
      }
      await p.done;
    },
  };
}

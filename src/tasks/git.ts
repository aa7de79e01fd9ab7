/** The few git reads tasks need, machine-readable, parsed by pure functions. */
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run, streamOut } from '../proc/index.js';
import { parseNulList } from '../git/index.js';

/** `git ls-tree -r -z --name-only` output → paths. */
export { parseNulList };

export async function listFiles(repoDir: string, commit: string): Promise<string[]> {
  const r = await run('git', ['ls-tree', '-r', '-z', '--name-only', '--full-tree', commit], { cwd: repoDir });
  return parseNulList(r.stdout);
}

/** Paths that differ between two commits (added, deleted, modified, renamed both sides). */
export async function changedFiles(repoDir: string, from: string, to: string): Promise<string[]> {
  const r = await run('git', ['diff', '--name-only', '-z', '--no-renames', from, to], { cwd: repoDir });
  return parseNulList(r.stdout);
}

export async function resolveCommit(repoDir: string, rev: string): Promise<string> {
  const r = await run('git', ['rev-parse', '--verify', `${rev}^{commit}`], { cwd: repoDir });
  return r.stdout.trim();
}

export async function showFile(repoDir: string, commit: string, file: string): Promise<string | null> {
  const r = await run('git', ['cat-file', 'blob', `${commit}:${file}`], { cwd: repoDir, reject: false });
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
  const r = await run('git', ['ls-tree', '-r', '-z', '--full-tree', commit], { cwd: repoDir });
  return parseLsTree(r.stdout);
}

/**
 * `git archive` of a commit or tree as tar bytes: only `paths` (pathspecs) when given, under
 * `prefix`. Through a temporary file, not a pipe: git then runs in the fork server.
 */
export async function archiveTar(repoDir: string, treeish: string, opts: { paths?: readonly string[]; prefix?: string } = {}): Promise<Buffer> {
  const file = path.join(tmpdir(), `evogit-archive-${process.pid}-${randomBytes(6).toString('hex')}.tar`);
  try {
    await run('git', ['archive', '--format=tar', ...(opts.prefix ? [`--prefix=${opts.prefix}`] : []), '-o', file, treeish, ...(opts.paths?.length ? ['--', ...opts.paths] : [])], { cwd: repoDir });
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
      const p = streamOut('git', ['archive', '--format=tar', ...(opts.prefix ? [`--prefix=${opts.prefix}`] : []), treeish, ...(opts.paths?.length ? ['--', ...opts.paths] : [])], { cwd: repoDir });
      try {
        yield* p.stdout;
      } finally {
        p.kill();
      }
      await p.done;
    },
  };
}

/** Path parts git refuses to check out or archive ("..", ".", ".git" in any case): a tree holding one cannot be unpacked. */
export function unsafePaths(paths: string[]): string[] {
  return paths.filter((p) => p.split('/').some((part) => part === '' || part === '.' || part === '..' || part.toLowerCase() === '.git'));
}

/** Why `commit`'s tree cannot be unpacked into a work dir, or null when it can. */
export async function unpackableReason(repoDir: string, commit: string): Promise<string | null> {
  const bad = unsafePaths(await listFiles(repoDir, commit));
  return bad.length ? `the tree has paths git refuses to unpack: ${bad.slice(0, 3).map((p) => JSON.stringify(p)).join(', ')}` : null;
}

/**
 * Throw-away git repositories for tests, and the one way a test runs git (or the real bin).
 * A repository made here has its first commit on `main` and a local identity, so in-process
 * code that commits (the archive's notes, an agent's worktree) works on any machine.
 */
import { cp, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { run, type ProcResult } from '../../src/proc/index.js';

export const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@evogit.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@evogit.invalid',
};

const GIT_TEST_ENV = { ...GIT_ENV, GIT_CONFIG_NOSYSTEM: '1' };

/** git ARGS in cwd with the test identity and no system config; its stdout. Throws when git fails. */
export async function git(cwd: string, args: string[], input?: string): Promise<string> {
  return (await run('git', args, { cwd, env: GIT_TEST_ENV, ...(input !== undefined ? { input } : {}) })).stdout;
}

/** The same git call, resolving with its whole result (exit code, stderr) whether or not it failed. */
export async function gitResult(cwd: string, args: string[]): Promise<ProcResult> {
  return run('git', args, { cwd, env: GIT_TEST_ENV, reject: false });
}

/** `git rev-parse REV`: a full SHA. */
export async function revParse(cwd: string, rev = 'HEAD'): Promise<string> {
  return (await git(cwd, ['rev-parse', rev])).trim();
}

/** Any other command in cwd, with the test identity. Throws when it fails. */
export async function sh(cwd: string, command: string, args: string[]): Promise<ProcResult> {
  return run(command, args, { cwd, env: GIT_ENV });
}

export async function tempDir(prefix = 'evogit-test-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}

/**
 * A list for the directories a test file (or a describe block, where it is called) makes: each
 * pushed onto it is removed after the last test there.
 */
export function removedAfterAll(): string[] {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.splice(0).map(removeDir)));
  return dirs;
}

/** Write files under dir (path → content, directories made as needed; null deletes the file). */
export async function writeFiles(dir: string, files: Record<string, string | null>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    if (content === null) {
      await rm(file, { force: true });
      continue;
    }
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}

export interface InitOptions {
  bare?: boolean;
  objectFormat?: 'sha1' | 'sha256';
}

/**
 * `git init` in dir (made if missing) with `main` as its first branch. A work tree gets the test
 * identity and no commit signing, whatever the machine's global git config says.
 */
export async function initRepo(dir: string, opts: InitOptions = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const format = opts.objectFormat ? [`--object-format=${opts.objectFormat}`] : [];
  await git(dir, ['init', '--quiet', ...(opts.bare ? ['--bare'] : []), ...format, '--initial-branch=main']);
  if (opts.bare) return;
  await git(dir, ['config', 'user.name', GIT_ENV.GIT_AUTHOR_NAME]);
  await git(dir, ['config', 'user.email', GIT_ENV.GIT_AUTHOR_EMAIL]);
  await git(dir, ['config', 'commit.gpgsign', 'false']);
}

/** Stage everything in dir's work tree and commit it; the new commit's full SHA. */
export async function commitAll(dir: string, message: string, opts: { allowEmpty?: boolean } = {}): Promise<string> {
  await git(dir, ['add', '--all']);
  await git(dir, ['commit', '--quiet', ...(opts.allowEmpty ? ['--allow-empty'] : []), '-m', message]);
  return revParse(dir);
}

/**
 * Commit `files` (as writeFiles takes them) on top of `base` on the branch `branch` (made, or
 * reset), then check `main` out again; the new commit's full SHA.
 */
export async function commitOnBranch(dir: string, branch: string, base: string, files: Record<string, string | null>, message: string): Promise<string> {
  await git(dir, ['checkout', '--quiet', '-B', branch, base]);
  await writeFiles(dir, files);
  const sha = await commitAll(dir, message, { allowEmpty: true });
  await git(dir, ['checkout', '--quiet', 'main']);
  return sha;
}

export interface RepoOptions extends Omit<InitOptions, 'bare'> {
  /** The first commit's message (default: `initial`). */
  message?: string;
}

/** A new repository with the given files in one commit on `main`, in dir (default: a new temporary directory). */
export async function makeRepo(files: Record<string, string>, dir?: string, opts: RepoOptions = {}): Promise<string> {
  const repo = dir ?? (await tempDir());
  await initRepo(repo, opts);
  await writeFiles(repo, files);
  await commitAll(repo, opts.message ?? 'initial');
  return repo;
}

/** A new repository holding a copy of the directory `source`, in one commit on `main`, in dir (default: a new temporary directory). */
export async function copyRepo(source: string, dir?: string, opts: RepoOptions = {}): Promise<string> {
  const repo = dir ?? (await tempDir());
  await cp(source, repo, { recursive: true });
  return makeRepo({}, repo, opts);
}

/** Run the real bin like a user: node bin/evogit.js ARGS in cwd. Never throws on exit codes. */
export async function evogit(cwd: string, args: string[], env: Record<string, string> = {}): Promise<ProcResult> {
  const bin = path.resolve(import.meta.dirname, '..', '..', 'bin', 'evogit.js');
  return run(process.execPath, [bin, ...args], { cwd, env: { ...GIT_ENV, CI: '1', ...env }, reject: false, timeoutMs: 300_000 });
}

/** Throw-away git repositories for tests. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run, type ProcResult } from '../../src/proc/index.js';

export const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@evogit.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@evogit.invalid',
};

export async function sh(cwd: string, command: string, args: string[]): Promise<ProcResult> {
  return run(command, args, { cwd, env: GIT_ENV });
}

/** git ARGS in cwd with the test identity and no system config; its stdout. Throws when git fails. */
export async function git(cwd: string, args: string[], input?: string): Promise<string> {
  return (await run('git', args, { cwd, env: { ...GIT_ENV, GIT_CONFIG_NOSYSTEM: '1' }, ...(input !== undefined ? { input } : {}) })).stdout;
}

export async function tempDir(prefix = 'evogit-test-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
}

/** A new repository with the given files in one commit on `main`, with a local identity. */
export async function makeRepo(files: Record<string, string>, dir?: string): Promise<string> {
  const repo = dir ?? (await tempDir());
  await sh(repo, 'git', ['init', '--quiet', '--initial-branch=main']);
  await sh(repo, 'git', ['config', 'user.name', 'Test']);
  await sh(repo, 'git', ['config', 'user.email', 'test@evogit.invalid']);
  await writeFiles(repo, files);
  await sh(repo, 'git', ['add', '--all']);
  await sh(repo, 'git', ['commit', '--quiet', '-m', 'initial']);
  return repo;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Run the real bin like a user: node bin/evogit.js ARGS in cwd. Never throws on exit codes. */
export async function evogit(cwd: string, args: string[], env: Record<string, string> = {}): Promise<ProcResult> {
  const bin = path.resolve(import.meta.dirname, '..', '..', 'bin', 'evogit.js');
  return run(process.execPath, [bin, ...args], { cwd, env: { ...GIT_ENV, CI: '1', ...env }, reject: false, timeoutMs: 300_000 });
}

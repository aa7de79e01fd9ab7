/**
 * Helpers for the loop tests: a small evolvable repository (examples/demo), agents started
 * as real `bin/evogit.js` processes in their own process group (so a test can SIGKILL or
 * SIGINT the whole group, like a terminal does), their --json events with arrival times, and
 * independent checks of the repository read with plain git.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { parse, stringify } from 'yaml';
import { run } from '../../src/proc/index.js';
import type { LoopEvent } from '../../src/loop/index.js';
import { copyRepo, evogit, git, GIT_ENV, gitResult, revParse, tempDir } from '../helpers/repo.js';

export const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'evogit.js');
const DEMO = path.resolve(import.meta.dirname, '..', '..', 'examples', 'demo');

/**
 * examples/demo in a new repo, committed and `evogit init`ed: 3 tasks (one per test file), and
 * a fixed 5 s task limit unless `test` says otherwise.
 */
export async function demoRepo(dir?: string, test: Record<string, unknown> = { timeout: '5s' }): Promise<string> {
  const repo = await copyRepo(DEMO, dir ?? (await tempDir('evogit-loop-')), { message: 'base' });
  const r = await evogit(repo, ['init']);
  if (r.exitCode !== 0) throw new Error(`evogit init failed: ${r.stderr}`);
  // Mutations can make a test loop forever: a short task timeout keeps the suite quick.
  const file = path.join(repo, 'evogit.yml');
  const config = parse(await readFile(file, 'utf8')) as { test: Record<string, unknown> };
  Object.assign(config.test, test);
  await writeFile(file, stringify(config));
  await git(repo, ['commit', '--quiet', '-am', 'evogit: test settings']);
  return repo;
}

export async function archiveRoot(repo: string): Promise<string> {
  return revParse(repo, 'evo/root');
}

export type Timed = LoopEvent & { arrived: number };

export interface Started {
  pid: number;
  events: Timed[];
  stderr: string[];
  /** Resolves with the exit code (null when killed) and signal. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signal the whole process group (the agents of a `run` too). */
  signalGroup: (signal: NodeJS.Signals) => void;
}

/** Start `evogit ARGS --json` in its own process group, collecting its events as they arrive. */
export function start(cwd: string, args: string[]): Started {
  const child = spawn(process.execPath, [BIN, ...args, '--json'], {
    cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...GIT_ENV, CI: '1' },
  });
  const events: Timed[] = [];
  const stderr: string[] = [];
  let rest = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    const arrived = Date.now();
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as LoopEvent;
        events.push({ ...e, arrived });
      } catch {
        stderr.push(`stdout: ${line}`);
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) if (line.trim() && !line.includes('isolates NOTHING')) stderr.push(line);
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const pid = child.pid as number;
  return {
    pid,
    events,
    stderr,
    exit,
    signalGroup: (signal) => {
      try {
        process.kill(-pid, signal);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    },
  };
}

/** Wait until `until()` holds, polling; throws after timeoutMs. */
export async function waitFor(until: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!until()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every evaluation line of every writer's notes, read with plain git (not the archive code). */
export async function noteLines(repo: string): Promise<{ node: string; task: string; outcome: string; writer: string; timeoutMs?: number }[]> {
  const out: { node: string; task: string; outcome: string; writer: string; timeoutMs?: number }[] = [];
  const refs = (await git(repo, ['for-each-ref', '--format=%(refname)', 'refs/notes/evogit/'])).split('\n').filter(Boolean);
  for (const ref of refs) {
    const list = (await git(repo, ['notes', `--ref=${ref}`, 'list'])).split('\n').filter(Boolean);
    const blobs = list.map((l) => l.split(' ')[0] as string);
    if (blobs.length === 0) continue;
    const text = await git(repo, ['cat-file', '--batch'], blobs.join('\n') + '\n');
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as { node: string; task: string; outcome: string; writer: string; timeoutMs?: number };
      out.push({ node: e.node, task: e.task, outcome: e.outcome, writer: e.writer, ...(e.timeoutMs !== undefined ? { timeoutMs: e.timeoutMs } : {}) });
    }
  }
  return out;
}

/** Node branches (not the root): short name → commit. */
export async function nodeBranches(repo: string, prefix = 'evo'): Promise<Map<string, string>> {
  const out = await git(repo, ['for-each-ref', '--format=%(refname:short)%00%(objectname)', `refs/heads/${prefix}/`]);
  const map = new Map<string, string>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [name, sha] = line.split('\0') as [string, string];
    if (name !== `${prefix}/root`) map.set(name, sha);
  }
  return map;
}

export async function claimRefs(repo: string): Promise<string[]> {
  return (await git(repo, ['for-each-ref', '--format=%(refname)', 'refs/evogit/claims/'])).split('\n').filter(Boolean);
}

/** The repository is whole and tidy: fsck --strict passes, one worktree, no evogit worktree dirs. */
export async function expectCleanRepo(repo: string): Promise<void> {
  const fsck = await gitResult(repo, ['fsck', '--strict', '--no-progress']);
  expect(fsck.exitCode, fsck.stderr + fsck.stdout).toBe(0);
  expect(fsck.stdout + fsck.stderr).not.toMatch(/^(error|missing|broken|bad)/m);
  const worktrees = (await git(repo, ['worktree', 'list', '--porcelain', '-z'])).split('\0').filter((f) => f.startsWith('worktree '));
  expect(worktrees).toEqual([`worktree ${await git(repo, ['rev-parse', '--show-toplevel']).then((s) => s.trim())}`]);
  const dir = path.join(repo, '.git', 'evogit', 'worktrees');
  const left = await readdir(dir).catch(() => [] as string[]);
  expect(left.filter((f) => !f.endsWith('.pid'))).toEqual([]);
  // No writer's claims directory is still held (Archive.holdClaimsDir).
  expect(await heldClaimsDirs(repo)).toEqual([]);
}

/** The writers whose claims directory is held (a `.keep` in it, Archive.holdClaimsDir), as the files show it. */
export async function heldClaimsDirs(repo: string): Promise<string[]> {
  const claims = await readdir(path.join(repo, '.git', 'refs', 'evogit', 'claims'), { recursive: true }).catch(() => [] as string[]);
  return claims.filter((f) => path.basename(f) === '.keep').map((f) => path.dirname(f));
}

/** Processes still alive in any of these process groups (zombies excluded: this container's init may never reap orphans). */
export async function groupMembers(pgids: number[]): Promise<string[]> {
  const ps = await run('ps', ['-eo', 'pid=,pgid=,stat=,args='], { cwd: '/', reject: false });
  const want = new Set(pgids);
  return ps.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && want.has(Number(l.split(/\s+/)[1])) && !l.split(/\s+/)[2]?.startsWith('Z'));
}

/** A small deterministic PRNG (mulberry32) so chaos runs are reproducible from their seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function counted(lines: { outcome: string }[]): number {
  return lines.filter((l) => l.outcome !== 'error').length;
}

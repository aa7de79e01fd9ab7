import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcError, run, stopForkServers, useForkServers, type ProcOptions, type ProcResult } from './index.js';

/** The shells this process started (the fork servers), by pid. */
function childShells(): string[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').filter((l) => /\bsh$/.test(l.trim()));
}

const comparable = (r: ProcResult) => ({ exitCode: r.exitCode, signal: r.signal, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut });

describe('fork servers: git started by a long-lived shell, with the contract of a direct spawn', () => {
  let dir = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evogit-fork-'));
    await run('git', ['init', '-q'], { cwd: dir });
  });

  afterAll(async () => {
    await stopForkServers();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The same command spawned directly and through a server. */
  async function both(args: string[], options: Omit<ProcOptions, 'cwd'> & { cwd?: string } = {}) {
    const opts = { cwd: dir, reject: false, ...options };
    const direct = await run('git', args, opts);
    useForkServers();
    try {
      return { direct, served: await run('git', args, opts), viaRun: await run('git', args, opts) };
    } finally {
      await stopForkServers();
    }
  }

  it('gives the same output, errors and exit codes as a direct spawn', async () => {
    // Arguments reach git as given: quotes, spaces, newlines, no shell expansion.
    const odd = ["it's", 'two words', 'line\nbreak', '$(touch pwned)', '`id`', '*', '', '\\'];
    for (const args of [['rev-parse', '--sq-quote', ...odd], ['rev-parse', '--verify', 'no-such-rev'], ['hash-object', '--no-such-option'], ['version']]) {
      const { direct, served, viaRun } = await both(args);
      expect(comparable(served)).toEqual(comparable(direct));
      expect(comparable(viaRun)).toEqual(comparable(direct));
    }
    const { served } = await both(['rev-parse', '--verify', 'no-such-rev']);
    expect(served.exitCode).toBe(128);
    expect(served.stderr).toMatch(/Needed a single revision/);
    await expect(
      (async () => {
        useForkServers();
        try {
          return await run('git', ['rev-parse', '--verify', 'no-such-rev'], { cwd: dir });
        } finally {
          await stopForkServers();
        }
      })(),
    ).rejects.toThrow(ProcError);
  });

  it('runs git in the environment and directory a direct spawn would have, with nothing of the shell’s', async () => {
    // git runs the alias through a shell of its own, which prints the environment git was given.
    const args = ['-c', 'alias.showenv=!env | sort; pwd', 'showenv'];
    const extra = { EVOGIT_FORK_TEST: "a 'quoted' value\nover two lines", GIT_AUTHOR_NAME: 'Fork Test' };
    const { direct, served } = await both(args, { env: extra });
    expect(served.stdout).toBe(direct.stdout);
    expect(served.stdout).toContain("EVOGIT_FORK_TEST=a 'quoted' value");
    expect(served.stdout).toContain('GIT_AUTHOR_NAME=Fork Test');
    const clean = await both(args, { cleanEnv: true, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ONLY: '1' } });
    expect(clean.served.stdout).toBe(clean.direct.stdout);
    const sub = join(dir, '.git');
    const inGitDir = await both(['rev-parse', '--is-inside-git-dir'], { cwd: sub });
    expect(inGitDir.served.stdout).toBe('true\n');
  });

  it('reports a missing directory as a failed spawn, as a direct spawn does', async () => {
    const gone = join(dir, 'no-such-dir');
    const direct = await run('git', ['status'], { cwd: gone }).catch((e: unknown) => e);
    useForkServers();
    try {
      const served = await run('git', ['status'], { cwd: gone, reject: false }).catch((e: unknown) => e);
      expect(direct).toBeInstanceOf(ProcError);
      expect(served).toBeInstanceOf(ProcError);
      expect((served as ProcError).result.exitCode).toBeNull();
    } finally {
      await stopForkServers();
    }
  });

  it('passes large outputs whole, serves concurrent calls, and stops a command at its timeout', async () => {
    const big = ['-c', 'alias.big=!head -c 1000000 /dev/zero | tr "\\000" a; printf end', 'big'];
    useForkServers();
    try {
      const calls = await Promise.all([...Array(8).keys()].map((i) => run('git', i % 2 ? big : ['rev-parse', '--sq-quote', `n${i}`], { cwd: dir })));
      for (const [i, r] of calls.entries()) {
        if (i % 2) expect(r.stdout).toBe(`${'a'.repeat(1_000_000)}end`);
        else expect(r.stdout).toBe(` 'n${i}'\n`);
      }
      const started = Date.now();
      const slow = await run('git', ['-c', 'alias.slow=!printf "what it printed before it hung"; printf "its last words" >&2; sleep 30', 'slow'], { cwd: dir, timeoutMs: 500, reject: false });
      expect(slow.timedOut).toBe(true);
      // All of it, the tail held back while looking for the end marker included.
      expect(slow.stdout).toBe('what it printed before it hung');
      expect(slow.stderr).toBe('its last words');
      expect(slow.exitCode).toBeNull();
      expect(Date.now() - started).toBeLessThan(10_000);
      // The next call gets a fresh shell.
      expect((await run('git', ['rev-parse', '--is-inside-work-tree'], { cwd: dir })).stdout).toBe('true\n');
      const aborted = new AbortController();
      setTimeout(() => aborted.abort(), 200);
      const stopped = await run('git', ['-c', 'alias.slow=!sleep 30', 'slow'], { cwd: dir, signal: aborted.signal, reject: false });
      expect(stopped.signal).not.toBeNull();
    } finally {
      await stopForkServers();
    }
    // Stopped means gone: no shell of ours is left.
    expect(childShells()).toEqual([]);
  });

  it('is counted: one user stopping leaves the servers to the others', async () => {
    useForkServers();
    useForkServers();
    await run('git', ['version'], { cwd: dir });
    await stopForkServers();
    expect(childShells().length).toBeGreaterThan(0);
    await stopForkServers();
    expect(childShells()).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { openPipe, ProcError, run } from './index.js';
import { processAlive } from '../loop/lock.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cwd = process.cwd();
const printEnv = ['-e', 'process.stdout.write(JSON.stringify(process.env))'];

describe('run: one-shot children', () => {
  it('scrubs secrets from the environment, as run does, and passes the extra variables', async () => {
    process.env.EVOGIT_TEST_API_KEY = 'sk-secret';
    process.env.GITHUB_TOKEN_EVOGIT_TEST = 'ghp-secret';
    try {
      const r = await run(process.execPath, printEnv, { cwd, env: { EXTRA: 'yes' } });
      const env = JSON.parse(r.stdout) as Record<string, string>;
      expect(env.EVOGIT_TEST_API_KEY).toBeUndefined();
      expect(env.GITHUB_TOKEN_EVOGIT_TEST).toBeUndefined();
      expect(env.EXTRA).toBe('yes');
      expect(env.PATH).toBe(process.env.PATH);
      const clean = await run(process.execPath, printEnv, { cwd, cleanEnv: true, env: { ONLY: '1' } });
      expect(Object.keys(JSON.parse(clean.stdout) as object).filter((k) => k !== 'ONLY')).toEqual([]);
    } finally {
      delete process.env.EVOGIT_TEST_API_KEY;
      delete process.env.GITHUB_TOKEN_EVOGIT_TEST;
    }
  });

  it('a failing git command throws ProcError with git’s stderr; reject: false resolves with it', async () => {
    const err = await run('git', ['rev-parse', '--verify', 'no-such-rev-evogit'], { cwd }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcError);
    const result = (err as ProcError).result;
    expect(result.exitCode).toBe(128);
    expect(result.stderr).toMatch(/fatal/);
    expect((err as Error).message).toMatch(/git rev-parse --verify no-such-rev-evogit exited with 128/);
    const soft = await run('git', ['rev-parse', '--verify', 'no-such-rev-evogit'], { cwd, reject: false });
    expect(soft.exitCode).toBe(128);
  });

  it('feeds input, returns stdout, and reports a missing command, a timeout and an abort', async () => {
    const echo = await run(process.execPath, ['-e', 'process.stdin.pipe(process.stdout)'], { cwd, input: 'ü\nline\n' });
    expect(echo.stdout).toBe('ü\nline\n');
    expect(echo.exitCode).toBe(0);
    await expect(run('evogit-no-such-command', [], { cwd })).rejects.toThrow(ProcError);
    const slow = await run(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { cwd, timeoutMs: 200, reject: false });
    expect(slow.timedOut).toBe(true);
    expect(slow.signal).toBe('SIGTERM');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const aborted = await run(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { cwd, signal: ac.signal, reject: false });
    expect(aborted.signal).toBe('SIGTERM');
    const big = await run(process.execPath, ['-e', 'process.stdout.write("x".repeat(100000))'], { cwd, maxBuffer: 1000, reject: false });
    expect(big.stderr).toMatch(/output exceeded maxBuffer \(1000 bytes\)/);
    await expect(run(process.execPath, ['-e', 'process.stdout.write("x".repeat(100000))'], { cwd, maxBuffer: 1000 })).rejects.toThrow(/maxBuffer/);
  });
});

describe('openPipe', () => {
  it('answers requests in order, and reports the exit of a child that died', async () => {
    // A line-echo server that dies on "die".
    const script = 'require("readline").createInterface({input: process.stdin}).on("line", (l) => { if (l === "die") { process.stderr.write("dying\\n"); process.exit(3); } process.stdout.write(l.toUpperCase() + "\\n"); })';
    const pipe = openPipe(process.execPath, ['-e', script], { cwd });
    const answers = await Promise.all(['a', 'b', 'c'].map((x) => pipe.ask(`${x}\n`, (r) => r.line())));
    expect(answers).toEqual(['A', 'B', 'C']);
    expect(await pipe.ask('die\n', (r) => r.line())).toBeNull();
    const ended = await pipe.exited;
    expect(ended.exitCode).toBe(3);
    expect(ended.stderr).toBe('dying\n');
    expect(pipe.alive).toBe(false);
    // Asking a dead child reads the end of its output, never hangs.
    expect(await pipe.ask('again\n', (r) => r.line())).toBeNull();
  });
});

describe('run with ownGroup', () => {
  // Gone or a zombie (this container's init may never reap an orphan).
  const waitGone = async (pid: number) => {
    for (let i = 0; i < 100 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    return !processAlive(pid);
  };

  it('ends what the command left running in the background, which keeps neither its pipes nor the caller waiting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evogit-group-'));
    try {
      // A daemon that keeps stdout open, and would write into the directory half a minute later.
      const script = '(sleep 30; echo late > late.txt) & echo $! > daemon.pid; echo started';
      const started = Date.now();
      const r = await run('/bin/sh', ['-c', script], { cwd: dir, ownGroup: true, reject: false });
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe('started\n');
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(await waitGone(Number(readFileSync(join(dir, 'daemon.pid'), 'utf8')))).toBe(true);
      expect(existsSync(join(dir, 'late.txt'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('ends the group on a timeout too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evogit-group-'));
    try {
      const r = await run('/bin/sh', ['-c', 'sleep 30 & echo $! > daemon.pid; sleep 30'], { cwd: dir, ownGroup: true, timeoutMs: 300, reject: false });
      expect(r.timedOut).toBe(true);
      expect(await waitGone(Number(readFileSync(join(dir, 'daemon.pid'), 'utf8')))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

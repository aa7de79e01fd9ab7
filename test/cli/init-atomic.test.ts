/**
 * `evogit init` is atomic: killed (SIGKILL) before any of its git commands, it leaves the
 * repository exactly as it found it, or (past its one ref transaction) a root that the next
 * `evogit init` finishes; either way `evogit init` and `evogit status` then succeed.
 * The kill comes from a `git` on PATH that counts the calls and kills evogit's process group at
 * the chosen one, before it runs: every point between two git commands is tried.
 */
import { spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyRepo, evogit, git, removedAfterAll, revParse, sh, tempDir } from '../helpers/repo.js';
import { BIN } from '../loop/helpers.js';

const DEMO = path.resolve(import.meta.dirname, '..', '..', 'examples', 'demo');
const dirs = removedAfterAll();

// procps' kill: dash's own takes "-PGID" for an option.
const SHIM = `#!/bin/sh
n=$(($(cat "$EVOGIT_SHIM_COUNT") + 1))
echo "$n" > "$EVOGIT_SHIM_COUNT"
if [ "$n" = "$EVOGIT_SHIM_KILL_AT" ]; then /bin/kill -s KILL -- -$(ps -o pgid= -p $$ | tr -d ' '); exit 137; fi
exec "$EVOGIT_REAL_GIT" "$@"
`;

async function shim(): Promise<string> {
  const dir = await tempDir('evogit-git-shim-');
  dirs.push(dir);
  await writeFile(path.join(dir, 'git'), SHIM);
  await chmod(path.join(dir, 'git'), 0o755);
  await writeFile(path.join(dir, 'count'), '0');
  return dir;
}

/** `evogit init` with the shim, in its own process group, killed before its `killAt`-th git call. */
async function initWithShim(repo: string, killAt: number): Promise<{ killed: boolean }> {
  const dir = await shim();
  const realGit = (await sh(repo, 'sh', ['-c', 'command -v git'])).stdout.trim();
  const child = spawn(process.execPath, [BIN, 'init', '--sandbox', 'local'], {
    cwd: repo,
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, EVOGIT_SHIM_COUNT: path.join(dir, 'count'), EVOGIT_SHIM_KILL_AT: String(killAt), EVOGIT_REAL_GIT: realGit, CI: '1' },
  });
  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (c, s) => resolve({ code: c, signal: s })));
  if (signal !== 'SIGKILL') expect(code, 'an init that was not killed succeeds').toBe(0);
  return { killed: signal === 'SIGKILL' };
}

async function freshRepo(): Promise<string> {
  const repo = await copyRepo(DEMO, await tempDir('evogit-init-kill-'), { message: 'base' });
  dirs.push(repo);
  // A staged change of the user's own: init must leave it staged and out of the root.
  await writeFile(path.join(repo, 'NOTES.md'), 'mine\n');
  await git(repo, ['add', 'NOTES.md']);
  return repo;
}

/** What a person sees of a repository: its refs, HEAD, index and working tree status, and whether evogit.yml exists. */
async function state(repo: string): Promise<string> {
  const refs = await git(repo, ['for-each-ref', '--format=%(refname) %(objectname)']);
  const status = await git(repo, ['status', '--porcelain=v1', '--untracked-files=all']);
  const head = await git(repo, ['rev-parse', 'HEAD']);
  return `${refs}\n${head}\n${status}`;
}

describe('evogit init killed at each step', () => {
  it('leaves the repository as it was or finishes on the next init; status works after', async () => {
    // Killed before its 1st, 2nd, … git call, until an init gets through all of them.
    let k = 1;
    for (; ; k++) {
      const repo = await freshRepo();
      const before = await state(repo);
      const { killed } = await initWithShim(repo, k);
      if (!killed) {
        expect((await evogit(repo, ['status'])).exitCode).toBe(0);
        break;
      }
      const rootAfterKill = await git(repo, ['rev-parse', '--verify', '--quiet', 'evo/root']).catch(() => null);
      // Either nothing happened, or the commit point was passed (the root exists and is HEAD).
      if (rootAfterKill === null) expect(await state(repo), `state after a kill at git call ${k}`).toBe(before);
      else expect(rootAfterKill.trim()).toBe(await revParse(repo, 'HEAD'));

      const again = await evogit(repo, ['init', '--sandbox', 'local']);
      expect(again.exitCode, `init after a kill at git call ${k}: ${again.stderr}`).toBe(0);
      const status = await evogit(repo, ['status']);
      expect(status.exitCode, `status after a kill at git call ${k}: ${status.stderr}`).toBe(0);
      // The root is HEAD + evogit.yml; the user's staged change is still staged, and not in it.
      expect((await git(repo, ['show', '--name-only', '--format=', 'evo/root'])).trim()).toBe('evogit.yml');
      expect(await git(repo, ['status', '--porcelain=v1'])).toBe('A  NOTES.md\n');
    }
    // Every step was tried: an init makes a dozen git calls (its one ref transaction among them).
    expect(k).toBeGreaterThan(10);
  }, 300_000);
});

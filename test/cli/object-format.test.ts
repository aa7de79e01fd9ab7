/**
 * evogit on both of git's object formats, like a user: SHA-1 and SHA-256 (git's announced
 * default for 3.0). init, a short run of two agents sharing a bare remote, status, best, a
 * second clone that joins through the remote, prune, and `git fsck --strict` clean everywhere.
 * Ref storage: only the files backend here (git 2.39 has no reftable).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyRepo, evogit, git, gitResult, initRepo, removedAfterAll, revParse, tempDir } from '../helpers/repo.js';

const DEMO = path.resolve(import.meta.dirname, '..', '..', 'examples', 'demo');
const dirs = removedAfterAll();

async function fsckClean(dir: string): Promise<void> {
  const r = await gitResult(dir, ['fsck', '--strict', '--no-progress']);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout + r.stderr).not.toMatch(/^(error|missing|broken|bad)/m);
}

describe.each(['sha1', 'sha256'] as const)('evogit on a %s repository', (format) => {
  it('inits, runs two agents through a remote, reports, joins from a clone, prunes; fsck stays clean', async () => {
    const repo = await tempDir(`evogit-${format}-`);
    const bare = await tempDir(`evogit-${format}-bare-`);
    const clone = await tempDir(`evogit-${format}-clone-`);
    dirs.push(repo, bare, clone);
    await copyRepo(DEMO, repo, { message: 'base', objectFormat: format });
    await initRepo(bare, { bare: true, objectFormat: format });

    const init = await evogit(repo, ['init', '--sandbox', 'local']);
    expect(init.exitCode, init.stderr).toBe(0);
    // The project with its evogit.yml is shared as usual; the archive's root goes with the first agent.
    await git(repo, ['push', '--quiet', bare, 'main']);
    const hex = format === 'sha1' ? 40 : 64;
    const root = await revParse(repo, 'evo/root');
    expect(root).toHaveLength(hex);

    const run = await evogit(repo, ['run', '--agents', '2', '--max-evals', '8', '--remote', bare, '--seed', '1']);
    expect(run.exitCode, run.stderr).toBe(0);
    // The two agents share this repository: neither takes the remote's (older) copy of the
    // other's refs, so no released claim comes back to be waited for.
    expect(run.stderr).not.toContain('waiting for');
    const status = JSON.parse((await evogit(repo, ['status', '--json'])).stdout) as { nodes: { id: string; branch: string | null }[]; evaluations: number };
    expect(status.evaluations).toBe(8);
    expect(status.nodes.length).toBeGreaterThan(1);
    for (const n of status.nodes) expect(n.id).toHaveLength(hex);
    const best = await evogit(repo, ['best', '--json']);
    expect(best.exitCode, best.stderr).toBe(0);

    // Another machine: a clone of the remote joins, sees the others' nodes and adds its own.
    await git(clone, ['clone', '--quiet', bare, '.']);
    const joined = await evogit(clone, ['agent', '--remote', 'origin', '--writer', 'far', '--max-evals', '11', '--seed', '2']);
    expect(joined.exitCode, joined.stderr).toBe(0);
    const there = JSON.parse((await evogit(clone, ['status', '--json'])).stdout) as { nodes: { id: string }[]; evaluations: number };
    expect(there.evaluations).toBe(11);
    expect(there.nodes.map((n) => n.id)).toEqual(expect.arrayContaining(status.nodes.map((n) => n.id)));

    const victim = status.nodes.find((n) => n.branch && n.id !== root)!;
    const prune = await evogit(repo, ['prune', victim.branch!]);
    expect(prune.exitCode, prune.stderr).toBe(0);
    expect(await git(repo, ['branch', '--list', victim.branch!])).toBe('');

    for (const d of [repo, clone, bare]) await fsckClean(d);
  }, 180_000);
});

/**
 * Joining a shared remote must lose nothing: a remote without the archive gets this
 * repository's root, this machine's own earlier nodes and notes stay, and a remote that cannot
 * hold the archive (another root, another object format) is refused before anything changes.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Archive } from '../../src/archive/index.js';
import { EvogitError } from '../../src/errors/index.js';
import { git, initRepo, revParse } from '../helpers/repo.js';
import { cleanup, evaluation, baseRepo, tempDir, treeWith } from './helpers.js';

afterAll(cleanup);

/** Every ref but the fetch's own staging mirror (refs/evogit/remotes/). */
async function refs(dir: string): Promise<string> {
  return (await git(dir, ['for-each-ref', '--format=%(refname) %(objectname)'])).split('\n').filter((l) => !l.startsWith('refs/evogit/remotes/')).join('\n');
}

/** A repository with a root and two local writers' nodes and notes, as a local `evogit run` leaves it. */
async function localArchive(): Promise<{ dir: string; archive: Archive; nodes: string[] }> {
  const { dir, base } = await baseRepo();
  const archive = await Archive.open({ repoDir: dir });
  await archive.createRoot(base);
  const a = await archive.writeNode({ writer: 'a1', parents: [base], tree: await treeWith(dir, 'a'), message: 'a', agent: 'a1', operator: 'mutate' });
  const b = await archive.writeNode({ writer: 'a2', parents: [a.id], tree: await treeWith(dir, 'b'), message: 'b', agent: 'a2', operator: 'mutate' });
  await archive.appendEvaluations('a1', [evaluation(a.id, 't1', 'pass', 'a1')]);
  await archive.appendEvaluations('a2', [evaluation(b.id, 't1', 'fail', 'a2')]);
  return { dir, archive, nodes: [a.id, b.id] };
}

describe('Archive.fetch from a remote that lacks the archive', () => {
  it("keeps this machine's root, nodes and notes, and publishes the root so others can join", async () => {
    const { dir, archive, nodes } = await localArchive();
    const remote = join(await tempDir(), 'empty.git');
    await initRepo(remote, { bare: true });
    const before = await refs(dir);

    await archive.fetch(remote, 'host-a1');
    expect(await refs(dir)).toBe(before);
    const snap = await archive.load();
    expect(snap.nodes.map((n) => n.id)).toEqual(expect.arrayContaining(nodes));
    expect(snap.evaluations.get(nodes[0]!)).toHaveLength(1);
    // The root is on the remote now (and nothing else of ours: each writer pushes its own).
    expect((await git(remote, ['for-each-ref', '--format=%(refname) %(objectname)'])).trim()).toBe(`refs/heads/evo/root ${snap.root}`);

    // A second fetch changes nothing either; a clone that joins gets the root.
    await archive.fetch(remote, 'host-a1');
    expect(await refs(dir)).toBe(before);
    const other = join(await tempDir(), 'other');
    await git(dir, ['clone', '-q', remote, other]);
    const joined = await Archive.open({ repoDir: other });
    await joined.fetch(remote, 'other-a1');
    expect(await joined.root()).toBe(snap.root);
  });

  it('refuses a remote whose archive has another root, and changes nothing', async () => {
    const { dir, archive } = await localArchive();
    const elsewhere = await baseRepo();
    await git(elsewhere.dir, ['commit', '-q', '--allow-empty', '-m', 'another project']);
    elsewhere.base = await revParse(elsewhere.dir);
    const remote = join(await tempDir(), 'other-root.git');
    await initRepo(remote, { bare: true });
    await git(elsewhere.dir, ['push', '-q', remote, `${elsewhere.base}:refs/heads/evo/root`]);
    const before = await refs(dir);
    const err = await archive.fetch(remote, 'host-a1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EvogitError);
    expect((err as EvogitError).code).toBe('E_ROOT_MISMATCH');
    expect((err as EvogitError).exitCode).toBe(1);
    expect((err as EvogitError).hint).toContain('Nothing was changed');
    expect(await refs(dir)).toBe(before);
  });

  it('refuses a remote in another object format in words that say so, and changes nothing', async () => {
    const { dir, archive } = await localArchive();
    const remote = join(await tempDir(), 'sha256.git');
    await initRepo(remote, { bare: true, objectFormat: 'sha256' });
    const before = await refs(dir);
    const err = await archive.fetch(remote, 'host-a1').catch((e: unknown) => e);
    expect((err as EvogitError).code).toBe('E_OBJECT_FORMAT');
    expect((err as EvogitError).message).toContain('another format than this repository (sha1)');
    expect(await refs(dir)).toBe(before);
  });
});

/** A person prunes on the shared remote: the writer of the branch must not bring it back. */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Archive } from '../../src/archive/index.js';
import { git, initRepo } from '../helpers/repo.js';
import { cleanup, baseRepo, tempDir, treeWith } from './helpers.js';

afterAll(cleanup);

describe('Archive: pruning on the shared remote', () => {
  it('drops an own branch that was deleted on the remote and never pushes it again', async () => {
    const { dir: seed, base } = await baseRepo();
    const remote = join(await tempDir(), 'shared.git');
    await initRepo(remote, { bare: true });
    const seedArchive = await Archive.open({ repoDir: seed });
    await seedArchive.createRoot(base);
    await git(seed, ['push', '-q', remote, 'main', 'evo/root']);

    const dir = join(await tempDir(), 'agent');
    await git(seed, ['clone', '-q', remote, dir]);
    const archive = await Archive.open({ repoDir: dir });
    await archive.fetch(remote, 'w1');
    const a = await archive.writeNode({ writer: 'w1', parents: [base], tree: await treeWith(dir, 'a'), message: 'a', agent: 'w1', operator: 'mutate' });
    const b = await archive.writeNode({ writer: 'w1', parents: [a.id], tree: await treeWith(dir, 'b'), message: 'b', agent: 'w1', operator: 'mutate' });
    await archive.push(remote, 'w1');
    expect(await git(remote, ['for-each-ref', '--format=%(refname)', 'refs/heads/evo/w1/'])).toContain(b.branch!);

    // A reviewer deletes b's branch on the remote, with plain git.
    const reviewer = join(await tempDir(), 'reviewer');
    await git(seed, ['clone', '-q', remote, reviewer]);
    await git(reviewer, ['push', '-q', 'origin', '--delete', b.branch!]);

    await archive.fetch(remote, 'w1');
    const snap = await archive.load();
    expect(snap.nodes.find((n) => n.id === b.id)).toBeUndefined();
    expect(snap.nodes.find((n) => n.id === a.id)?.pruned).toBe(false);

    // A new node and a push: the pruned branch does not come back, the new one arrives.
    const c = await archive.writeNode({ writer: 'w1', parents: [a.id], tree: await treeWith(dir, 'c'), message: 'c', agent: 'w1', operator: 'mutate' });
    await archive.push(remote, 'w1');
    const onRemote = await git(remote, ['for-each-ref', '--format=%(refname:short)', 'refs/heads/evo/w1/']);
    expect(onRemote).toContain(c.branch!);
    expect(onRemote).not.toContain(b.branch!);
  });
});

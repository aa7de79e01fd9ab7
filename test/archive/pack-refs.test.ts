/**
 * A loop writes one loose ref file per node, and every refresh looks at each of them: a loop's
 * archive has git pack them once enough are loose, so a long run's refreshes stay as cheap as
 * a short one's. A read-only archive (status, best) never writes to the ref store.
 */
import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Archive } from '../../src/archive/index.js';
import { git } from '../helpers/repo.js';
import { baseRepo, cleanup, evaluation, treeWith } from './helpers.js';

afterAll(cleanup);

/** The loose ref files under .git/refs/heads/evo (what a refresh stats one by one). */
async function looseBranches(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(dir, '.git', 'refs', 'heads', 'evo'), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.relative(path.join(dir, '.git', 'refs', 'heads'), path.join(e.parentPath, e.name)));
}

async function writeNodes(archive: Archive, dir: string, base: string, count: number, from = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < from + count; i++) {
    const node = await archive.writeNode({ writer: 'a1', parents: [base], tree: await treeWith(dir, `try ${i}\n`), message: `try ${i}`, agent: 'mutate', operator: 'mutate' });
    ids.push(node.id);
  }
  await archive.appendEvaluations('a1', ids.map((id) => evaluation(id, 't', 'pass', 'a1')));
  return ids;
}

describe("a loop's archive keeps its refs packed", () => {
  it('packs the loose refs once enough are loose, and loses no node, branch or evaluation', async () => {
    const { dir, base } = await baseRepo();
    const archive = await Archive.open({ repoDir: dir, keepGitOpen: true, packRefsAt: 20 });
    await archive.createRoot('HEAD');
    const first = await writeNodes(archive, dir, base, 15);
    await archive.load();
    // 15 branches, the root and the notes ref are 17 loose refs: under 20, nothing is packed.
    expect(await looseBranches(dir)).toHaveLength(16);

    const second = await writeNodes(archive, dir, base, 10, 15);
    const before = await git(dir, ['for-each-ref', '--format=%(refname) %(objectname)']);
    const seen = await archive.load();
    expect(seen.nodes).toHaveLength(26);
    // The pack runs after the snapshot is handed over and before the next load.
    const after = await archive.load();
    expect(await looseBranches(dir)).toEqual([]);
    expect(await git(dir, ['for-each-ref', '--format=%(refname) %(objectname)'])).toBe(before);
    expect(after.nodes.map((n) => [n.id, n.branch])).toEqual(seen.nodes.map((n) => [n.id, n.branch]));
    for (const id of [...first, ...second]) expect(after.evaluations.get(id)?.map((e) => e.outcome)).toEqual(['pass']);

    // Writing goes on over packed refs: a new branch is loose again, and is seen.
    const third = await writeNodes(archive, dir, base, 1, 25);
    const next = await archive.load();
    expect(next.nodes.map((n) => n.id)).toContain(third[0]);
    expect(await looseBranches(dir)).toEqual([expect.stringMatching(/^evo\/a1\//)]);
    await archive.close();
    expect((await git(dir, ['fsck', '--no-progress', '--no-dangling', '--strict'])).trim()).toBe('');
  });

  it('a pack that fails (packed-refs locked by another process) is tried again at the next refresh', async () => {
    const { dir, base } = await baseRepo();
    const archive = await Archive.open({ repoDir: dir, keepGitOpen: true, packRefsAt: 10 });
    await archive.createRoot('HEAD');
    await writeNodes(archive, dir, base, 12);
    const lock = path.join(dir, '.git', 'packed-refs.lock');
    await writeFile(lock, '');
    await archive.load();
    await archive.load();
    // close() waits for the pack under way (it waits for the lock for a second, then gives up).
    await archive.close();
    expect(await looseBranches(dir)).toHaveLength(13);
    await rm(lock);
    await writeNodes(archive, dir, base, 1, 12);
    await archive.load();
    await archive.load();
    expect(await looseBranches(dir)).toEqual([]);
    await archive.close();
  });

  it('an archive opened to read (status, best) leaves the ref files alone', async () => {
    const { dir, base } = await baseRepo();
    const writer = await Archive.open({ repoDir: dir });
    await writer.createRoot('HEAD');
    await writeNodes(writer, dir, base, 10);
    const reader = await Archive.open({ repoDir: dir, packRefsAt: 5 });
    await reader.load();
    await reader.load();
    await reader.close();
    expect(await looseBranches(dir)).toHaveLength(11);
  });
});

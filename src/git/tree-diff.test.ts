import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Git, parseDiffTree, parseNulList } from './index.js';

/**
 * Git.diffTrees (a JS walk over the kept-open cat-file) must list what `git diff-tree -r -z
 * --no-renames` and `git diff --name-only -z --no-renames` list, in the same order, or give
 * up (null); checked on generated pairs of trees in a real repository.
 */
describe('Git.diffTrees equals git diff-tree (a real repository)', () => {
  let dir = '';
  let git: Git;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evogit-treediff-'));
    git = new Git(dir);
    await git.run(['init', '-q']);
    git.keepOpen();
  });

  afterAll(async () => {
    await git?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const names = ['a', 'a.txt', 'a-b', 'a/x', 'a/b/c', 'a/b/d', 'b/x', 'b/y/z', 'dir/sub/f', 'dir/sub/g', 'z', 'ü/é.txt', 'ü.txt', 'aa/bb/cc/dd'];
  type Kind = 'one' | 'two' | 'exec' | 'link';
  const state = fc.dictionary(fc.constantFrom(...names), fc.constantFrom<Kind>('one', 'two', 'exec', 'link'), { maxKeys: 9 }).map((files) => {
    // A path cannot be a file and a directory at once: drop files under another file.
    const keys = Object.keys(files).sort();
    return Object.fromEntries(Object.entries(files).filter(([p]) => !keys.some((q) => p.startsWith(`${q}/`))));
  });

  /** The tree of one state, written through a scratch work tree. */
  async function treeOf(files: Record<string, Kind>, n: number): Promise<string> {
    const work = join(dir, `w${n}`);
    await mkdir(work);
    for (const [p, kind] of Object.entries(files)) {
      const f = join(work, p);
      await mkdir(dirname(f), { recursive: true });
      if (kind === 'link') await symlink('target', f);
      else await writeFile(f, kind === 'two' ? 'two\n' : 'one\n', { mode: kind === 'exec' ? 0o755 : 0o644 });
    }
    const env = { GIT_INDEX_FILE: join(dir, `.git/index-${n}`), GIT_WORK_TREE: work };
    await git.run(['add', '--all', '.'], { env });
    return (await git.out(['write-tree'], { env })).trim();
  }

  it('lists the same changes as diff-tree and diff --name-only, in the same order', async () => {
    const pairs = fc.sample(fc.tuple(state, state), { numRuns: 40, seed: 7 });
    let n = 0;
    let nonEmpty = 0;
    for (const [x, y] of pairs) {
      const [a, b] = [await treeOf(x, n++), await treeOf(y, n++)];
      const ours = await git.diffTrees(a, b);
      expect(ours).not.toBeNull();
      const theirs = parseDiffTree(await git.out(['diff-tree', '-r', '-z', '--no-renames', a, b]));
      expect(ours!.map((c) => ({ status: c.status, sha: c.sha ?? '0'.repeat(40), path: c.path }))).toEqual(theirs);
      expect(ours!.map((c) => c.path)).toEqual(parseNulList(await git.out(['diff', '--name-only', '-z', '--no-renames', a, b])));
      if (theirs.length > 0) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(30);
  });

  it('gives up past its budget, and without kept-open git', async () => {
    const a = await treeOf({ 'a/b/c': 'one', 'd/e': 'one' }, 1000);
    const b = await treeOf({ 'a/b/c': 'two', 'd/e': 'two' }, 1001);
    expect(await git.diffTrees(a, b, { maxTrees: 5 })).toBeNull();
    expect(await git.diffTrees(a, b, { maxTrees: 6 })).toHaveLength(2);
    expect(await new Git(dir).diffTrees(a, b)).toBeNull();
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { symlink, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RefFiles, FOR_EACH_REF_FORMAT } from '../../src/git/index.js';
import { RefLayout } from '../../src/archive/refs.js';
import { git } from '../helpers/repo.js';
import { cleanup, baseRepo } from './helpers.js';

afterAll(cleanup);

const PATTERNS = new RefLayout('evo').readPatterns;

function forEachRef(dir: string): Promise<string> {
  return git(dir, ['for-each-ref', `--format=${FOR_EACH_REF_FORMAT}`, ...PATTERNS]);
}

describe('RefFiles: the ref listing read from the files, as for-each-ref prints it', () => {
  // Trusting every unchanged stat at once (racy window 0) too: git replaces ref files, never rewrites them in place.
  it.each([['the default racy window', undefined], ['no racy window', 0n]])('matches git through loose writes, updates, deletions, pack-refs and same-tick rewrites (%s)', async (_, racyMs) => {
    const { dir, base } = await baseRepo();
    const blob = (await git(dir, ['hash-object', '-w', '--stdin'], 'claim')).trim();
    const commits = [base];
    for (let i = 0; i < 4; i++) commits.push((await git(dir, ['commit-tree', `${base}^{tree}`, '-p', base, '-m', `c${i}`])).trim());
    const live = new RefFiles(join(dir, '.git'), PATTERNS, racyMs);
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const names = ['refs/heads/evo/root', 'refs/heads/evo/a/1', 'refs/heads/evo/a/2', 'refs/heads/evo/b/10', 'refs/notes/evogit/a', 'refs/evogit/claims/a/x1', 'refs/tags/evo-promoted/abc', 'refs/heads/other', 'refs/heads/evo-x/1'];
    let checked = 0;
    for (let step = 0; step < 80; step++) {
      const what = rand(6);
      const ref = names[rand(names.length)] as string;
      const target = ref.startsWith('refs/evogit/claims/') ? blob : (commits[rand(commits.length)] as string);
      if (what < 3) await git(dir, ['update-ref', ref, target]);
      else if (what < 4) await git(dir, ['update-ref', '-d', ref]);
      else if (what < 5) await git(dir, ['pack-refs', '--all', ...(rand(2) ? ['--no-prune'] : [])]);
      else {
        // Two rewrites of packed-refs within one clock tick: a stat check alone could miss the second.
        await git(dir, ['update-ref', ref, target]);
        await git(dir, ['pack-refs', '--all']);
        await git(dir, ['update-ref', ref, commits[(commits.indexOf(target) + 1) % commits.length] as string]);
        await git(dir, ['pack-refs', '--all']);
      }
      const expected = await forEachRef(dir);
      expect(live.list()).toBe(expected);
      expect(new RefFiles(join(dir, '.git'), PATTERNS).list()).toBe(expected);
      checked += expected.split('\n').length;
    }
    expect(checked).toBeGreaterThan(80);
  });

  it('sees a loose ref file rewritten in place within the same clock tick (not only replaced)', async () => {
    const { dir, base } = await baseRepo();
    const other = (await git(dir, ['commit-tree', `${base}^{tree}`, '-p', base, '-m', 'other'])).trim();
    await git(dir, ['update-ref', 'refs/heads/evo/a/1', base]);
    const files = new RefFiles(join(dir, '.git'), PATTERNS);
    expect(files.list()).toBe(await forEachRef(dir));
    // Same size, same inode, most likely the same timestamp: only reading the file again tells.
    await writeFile(join(dir, '.git', 'refs', 'heads', 'evo', 'a', '1'), `${other}\n`);
    expect(files.list()).toBe(await forEachRef(dir));
    expect(files.list()).toContain(other);
  });

  it('hands over to git for what it does not read itself: symbolic refs and odd names', async () => {
    const { dir, base } = await baseRepo();
    await git(dir, ['update-ref', 'refs/heads/evo/a/1', base]);
    const files = new RefFiles(join(dir, '.git'), PATTERNS);
    expect(files.list()).toBe(await forEachRef(dir));
    await git(dir, ['symbolic-ref', 'refs/heads/evo/a/2', 'refs/heads/evo/a/1']);
    expect(files.list()).toBeNull();
    await git(dir, ['update-ref', '-d', '--no-deref', 'refs/heads/evo/a/2']);
    expect(files.list()).toBe(await forEachRef(dir));
    // A file git would never take for a ref (its name ends in .lock, or starts with a dot) is skipped like git does.
    await writeFile(join(dir, '.git', 'refs', 'heads', 'evo', 'a', '3.lock'), `${base}\n`);
    expect(files.list()).toBe(await forEachRef(dir));
    await mkdir(join(dir, '.git', 'refs', 'heads', 'evo', 'b'), { recursive: true });
    await symlink('/nonexistent', join(dir, '.git', 'refs', 'heads', 'evo', 'b', 'weird name'));
    expect(files.list()).toBeNull();
  });

  it('reads the refs of the main repository from a linked worktree', async () => {
    const { dir, base } = await baseRepo();
    await git(dir, ['update-ref', 'refs/heads/evo/a/1', base]);
    const wt = join(dir, '..', `${dir.split('/').pop()}-wt`);
    await git(dir, ['worktree', 'add', '--detach', wt, base]);
    const gitDir = (await git(wt, ['rev-parse', '--absolute-git-dir'])).trim();
    expect(RefFiles.commonDirOf(gitDir)).toBe(join(dir, '.git'));
    expect(new RefFiles(RefFiles.commonDirOf(gitDir), PATTERNS).list()).toBe(await forEachRef(wt));
    await git(dir, ['worktree', 'remove', '--force', wt]);
  });
  it('reads a packed-refs file that does not say it is sorted (old git, other tools), however large', async () => {
    const { dir, base } = await baseRepo();
    // 150k refs in reverse order, under a header without the "sorted" trait.
    const lines = ['# pack-refs with: peeled'];
    for (let i = 150_000; i >= 1; i--) lines.push(`${base} refs/heads/evo/w${i % 7}/${i}`);
    await writeFile(join(dir, '.git', 'packed-refs'), lines.join('\n') + '\n');
    expect(new RefFiles(join(dir, '.git'), PATTERNS).list()).toBe(await forEachRef(dir));
  }, 60_000);
});

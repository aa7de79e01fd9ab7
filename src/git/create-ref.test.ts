/**
 * Git.createRef kept open writes create-only refs itself (createLooseRef): what git reads back
 * must be what `update-ref` would have written, and whatever git would do differently (a log,
 * a held lock, a name clash, reftable) must go to git.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Git } from './index.js';
import { createLooseRef } from './ref-files.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function repo(...config: string[]): Promise<{ g: Git; blob: string; other: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'evogit-createref-'));
  dirs.push(dir);
  const g = new Git(dir);
  await g.run(['init', '-q']);
  for (const c of config) await g.run(['config', ...c.split('=')]);
  const blob = (await g.out(['hash-object', '-w', '--stdin'], { input: 'claim\n' })).trim();
  const other = (await g.out(['hash-object', '-w', '--stdin'], { input: 'other\n' })).trim();
  return { g, blob, other };
}

describe('Git.createRef', () => {
  it('creates a ref git reads back, in-process, and refuses one that exists, loose or packed', async () => {
    const { g, blob, other } = await repo();
    g.keepOpen();
    expect(await g.createRef('refs/evogit/claims/a1/x', blob)).toEqual({ ok: true, stderr: '' });
    expect((await g.out(['rev-parse', 'refs/evogit/claims/a1/x'])).trim()).toBe(blob);
    expect(await readFile(join(g.dir, '.git', 'refs', 'evogit', 'claims', 'a1', 'x'), 'utf8')).toBe(`${blob}\n`);
    expect(existsSync(join(g.dir, '.git', 'refs', 'evogit', 'claims', 'a1', 'x.lock'))).toBe(false);
    // Taken: not overwritten.
    expect((await g.createRef('refs/evogit/claims/a1/x', other)).ok).toBe(false);
    expect((await g.out(['rev-parse', 'refs/evogit/claims/a1/x'])).trim()).toBe(blob);
    // Packed, then created again: git would refuse, and so does this.
    await g.run(['pack-refs', '--all']);
    expect(existsSync(join(g.dir, '.git', 'refs', 'evogit', 'claims', 'a1', 'x'))).toBe(false);
    expect((await g.createRef('refs/evogit/claims/a1/x', other)).ok).toBe(false);
    expect((await g.out(['rev-parse', 'refs/evogit/claims/a1/x'])).trim()).toBe(blob);
    // The in-process writer itself: true when made, false when taken.
    const common = join(g.dir, '.git');
    expect(createLooseRef(common, 'refs/evogit/claims/a1/z', other)).toBe(true);
    expect(createLooseRef(common, 'refs/evogit/claims/a1/z', blob)).toBe(false);
    expect(createLooseRef(common, 'refs/evogit/claims/a1/x', blob)).toBe(false);
    expect((await g.out(['for-each-ref', '--format=%(refname) %(objectname)', 'refs/evogit/'])).trim().split('\n')).toEqual([`refs/evogit/claims/a1/x ${blob}`, `refs/evogit/claims/a1/z ${other}`]);
    // No reflog where git writes none; fsck agrees with the result.
    expect(existsSync(join(g.dir, '.git', 'logs', 'refs', 'evogit'))).toBe(false);
    expect((await g.run(['fsck', '--no-dangling'])).exitCode).toBe(0);
    await g.close();
  });

  it('leaves to git what git would do otherwise: a held lock, a name clash, a logged ref', async () => {
    const { g, blob } = await repo('core.logAllRefUpdates=always');
    const common = join(g.dir, '.git');
    // A lock held by another writer: not ours to take (git waits, then fails).
    await g.run(['update-ref', 'refs/evogit/claims/a1/held', blob]);
    await writeFile(join(common, 'refs', 'evogit', 'claims', 'a1', 'next.lock'), '');
    expect(createLooseRef(common, 'refs/evogit/claims/a1/next', blob)).toBeNull();
    // A ref named like a directory of refs, loose or packed, or inside a ref's name.
    expect(createLooseRef(common, 'refs/evogit/claims/a1', blob)).toBeNull();
    expect(createLooseRef(common, 'refs/evogit/claims/a1/held/deeper', blob)).toBeNull();
    await g.run(['pack-refs', '--all']);
    expect(createLooseRef(common, 'refs/evogit/claims/a1', blob)).toBeNull();
    expect(createLooseRef(common, 'refs/evogit/claims/a1/held/deeper', blob)).toBeNull();
    expect(createLooseRef(common, 'refs/evogit/odd..name', blob)).toBeNull();
    // core.logAllRefUpdates=always: git writes a log for every ref, so createRef lets it.
    g.keepOpen();
    expect((await g.createRef('refs/evogit/claims/a2/y', blob)).ok).toBe(true);
    expect(await readFile(join(common, 'logs', 'refs', 'evogit', 'claims', 'a2', 'y'), 'utf8')).toMatch(new RegExp(`^0{40} ${blob} `));
    await g.close();
    // Without it, a ref git logs by default (refs/notes, refs/heads) still goes to git, log and all.
    const plain = await repo();
    plain.g.keepOpen();
    expect((await plain.g.createRef('refs/notes/evogit/a1', plain.blob)).ok).toBe(true);
    expect(existsSync(join(plain.g.dir, '.git', 'logs', 'refs', 'notes', 'evogit', 'a1'))).toBe(true);
    await plain.g.close();
  });
});

import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { formatTree, Git } from './index.js';
import { LooseObjects } from './loose-objects.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function repo(...initArgs: string[]): Promise<Git> {
  const dir = await mkdtemp(join(tmpdir(), 'evogit-loose-'));
  dirs.push(dir);
  const g = new Git(dir);
  await g.run(['init', '-q', ...initArgs]);
  return g;
}

async function writer(g: Git): Promise<LooseObjects | null> {
  const where = await g.out(['rev-parse', '--show-object-format', '--git-path', 'objects']);
  const shared = await g.run(['config', '--get', 'core.sharedRepository'], { reject: false });
  return LooseObjects.from(g.dir, where, shared.exitCode === 0 ? shared.stdout : null);
}

describe('LooseObjects: objects written into the store as git writes them', () => {
  it.each([['sha1'], ['sha256']])('gives the ids git gives, in a %s repository, and git reads them back', async (format) => {
    const g = await repo(`--object-format=${format}`);
    const loose = (await writer(g))!;
    expect(loose.format).toBe(format);
    const blob = loose.write('blob', 'hello\n');
    expect(blob).toBe((await g.out(['hash-object', '--stdin'], { input: 'hello\n' })).trim());
    const tree = loose.write('tree', formatTree([{ mode: '100644', name: 'a.txt', sha: blob }]));
    expect(tree).toBe((await g.out(['mktree'], { input: `100644 blob ${blob}\ta.txt\n` })).trim());
    const commit = loose.write('commit', `tree ${tree}\nauthor A <a@x> 1700000000 +0000\ncommitter A <a@x> 1700000000 +0000\n\nmsg\n`);
    expect(await g.out(['log', '--format=%T %s', commit])).toBe(`${tree} msg\n`);
    expect((await g.run(['fsck', '--strict', '--no-dangling'])).exitCode).toBe(0);
  });

  it('makes the fan-out directories ahead of the writes; git is content and prunes the empty ones', async () => {
    const g = await repo();
    const loose = (await writer(g))!;
    const blob = loose.write('blob', 'before\n');
    await loose.prepareFanout();
    const fanout = (await readdir(loose.dir)).filter((n) => /^[0-9a-f]{2}$/.test(n));
    expect(fanout).toHaveLength(256);
    // Ready: a write into any of them makes no directory, and the object already there is kept.
    expect(await g.out(['cat-file', '-p', blob])).toBe('before\n');
    expect((await g.run(['fsck', '--strict', '--no-dangling'])).exitCode).toBe(0);
    expect((await g.out(['count-objects', '-v'])).match(/^count: (\d+)$/m)?.[1]).toBe('1');
    await g.run(['prune']);
    expect((await readdir(loose.dir)).filter((n) => /^[0-9a-f]{2}$/.test(n))).toEqual([]);
  });

  it.each([['sha1'], ['sha256']])('knows which objects are there, loose or packed (%s)', async (format) => {
    const g = await repo(`--object-format=${format}`);
    const loose = (await writer(g))!;
    const a = loose.write('blob', 'a');
    const absent = loose.id('blob', Buffer.from('absent'));
    // Into a pack of its own, and no longer loose (the blobs are unreachable: repack would leave them).
    const pack = async (id: string) => {
      await g.run(['pack-objects', '-q', join(loose.dir, 'pack', 'pack')], { input: `${id}\n` });
      await g.run(['prune-packed']);
    };
    expect([loose.has(a), loose.has(absent)]).toEqual([true, false]);
    await pack(a);
    expect(existsSync(join(loose.dir, a.slice(0, 2), a.slice(2)))).toBe(false);
    expect([loose.has(a), loose.has(absent)]).toEqual([true, false]);
    // A pack made after the packs were read is found too.
    const b = loose.write('blob', 'b');
    await pack(b);
    expect(existsSync(join(loose.dir, b.slice(0, 2), b.slice(2)))).toBe(false);
    expect([loose.has(a), loose.has(b), loose.has(absent)]).toEqual([true, true, false]);
  });

  it('leaves an object that is already there alone', async () => {
    const g = await repo();
    const loose = (await writer(g))!;
    const id = loose.write('blob', 'same');
    const file = join(loose.dir, id.slice(0, 2), id.slice(2));
    const before = await stat(file);
    await new Promise((r) => setTimeout(r, 20));
    expect(loose.write('blob', 'same')).toBe(id);
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
  });

  it('refuses malformed trees and commits, as git hash-object does, and writes nothing for them', async () => {
    const g = await repo();
    const loose = (await writer(g))!;
    const blob = loose.write('blob', 'x');
    const entry = (name: string, mode = '100644') => Buffer.concat([Buffer.from(`${mode} ${name}\0`), Buffer.from(blob, 'hex')]);
    const bad = [
      Buffer.concat([entry('b'), entry('a')]), // out of order
      Buffer.concat([entry('a'), entry('a')]), // a name twice
      entry('a', '100666'), // no such mode
      entry('.git'),
      entry('a/b'),
      entry('a').subarray(0, 10), // cut short
    ];
    for (const content of bad) expect(() => loose.write('tree', content)).toThrow(/malformed tree/);
    expect(() => loose.write('commit', 'tree 123\n\nmsg\n')).toThrow(/malformed commit/);
    expect(() => loose.write('commit', `tree ${'a'.repeat(40)}\nauthor A <a@x> 1 +0000\n\nno committer\n`)).toThrow(/malformed commit/);
    expect((await g.out(['count-objects'])).startsWith('1 objects')).toBe(true);
  });

  it('is not used for a shared repository (git adjusts permissions there): git writes instead', async () => {
    const g = await repo('--shared=group');
    expect(await writer(g)).toBeNull();
    for (const value of ['false', 'umask', '0']) expect(LooseObjects.from(g.dir, 'sha1\n.git/objects\n', value)).not.toBeNull();
    // Through Git kept open, the write still works (by git hash-object).
    g.keepOpen();
    const id = await g.writeObject('blob', 'shared\n');
    expect(id).toBe((await g.out(['hash-object', '--stdin'], { input: 'shared\n' })).trim());
    expect((await g.out(['cat-file', '-p', id]))).toBe('shared\n');
    await g.close();
  });

  it.each([['sha1'], ['sha256']])('reads loose objects git wrote as cat-file gives them, and leaves the rest to git (%s)', async (format) => {
    const g = await repo(`--object-format=${format}`);
    const loose = (await writer(g))!;
    await writeFile(join(g.dir, 'a.txt'), 'hello\n');
    await g.run(['add', 'a.txt']);
    await g.run(['-c', 'user.name=A', '-c', 'user.email=a@x', 'commit', '-qm', 'first']);
    const ids = (await g.out(['rev-parse', 'HEAD', 'HEAD^{tree}', 'HEAD:a.txt'])).trim().split('\n');
    for (const id of ids) {
      const o = loose.read(id)!;
      expect(o.type).toBe((await g.out(['cat-file', '-t', id])).trim());
      expect(o.content).toEqual(await g.outBytes(['cat-file', o.type, id]));
    }
    // Not here, not an id of this format: git's to answer.
    expect(loose.read(loose.id('blob', Buffer.from('absent')))).toBeNull();
    expect(loose.read('HEAD')).toBeNull();
    expect(loose.read(ids[0]!.slice(0, 40 - (format === 'sha1' ? 1 : 0)))).toBeNull();
    // Packed: no longer loose, so null (git reads packs).
    await g.run(['repack', '-adq']);
    expect(loose.read(ids[0]!)).toBeNull();
  });

  it('reads nothing from a damaged loose object (git reports the damage instead)', async () => {
    const g = await repo();
    const loose = (await writer(g))!;
    const id = loose.write('blob', 'some content\n');
    const file = join(loose.dir, id.slice(0, 2), id.slice(2));
    const good = await readFile(file);
    const damage = async (bytes: Buffer) => {
      await chmod(file, 0o644);
      await writeFile(file, bytes);
    };
    await damage(good.subarray(0, good.length - 4)); // cut short
    expect(loose.read(id)).toBeNull();
    await damage(deflateSync(Buffer.from('blob 99\0some content\n'))); // the size in the header is wrong
    expect(loose.read(id)).toBeNull();
    await damage(deflateSync(Buffer.from('bolb 13\0some content\n'))); // no such type
    expect(loose.read(id)).toBeNull();
    await damage(Buffer.from('not deflated at all'));
    expect(loose.read(id)).toBeNull();
    await damage(good);
    expect(loose.read(id)?.content.toString()).toBe('some content\n');
    // Small on disk, huge inflated: left to git, which still reads it.
    const big = Buffer.alloc(17 * 1024 * 1024, 'a');
    const bigId = loose.write('blob', big);
    expect((await stat(join(loose.dir, bigId.slice(0, 2), bigId.slice(2)))).size).toBeLessThan(1024 * 1024);
    expect(loose.read(bigId)).toBeNull();
    g.keepOpen();
    expect((await g.catFileBytes([bigId])).get(bigId)?.content.length).toBe(big.length);
    await g.close();
  });

  it('kept open, reads through a replacement as git does (replace refs send every read to git)', async () => {
    const g = await repo();
    const original = (await g.out(['hash-object', '-w', '--stdin'], { input: 'original\n' })).trim();
    const replacement = (await g.out(['hash-object', '-w', '--stdin'], { input: 'replacement\n' })).trim();
    await g.run(['replace', original, replacement]);
    g.keepOpen();
    expect((await g.catFiles([original])).get(original)?.content).toBe('replacement\n');
    await g.close();
    // Without replace refs, the same read comes out of the loose object (and agrees with git).
    const h = await repo();
    const id = (await h.out(['hash-object', '-w', '--stdin'], { input: 'plain\n' })).trim();
    h.keepOpen();
    expect((await h.catFiles([id, `${id}^{tree}`, 'f'.repeat(40)])).get(id)?.content).toBe('plain\n');
    expect([...(await h.catFiles([id, 'f'.repeat(40)])).keys()]).toEqual([id]);
    await h.close();
  });
});

/**
 * Objects: git writes them (Git.writeObject kept open: git's own hash-object over a kept-open
 * pipe), and loose ones are read back in-process (LooseObjects) exactly as cat-file gives them.
 */
import { chmod, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
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

async function reader(g: Git): Promise<LooseObjects> {
  const [format, objects] = (await g.out(['rev-parse', '--show-object-format', '--git-path', 'objects'])).trim().split('\n');
  return LooseObjects.at(join(g.dir, objects!), format!)!;
}

const objectFile = (g: Git, id: string) => join(g.dir, '.git', 'objects', id.slice(0, 2), id.slice(2));

describe('Git.writeObject kept open: git writes every object', () => {
  it.each([['sha1'], ['sha256']])('gives the ids git gives, in a %s repository, and git reads them back', async (format) => {
    const g = await repo(`--object-format=${format}`);
    g.keepOpen();
    const blob = await g.writeObject('blob', 'hello\n');
    expect(blob).toBe((await g.out(['hash-object', '--stdin'], { input: 'hello\n' })).trim());
    const tree = await g.writeObject('tree', formatTree([{ mode: '100644', name: 'a.txt', sha: blob }]));
    expect(tree).toBe((await g.out(['mktree'], { input: `100644 blob ${blob}\ta.txt\n` })).trim());
    const commit = await g.writeObject('commit', `tree ${tree}\nauthor A <a@x> 1700000000 +0000\ncommitter A <a@x> 1700000000 +0000\n\nmsg\n`);
    await g.close();
    expect(await g.out(['log', '--format=%T %s', commit])).toBe(`${tree} msg\n`);
    expect((await g.run(['fsck', '--strict', '--no-dangling'])).exitCode).toBe(0);
    // Its temporary files are gone.
    expect(await readdir(join(g.dir, '.git', 'evogit', 'tmp'))).toEqual([]);
  });

  it('keeps two kept-open Gits of one process apart: each object is the bytes it was given', async () => {
    const g = await repo();
    const other = new Git(g.dir);
    g.keepOpen();
    other.keepOpen();
    const contents = Array.from({ length: 40 }, (_, i) => `object ${i}\n`);
    const ids = await Promise.all(contents.map((c, i) => (i % 2 ? other : g).writeObject('blob', c)));
    await Promise.all([g.close(), other.close()]);
    for (const [i, id] of ids.entries()) expect(await g.out(['cat-file', 'blob', id])).toBe(contents[i]);
  });

  it('leaves no filter between the bytes and the object (a clean filter or autocrlf would change them)', async () => {
    const g = await repo();
    await g.run(['config', 'core.autocrlf', 'true']);
    await writeFile(join(g.dir, '.git', 'info', 'attributes'), '* filter=upper\n');
    await g.run(['config', 'filter.upper.clean', 'tr a-z A-Z']);
    g.keepOpen();
    const id = await g.writeObject('blob', 'crlf\r\nlower\n');
    await g.close();
    expect(await g.out(['cat-file', 'blob', id])).toBe('crlf\r\nlower\n');
  });

  it('refreshes an object that is already there, so a prune racing with the write keeps it', async () => {
    const g = await repo();
    const id = (await g.out(['hash-object', '-w', '--stdin'], { input: 'same' })).trim();
    const old = new Date(Date.now() - 30 * 24 * 3600 * 1000);
    await utimes(objectFile(g, id), old, old);
    g.keepOpen();
    expect(await g.writeObject('blob', 'same')).toBe(id);
    await g.close();
    expect((await stat(objectFile(g, id))).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
    await g.run(['prune', '--expire=1.day.ago']);
    expect(await g.out(['cat-file', 'blob', id])).toBe('same');
  });

  it('refuses malformed trees and commits with git’s reason, writes nothing for them, and goes on', async () => {
    const g = await repo();
    g.keepOpen();
    const blob = await g.writeObject('blob', 'x');
    const entry = (name: string, mode = '100644') => Buffer.concat([Buffer.from(`${mode} ${name}\0`), Buffer.from(blob, 'hex')]);
    // What every git refuses (newer ones refuse more: whatever fsck would): a cut-short entry.
    await expect(g.writeObject('tree', entry('a').subarray(0, 10))).rejects.toThrow(/git refused to write a tree object/);
    await expect(g.writeObject('commit', 'tree 123\n\nmsg\n')).rejects.toThrow(/git refused to write a commit object/);
    // The next write starts a new writer.
    expect(await g.writeObject('blob', 'y')).toBe((await g.out(['hash-object', '--stdin'], { input: 'y' })).trim());
    await g.close();
    expect((await g.out(['count-objects'])).startsWith('2 objects')).toBe(true);
  });

  it('in a shared repository, writes objects with the group permissions git gives them', async () => {
    const g = await repo('--shared=group');
    g.keepOpen();
    const id = await g.writeObject('blob', 'shared\n');
    await g.close();
    expect(id).toBe((await g.out(['hash-object', '--stdin'], { input: 'shared\n' })).trim());
    expect((await stat(objectFile(g, id))).mode & 0o040).toBe(0o040);
  });
});

describe('LooseObjects: loose objects read in-process', () => {
  it.each([['sha1'], ['sha256']])('reads loose objects git wrote as cat-file gives them, and leaves the rest to git (%s)', async (format) => {
    const g = await repo(`--object-format=${format}`);
    const loose = await reader(g);
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
    expect(loose.read((format === 'sha1' ? 'f' : 'e').repeat(format === 'sha1' ? 40 : 64))).toBeNull();
    expect(loose.read('HEAD')).toBeNull();
    expect(loose.read(ids[0]!.slice(0, 40 - (format === 'sha1' ? 1 : 0)))).toBeNull();
    // Packed: no longer loose, so null (git reads packs).
    await g.run(['repack', '-adq']);
    expect(loose.read(ids[0]!)).toBeNull();
  });

  it('reads nothing from a damaged loose object (git reports the damage instead)', async () => {
    const g = await repo();
    const loose = await reader(g);
    const id = (await g.out(['hash-object', '-w', '--stdin'], { input: 'some content\n' })).trim();
    const file = objectFile(g, id);
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
    const bigId = (await g.out(['hash-object', '-w', '--stdin'], { input: big })).trim();
    expect((await stat(objectFile(g, bigId))).size).toBeLessThan(1024 * 1024);
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

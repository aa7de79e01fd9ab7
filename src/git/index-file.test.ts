import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, lutimes, mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIndexFile, treeFromIndex, type IndexTree, type TreeStore } from './index-file.js';
import { Git } from './index.js';
import { LooseObjects } from './loose-objects.js';
import { createRng } from '../scorer/random.js';

/**
 * treeFromIndex must give exactly the tree `git write-tree` gives for the same index, with
 * every tree it computed in the object store, or null. Checked on real repositories: ours is
 * computed first (git write-tree rewrites the index's cache-tree), then git's.
 */

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evogit-index-'));
  dirs.push(dir);
  return dir;
}

async function repo(format: 'sha1' | 'sha256' = 'sha1'): Promise<{ g: Git; loose: LooseObjects }> {
  const g = new Git(await tempDir());
  await g.run(['init', '-q', `--object-format=${format}`]);
  const loose = LooseObjects.from(g.dir, await g.out(['rev-parse', '--show-object-format', '--git-path', 'objects']), null);
  return { g, loose: loose! };
}

/**
 * Each file written gets its own mtime, well in the past: a file as new as the index is
 * "racily clean" to git, and `git add` then re-stages it and invalidates its cache-tree
 * entries (a real edit comes seconds after the checkout; in a test, within the same tick).
 */
let clock = Math.floor(Date.now() / 1000) - 100_000;
async function age(file: string): Promise<void> {
  clock++;
  await lutimes(file, clock, clock);
}

async function put(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  await age(file);
}

const indexOf = (g: Git) => readFile(join(g.dir, '.git', 'index'));

/** The store, recording the id of every tree computed and of every tree written. */
function recording(loose: LooseObjects): TreeStore & { computed: string[]; written: string[] } {
  const computed: string[] = [];
  const written: string[] = [];
  return {
    format: loose.format,
    computed,
    written,
    has: (id) => loose.has(id),
    id: (type, content) => {
      const id = loose.id(type, content);
      computed.push(id);
      return id;
    },
    write: (type, content) => {
      const id = loose.write(type, content);
      written.push(id);
      return id;
    },
  };
}

/** Ids git cannot find (cat-file --batch-check). */
async function missing(g: Git, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const out = await g.out(['cat-file', '--batch-check'], { input: ids.join('\n') + '\n' });
  return out.split('\n').filter((l) => l.endsWith(' missing'));
}

/** Ours, then git's write-tree on the same index: they must agree and every computed tree must be there. */
async function compare(g: Git, loose: LooseObjects): Promise<IndexTree & { tree: string }> {
  const store = recording(loose);
  const ours = treeFromIndex(await indexOf(g), store);
  const theirs = (await g.out(['write-tree'])).trim();
  expect(ours).toMatchObject({ tree: theirs });
  expect(await missing(g, [...store.computed, ...store.written])).toEqual([]);
  expect(store.written.every((id) => store.computed.includes(id))).toBe(true);
  return ours as IndexTree & { tree: string };
}

/** A seeded generator (the scorer's): the same worktrees on every run. */
function random(seed: number): () => number {
  const rng = createRng(seed);
  return () => rng.next();
}

type Kind = 'file' | 'exec' | 'link';

/** A worktree the generator edits, mirrored in `files` (path → kind). */
class RandomWorktree {
  readonly files = new Map<string, Kind>();
  // Names whose order in a tree differs from plain byte order, or only by a byte: "a" < "a b" < "a-b" < "a.b" < "a/" < "a0".
  private static readonly NAMES = ['a', 'a.b', 'a-b', 'a0', 'a b', 'ab', 'b', 'ü', 'é x.txt', 'Z', '_', 'sub'];

  constructor(
    readonly dir: string,
    readonly next: () => number,
  ) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }

  /** A path that is neither a file's directory nor a directory's file in the worktree. */
  private freePath(): string | null {
    for (let tries = 0; tries < 20; tries++) {
      const depth = 1 + Math.floor(this.next() * 3);
      const p = Array.from({ length: depth }, () => this.pick(RandomWorktree.NAMES)).join('/');
      const clash = [...this.files.keys()].some((q) => q === p || p.startsWith(`${q}/`) || q.startsWith(`${p}/`));
      if (!clash) return p;
    }
    return null;
  }

  private async put(p: string, kind: Kind): Promise<void> {
    const f = join(this.dir, p);
    await mkdir(dirname(f), { recursive: true });
    // Recursive: a file deleted earlier can leave its directory behind, empty (git does not track it).
    await rm(f, { recursive: true, force: true });
    const content = this.next() < 0.15 ? '' : `${p} ${this.next()}\n`;
    if (kind === 'link') await symlink(this.next() < 0.5 ? 'target' : `../ü/${Math.floor(this.next() * 9)}`, f);
    else {
      await writeFile(f, content);
      await chmod(f, kind === 'exec' ? 0o755 : 0o644);
    }
    await age(f);
    this.files.set(p, kind);
  }

  async add(): Promise<void> {
    const p = this.freePath();
    if (p) await this.put(p, this.pick<Kind>(['file', 'file', 'file', 'exec', 'link']));
  }

  /** One random edit: add, rewrite, change the kind of, or delete a file, or delete a directory. */
  async edit(): Promise<void> {
    const paths = [...this.files.keys()];
    const op = this.next();
    if (paths.length === 0 || op < 0.3) return this.add();
    const p = this.pick(paths);
    if (op < 0.55) return this.put(p, this.files.get(p) as Kind);
    if (op < 0.7) return this.put(p, this.pick<Kind>(['file', 'exec', 'link']));
    if (op < 0.9) {
      await unlink(join(this.dir, p));
      this.files.delete(p);
      return;
    }
    const top = p.split('/')[0] as string;
    await rm(join(this.dir, top), { recursive: true, force: true });
    for (const q of paths) if (q === top || q.startsWith(`${top}/`)) this.files.delete(q);
  }
}

describe('treeFromIndex equals git write-tree (real repositories)', () => {
  it.each([
    ['sha1', 50],
    ['sha256', 8],
  ] as const)('on random %s worktrees edited over rounds (the cache-tree partly valid)', async (format, count) => {
    let reused = 0;
    let built = 0;
    let rounds = 0;
    for (let seed = 1; seed <= count; seed++) {
      const { g, loose } = await repo(format);
      const w = new RandomWorktree(g.dir, random(seed));
      for (let i = 0; i < 12; i++) await w.add();
      for (let round = 0; round < 4; round++) {
        if (round > 0) for (let n = Math.floor(w.next() * 5); n > 0; n--) await w.edit();
        await g.run(['add', '--all']);
        const ours = await compare(g, loose);
        if (round > 0) {
          reused += ours.reused;
          built += ours.built;
          rounds++;
        }
      }
      const fsck = await g.run(['fsck', '--strict', '--no-dangling'], { reject: false });
      expect(fsck.stderr.split('\n').filter((l) => l && !l.startsWith('notice:'))).toEqual([]);
      expect(fsck.exitCode).toBe(0);
    }
    // After the first round git write-tree left a cache-tree: later rounds must reuse much of it.
    expect(reused).toBeGreaterThan(rounds);
    expect(built).toBeGreaterThan(0);
  });

  it('takes gitlinks as they are (no object to find)', async () => {
    const { g, loose } = await repo();
    await put(join(g.dir, 'f'), 'f\n');
    await g.run(['add', 'f']);
    const commit = 'c0ffee'.padEnd(40, '1');
    await g.run(['update-index', '--add', '--cacheinfo', `160000,${commit},sub`]);
    await g.run(['update-index', '--add', '--cacheinfo', `160000,${commit},dir/sub.git2`]);
    const ours = await compare(g, loose);
    expect(await g.out(['ls-tree', '-r', ours.tree])).toContain(`160000 commit ${commit}\tsub\n`);
  });

  it('keeps skip-worktree entries (index version 3)', async () => {
    const { g, loose } = await repo();
    for (const f of ['d/a', 'd/b', 'top']) await put(join(g.dir, f), `${f}\n`);
    await g.run(['add', '--all']);
    await g.run(['update-index', '--skip-worktree', 'd/a']);
    const bytes = await indexOf(g);
    expect(bytes.readUInt32BE(4)).toBe(3);
    const parsed = parseIndexFile(bytes, 'sha1');
    expect('index' in parsed && parsed.index.entries.map((e) => e.skipWorktree)).toEqual([true, false, false]);
    const ours = await compare(g, loose);
    expect(await g.out(['ls-tree', '-r', '--name-only', ours.tree])).toBe('d/a\nd/b\ntop\n');
  });

  it('gives the empty tree for an empty index, and writes it as git does', async () => {
    const { g, loose } = await repo();
    const empty = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
    // git knows the empty tree without storing it: look for the file itself.
    const stored = () => existsSync(join(loose.dir, empty.slice(0, 2), empty.slice(2)));
    // Emptied by `rm --cached`: the cache-tree's root is invalid, the empty tree is built and written.
    await put(join(g.dir, 'f'), 'f\n');
    await g.run(['add', 'f']);
    await g.run(['write-tree']);
    await g.run(['rm', '-q', '--cached', 'f']);
    expect((await indexOf(g)).readUInt32BE(8)).toBe(0);
    expect(stored()).toBe(false);
    expect(await compare(g, loose)).toMatchObject({ tree: empty, built: 1, reused: 0 });
    expect(stored()).toBe(true);
    // `read-tree --empty` records the empty tree as the (valid) root: reused, as git does.
    await rm(join(loose.dir, empty.slice(0, 2), empty.slice(2)));
    await g.run(['read-tree', '--empty']);
    expect(await compare(g, loose)).toMatchObject({ tree: empty, built: 0, reused: 1 });
  });

  it('works in a SHA-256 repository', async () => {
    const { g, loose } = await repo('sha256');
    for (const f of ['a/b/c', 'a.b', 'a0']) await put(join(g.dir, f), `${f}\n`);
    await g.run(['add', '--all']);
    const ours = await compare(g, loose);
    expect(ours.tree).toHaveLength(64);
  });

  it('finds reused trees in packs (after git gc) and reuses them', async () => {
    const { g, loose } = await repo();
    for (const d of ['one', 'two/deep', 'three']) {
      await put(join(g.dir, d, 'f'), `${d}\n`);
    }
    await g.run(['add', '--all']);
    await g.run(['commit', '-q', '-m', 'base']);
    await g.run(['gc', '-q', '--prune=now']);
    const two = (await g.out(['rev-parse', 'HEAD:two'])).trim();
    expect(existsSync(join(loose.dir, two.slice(0, 2), two.slice(2)))).toBe(false);
    await put(join(g.dir, 'one', 'f'), 'changed\n');
    await g.run(['add', '--all']);
    const ours = await compare(g, loose);
    // "two" and "three" from the cache-tree, found in the pack; the root and "one" built.
    expect(ours).toMatchObject({ reused: 2, built: 2 });
  });

  it('trusts a valid cache-tree entry as git does (does not look at its entries)', async () => {
    const { g, loose } = await repo();
    for (const d of ['x', 'y']) {
      await put(join(g.dir, d, 'f'), `${d}\n`);
    }
    await put(join(g.dir, 'top'), 'top\n');
    await g.run(['add', '--all']);
    const honest = (await g.out(['write-tree'])).trim();
    const [x, y] = [(await g.out(['rev-parse', `${honest}:x`])).trim(), (await g.out(['rev-parse', `${honest}:y`])).trim()];
    // Make the cache-tree say x's tree is y's, and invalidate the root by changing "top".
    await put(join(g.dir, 'top'), 'top2\n');
    await g.run(['add', 'top']);
    const bytes = await indexOf(g);
    const at = bytes.indexOf(Buffer.from(x, 'hex'));
    expect(at).toBeGreaterThan(0);
    Buffer.from(y, 'hex').copy(bytes, at);
    createHash('sha1').update(bytes.subarray(0, bytes.length - 20)).digest().copy(bytes, bytes.length - 20);
    await writeFile(join(g.dir, '.git', 'index'), bytes);
    const ours = await compare(g, loose);
    expect((await g.out(['rev-parse', `${ours.tree}:x`])).trim()).toBe(y);
  });

  it('answers null when a tree the cache-tree names is not in the store (git would rebuild it)', async () => {
    const { g, loose } = await repo();
    await put(join(g.dir, 'x', 'f'), 'x\n');
    await put(join(g.dir, 'top'), 'top\n');
    await g.run(['add', '--all']);
    const x = (await g.out(['rev-parse', `${(await g.out(['write-tree'])).trim()}:x`])).trim();
    await put(join(g.dir, 'top'), 'top2\n');
    await g.run(['add', 'top']);
    await rm(join(loose.dir, x.slice(0, 2), x.slice(2)), { force: true });
    const ours = treeFromIndex(await indexOf(g), loose);
    expect(ours).toEqual({ tree: null, reason: 'the cache-tree\'s tree for "x" is not in the object store' });
  });
});

describe('treeFromIndex answers null where it cannot be sure', () => {
  /** A repository with a few files in directories, all added. */
  async function staged(): Promise<{ g: Git; loose: LooseObjects }> {
    const r = await repo();
    for (const f of ['d/e/f', 'd/g', 'h']) await put(join(r.g.dir, f), `${f}\n`);
    await r.g.run(['add', '--all']);
    // Control: the same repository before the change under test gives a tree.
    expect(treeFromIndex(await indexOf(r.g), r.loose).tree).not.toBeNull();
    return r;
  }

  const reason = async (g: Git, loose: LooseObjects) => {
    const answer = treeFromIndex(await indexOf(g), loose);
    expect(answer.tree).toBeNull();
    return 'reason' in answer ? answer.reason : '';
  };

  it('index version 4', async () => {
    const { g, loose } = await staged();
    await g.run(['update-index', '--index-version', '4']);
    expect(await reason(g, loose)).toBe('index version 4');
  });

  it('a split index (required "link" extension)', async () => {
    const { g, loose } = await staged();
    await g.run(['update-index', '--split-index']);
    expect(await reason(g, loose)).toBe('required index extension "link"');
  });

  it('an unmerged entry (a real merge conflict)', async () => {
    const { g, loose } = await staged();
    await g.run(['commit', '-q', '-m', 'base']);
    await g.run(['checkout', '-q', '-b', 'other']);
    await put(join(g.dir, 'h'), 'other\n');
    await g.run(['commit', '-q', '-am', 'other']);
    await g.run(['checkout', '-q', '-']);
    await put(join(g.dir, 'h'), 'mine\n');
    await g.run(['commit', '-q', '-am', 'mine']);
    expect((await g.run(['merge', '-q', 'other'], { reject: false })).exitCode).not.toBe(0);
    expect(await reason(g, loose)).toBe('unmerged entry h');
    expect((await g.run(['write-tree'], { reject: false })).exitCode).not.toBe(0);
  });

  it('an intent-to-add entry', async () => {
    const { g, loose } = await staged();
    await put(join(g.dir, 'd', 'new'), 'new\n');
    await g.run(['add', '-N', 'd/new']);
    expect(await reason(g, loose)).toBe('intent-to-add entry d/new');
  });

  it('a corrupted or truncated index (checksum)', async () => {
    const { g, loose } = await staged();
    const bytes = await indexOf(g);
    const flipped = Buffer.from(bytes);
    const at = bytes.indexOf('d/e/f');
    flipped[at] = (flipped[at] as number) ^ 0x01;
    expect(treeFromIndex(flipped, loose)).toEqual({ tree: null, reason: 'index checksum does not match' });
    expect(treeFromIndex(bytes.subarray(0, bytes.length - 7), loose)).toEqual({ tree: null, reason: 'index checksum does not match' });
    expect(treeFromIndex(Buffer.alloc(0), loose)).toEqual({ tree: null, reason: 'index file too short' });
    const unsummed = Buffer.concat([bytes.subarray(0, bytes.length - 20), Buffer.alloc(20)]);
    expect(treeFromIndex(unsummed, loose)).toEqual({ tree: null, reason: 'index written without a checksum (index.skipHash)' });
  });

  it('a path with a NUL inside (its length comes from the flags)', async () => {
    const { g, loose } = await staged();
    await put(join(g.dir, 'hz'), 'hz\n');
    await g.run(['add', 'hz']);
    const bytes = await indexOf(g);
    // "hz" becomes "h\0", still after "h" in the index's order.
    bytes[bytes.indexOf('hz\0') + 1] = 0;
    createHash('sha1').update(bytes.subarray(0, bytes.length - 20)).digest().copy(bytes, bytes.length - 20);
    expect(treeFromIndex(bytes, loose)).toEqual({ tree: null, reason: 'path h\0 cannot be a tree entry' });
  });

  it('never throws on a damaged index whose checksum still matches', async () => {
    const { g, loose } = await staged();
    await g.run(['write-tree']);
    const good = await indexOf(g);
    const body = good.subarray(0, good.length - 20);
    const resum = (b: Buffer) => Buffer.concat([b, createHash('sha1').update(b).digest()]);
    // A store that writes nothing: only the parse and the walk are under test.
    const store: TreeStore = { format: 'sha1', has: () => true, id: (t, c) => loose.id(t, c), write: (t, c) => loose.id(t, c) };
    const answers = new Set<string>();
    for (let cut = 0; cut < body.length; cut++) {
      const answer = treeFromIndex(resum(body.subarray(0, cut)), store);
      answers.add(answer.tree === null ? answer.reason : 'tree');
    }
    const next = random(99);
    for (let n = 0; n < 2000; n++) {
      const damaged = Buffer.from(body);
      damaged[Math.floor(next() * damaged.length)] = Math.floor(next() * 256);
      const answer = treeFromIndex(resum(damaged), store);
      answers.add(answer.tree === null ? answer.reason : 'tree');
    }
    // The damage is seen for what it is (and some of it, in stat data, does not matter).
    expect([...answers]).toEqual(expect.arrayContaining(['index truncated inside an entry', 'malformed entry name', 'malformed cache-tree extension', 'tree']));
  });
});

describe('Git.writeTree (kept open: no process)', () => {
  async function withWorktree(): Promise<{ g: Git; wt: string }> {
    const { g } = await repo();
    for (const f of ['a/b/c', 'a/d', 'e']) {
      await put(join(g.dir, f), `${f}\n`);
    }
    await g.run(['add', '--all']);
    await g.run(['commit', '-q', '-m', 'base']);
    const wt = join(await tempDir(), 'wt');
    await g.run(['worktree', 'add', '-q', '--detach', wt]);
    await put(join(wt, 'a', 'd'), 'edited\n');
    await put(join(wt, 'new'), 'new\n');
    await new Git(wt).run(['add', '--all']);
    g.keepOpen();
    return { g, wt };
  }

  /** The worktree's index file (git write-tree would rewrite it with the new cache-tree). */
  const wtIndex = async (wt: string) => readFile((await new Git(wt).out(['rev-parse', '--path-format=absolute', '--git-path', 'index'])).trim());

  it('in a linked worktree, gives git\'s tree without running git (the index is left as it was)', async () => {
    const { g, wt } = await withWorktree();
    const before = await wtIndex(wt);
    const ours = await g.writeTree(wt);
    expect((await wtIndex(wt)).equals(before)).toBe(true);
    expect(ours).toBe((await new Git(wt).out(['write-tree'])).trim());
    // And git write-tree does change it: the check above can tell them apart.
    expect((await wtIndex(wt)).equals(before)).toBe(false);
    await g.close();
  });

  it('in the main worktree too', async () => {
    const { g } = await withWorktree();
    await put(join(g.dir, 'e'), 'main\n');
    await g.run(['add', '--all']);
    const ours = await g.writeTree(g.dir);
    expect(ours).toBe((await g.out(['write-tree'])).trim());
    await g.close();
  });

  it('with GIT_INDEX_FILE set, asks git (which reads that index)', async () => {
    const { g, wt } = await withWorktree();
    const other = join(await tempDir(), 'other-index');
    await new Git(wt).run(['read-tree', 'HEAD'], { env: { GIT_INDEX_FILE: other } });
    const own = (await new Git(wt).out(['write-tree'])).trim();
    process.env.GIT_INDEX_FILE = other;
    try {
      const ours = await g.writeTree(wt);
      expect(ours).toBe((await g.out(['rev-parse', 'HEAD^{tree}'])).trim());
      expect(ours).not.toBe(own);
    } finally {
      delete process.env.GIT_INDEX_FILE;
      await g.close();
    }
  });

  it('asks git for a worktree of another repository (its trees belong in that store)', async () => {
    const { g } = await withWorktree();
    const { g: elsewhere } = await repo();
    await put(join(elsewhere.dir, 'x'), 'x\n');
    await elsewhere.run(['add', 'x']);
    // Its blob is in this store too: only the check of the object store keeps the tree out of it.
    await g.writeObject('blob', 'x\n');
    const count = await g.out(['count-objects']);
    const ours = await g.writeTree(elsewhere.dir);
    expect(await g.out(['count-objects'])).toBe(count);
    expect(ours).toBe((await elsewhere.out(['write-tree'])).trim());
    await g.close();
  });

  it('not kept open, runs git write-tree', async () => {
    const { g, wt } = await withWorktree();
    await g.close();
    const before = await wtIndex(wt);
    const ours = await g.writeTree(wt);
    expect((await wtIndex(wt)).equals(before)).toBe(false);
    expect(ours).toBe((await new Git(wt).out(['write-tree'])).trim());
  });
});

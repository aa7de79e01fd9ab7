/**
 * Git's index file (`.git/index`, "DIRC") read without a git process, and the tree `git
 * write-tree` would write from it. The agent loop stages an agent's edits with `git add --all`
 * and then needs the tree's id; computing it here saves the write-tree process, which is most
 * of its cost. Like git, the trees of directories the edit left alone are taken from the
 * index's cache-tree (the TREE extension) without hashing their entries, so a large repository
 * costs little more than a small one.
 *
 * The answer is exactly git's or none: anything this code does not know for sure (index
 * version 4, a split or sparse index, an unmerged or intent-to-add entry, a file that does not
 * check out, a tree it would reuse that is not in the object store…) gives a reason instead of
 * a tree, and the caller asks git.
 *
 * Format: Documentation/gitformat-index.txt in git's sources.
 */
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { unlessMissing } from '../errors/index.js';
import { formatTree, TREE_MODE, type TreeObjectEntry } from './tree.js';

/**
 * One entry of the index. It points into the file's bytes and decodes its path and id only
 * when asked: a large index has many entries, and a tree mostly taken from the cache-tree
 * looks at few of them.
 */
export class IndexEntry {
  constructor(
    /** The index file. */
    readonly file: Buffer,
    /** Where the path is in the file (without its NUL). */
    readonly nameStart: number,
    readonly nameEnd: number,
    private readonly oidStart: number,
    private readonly oidEnd: number,
    /** The mode as a number (0o100644, 0o100755, 0o120000, 0o160000 in a well-formed index). */
    readonly mode: number,
    private readonly flags: number,
    private readonly extended: number,
  ) {}

  /** The path as stored: bytes, "/"-separated, no leading or trailing slash. */
  get name(): Buffer {
    return this.file.subarray(this.nameStart, this.nameEnd);
  }

  /** The object id (hex). */
  get oid(): string {
    return this.file.toString('hex', this.oidStart, this.oidEnd);
  }

  /** 0, or 1-3 for the sides of an unmerged path. */
  get stage(): number {
    return (this.flags >> 12) & 3;
  }

  /** Outside the sparse checkout (still part of the tree). */
  get skipWorktree(): boolean {
    return (this.extended & SKIP_WORKTREE) !== 0;
  }

  /** Added with `git add -N`: a placeholder git leaves out of the tree. */
  get intentToAdd(): boolean {
    return (this.extended & INTENT_TO_ADD) !== 0;
  }
}

/** One directory of the cache-tree: the tree it had when last written, unless invalidated since. */
export interface CacheTreeNode {
  /** The index entries under this directory; negative: invalidated by a change below it. */
  entryCount: number;
  /** The directory's tree id (hex) while valid, else null. */
  id: string | null;
  /** Subdirectories by name (the bytes as latin1, the way entry paths are split here). */
  children: Map<string, CacheTreeNode>;
}

export interface IndexFile {
  version: 2 | 3;
  /** In index order (by path bytes, then stage). */
  entries: IndexEntry[];
  /** The TREE extension's root, or null when the index has none. */
  cacheTree: CacheTreeNode | null;
}

/** What could not be read or computed for sure, in words for a log line. */
export interface Unsure {
  reason: string;
}

export type HashFormat = 'sha1' | 'sha256';

/** Bits of the 16-bit entry flags. */
const EXTENDED = 0x4000;
const NAME_MASK = 0x0fff;
/** Bits of the version-3 extended flags; git refuses an index with any other bit set. */
const SKIP_WORKTREE = 0x4000;
const INTENT_TO_ADD = 0x2000;
/** ctime, mtime (seconds and nanoseconds each), dev, ino, mode, uid, gid, size: 4 bytes each. */
const STAT_BYTES = 40;
/** Real paths never nest this deep; a cache-tree that does is garbage, not a reason to overflow the stack. */
const MAX_DEPTH = 4096;

/**
 * Parse an index file of the repository's hash format. Versions 2 and 3 only; the stat data
 * (ctime … size) is skipped, as nothing here needs it. Gives a reason instead when the file is
 * not one git would read the same way: a checksum that does not match, a truncated or
 * malformed file, entries out of order, version 4 (prefix-compressed paths), or a required
 * extension (lowercase signature: `link` split index, `sdir` sparse index), whose meaning would
 * change the entries. Optional extensions are skipped, except TREE which is parsed. Pure.
 */
export function parseIndexFile(bytes: Buffer, format: HashFormat): { index: IndexFile } | Unsure {
  const hashBytes = format === 'sha1' ? 20 : 32;
  const end = bytes.length - hashBytes;
  if (end < 12) return { reason: 'index file too short' };
  if (!createHash(format).update(bytes.subarray(0, end)).digest().equals(bytes.subarray(end))) {
    // Newer gits write an all-zero checksum under index.skipHash; nothing then says the file is whole.
    return { reason: bytes.subarray(end).every((b) => b === 0) ? 'index written without a checksum (index.skipHash)' : 'index checksum does not match' };
  }
  if (bytes.toString('latin1', 0, 4) !== 'DIRC') return { reason: 'not an index file (no DIRC signature)' };
  const version = bytes.readUInt32BE(4);
  if (version !== 2 && version !== 3) return { reason: `index version ${version}` };
  const count = bytes.readUInt32BE(8);

  const entries: IndexEntry[] = [];
  let pos = 12;
  for (let k = 0; k < count; k++) {
    let fixed = STAT_BYTES + hashBytes + 2;
    if (pos + fixed > end) return { reason: 'index truncated inside an entry' };
    const flags = bytes.readUInt16BE(pos + STAT_BYTES + hashBytes);
    let extended = 0;
    if (flags & EXTENDED) {
      if (version < 3) return { reason: 'extended entry flags in a version 2 index' };
      if (pos + fixed + 2 > end) return { reason: 'index truncated inside an entry' };
      extended = bytes.readUInt16BE(pos + fixed);
      if (extended & ~(SKIP_WORKTREE | INTENT_TO_ADD)) return { reason: `unknown extended entry flags 0x${extended.toString(16)}` };
      fixed += 2;
    }
    const nameStart = pos + fixed;
    // The name is NUL-terminated; its length is in the flags unless it is 0xfff or more.
    let nameEnd = nameStart + (flags & NAME_MASK);
    if (nameEnd - nameStart === NAME_MASK) nameEnd = bytes.indexOf(0, nameEnd);
    if (nameEnd < 0 || nameEnd >= end || bytes[nameEnd] !== 0) return { reason: 'malformed entry name' };
    const oidStart = pos + STAT_BYTES;
    entries.push(new IndexEntry(bytes, nameStart, nameEnd, oidStart, oidStart + hashBytes, bytes.readUInt32BE(pos + 24), flags, extended));
    // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
    pos += (fixed + (nameEnd - nameStart) + 8) & ~7;
    if (pos > end) return { reason: 'index truncated inside an entry' };
  }

  let cacheTree: CacheTreeNode | null = null;
  while (pos < end) {
    if (pos + 8 > end) return { reason: 'index truncated inside an extension' };
    const signature = bytes.toString('latin1', pos, pos + 4);
    const size = bytes.readUInt32BE(pos + 4);
    if (pos + 8 + size > end) return { reason: `index truncated inside the ${signature} extension` };
    // git's rule: an extension whose first letter is not A-Z must be understood to read the index.
    if (!/^[A-Z]/.test(signature)) return { reason: `required index extension "${signature}"` };
    if (signature === 'TREE') {
      cacheTree = parseCacheTree(bytes.subarray(pos + 8, pos + 8 + size), hashBytes);
      if (!cacheTree) return { reason: 'malformed cache-tree extension' };
    }
    pos += 8 + size;
  }
  // Checked after the extensions: a split index's entries are not in order, and "link" says why.
  for (let k = 1; k < entries.length; k++) {
    const [before, entry] = [entries[k - 1] as IndexEntry, entries[k] as IndexEntry];
    const order = compareNames(before, entry);
    if (order > 0 || (order === 0 && before.stage >= entry.stage)) return { reason: 'index entries out of order' };
  }
  return { index: { version, entries, cacheTree } };
}

/**
 * The TREE extension → its root. Each directory, depth first from the root (name ""): its
 * name, NUL, the entry count in ASCII (-1: invalidated), a space, the number of
 * subdirectories, a newline, the tree id when valid, then its subdirectories. Null if
 * malformed. Pure.
 */
export function parseCacheTree(data: Buffer, hashBytes: number): CacheTreeNode | null {
  let pos = 0;
  const read = (depth: number): { name: string; node: CacheTreeNode } | null => {
    const nul = data.indexOf(0, pos);
    const newline = nul < 0 ? -1 : data.indexOf(0x0a, nul);
    if (newline < 0 || depth > MAX_DEPTH) return null;
    const counts = /^(-?\d+) (\d+)$/.exec(data.toString('latin1', nul + 1, newline));
    if (!counts) return null;
    const name = data.toString('latin1', pos, nul);
    const node: CacheTreeNode = { entryCount: Number(counts[1]), id: null, children: new Map() };
    pos = newline + 1;
    if (node.entryCount >= 0) {
      if (pos + hashBytes > data.length) return null;
      node.id = data.toString('hex', pos, pos + hashBytes);
      pos += hashBytes;
    }
    for (let n = Number(counts[2]); n > 0; n--) {
      const child = read(depth + 1);
      if (!child || node.children.has(child.name)) return null;
      node.children.set(child.name, child.node);
    }
    return { name, node };
  };
  const root = read(0);
  return root && root.name === '' && pos === data.length ? root.node : null;
}

/** What treeFromIndex needs of the object store; LooseObjects is one. */
export interface TreeStore {
  readonly format: HashFormat;
  id(type: 'tree', content: Buffer): string;
  /** Whether the object is in the repository; false when unsure (the answer is then null). */
  has(id: string): boolean;
  write(type: 'tree', content: Buffer): string;
}

export type IndexTree =
  | {
      tree: string;
      /** Subtrees (or the root) taken from the cache-tree without looking at their entries. */
      reused: number;
      /** Trees hashed from entries (and written unless already in the store). */
      built: number;
    }
  | ({ tree: null } & Unsure);

/** Modes git writes into an index (`create_ce_mode`); a tree has the same. */
const ENTRY_MODES = new Map([
  [0o100644, '100644'],
  [0o100755, '100755'],
  [0o120000, '120000'],
  [0o160000, '160000'],
]);
const GITLINK = 0o160000;
const EMPTY_TREE = { sha1: '4b825dc642cb6eb9a060e54bf8d69288fbee4904', sha256: '6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321' };

/**
 * The tree `git write-tree` would give for this index, with every tree object that computing
 * it hashed written into the store (as git writes them; the empty tree too, for an empty
 * index), or the reason it cannot be sure. Mirrors git's cache-tree update: a directory whose
 * cache-tree entry is valid keeps its recorded tree, provided that tree is in the store (git
 * rebuilds one that is not; this answers null) and its entry count agrees with the index;
 * the rest is built bottom-up from the entries. Besides what parseIndexFile refuses: unmerged
 * or intent-to-add entries, modes other than the four of a tree, a null or missing object id
 * (git write-tree fails there), names that are not UTF-8 or not a valid tree entry, a path
 * that is both a file and a directory.
 */
export function treeFromIndex(bytes: Buffer, objects: TreeStore): IndexTree {
  const parsed = parseIndexFile(bytes, objects.format);
  if (!('index' in parsed)) return { tree: null, reason: parsed.reason };
  const { entries, cacheTree } = parsed.index;
  for (const e of entries) {
    if (e.stage !== 0) return { tree: null, reason: `unmerged entry ${e.name.toString('utf8')}` };
    if (e.intentToAdd) return { tree: null, reason: `intent-to-add entry ${e.name.toString('utf8')}` };
    if (!ENTRY_MODES.has(e.mode)) return { tree: null, reason: `mode ${e.mode.toString(8)} of ${e.name.toString('utf8')}` };
  }
  let reused = 0;
  let built = 0;

  /** A valid cache-tree entry's tree, if git would take it as it is. */
  const reuse = (node: CacheTreeNode, dir: string): string | Unsure => {
    // git knows the empty tree without storing it (`git read-tree --empty` records it so).
    if (node.id !== EMPTY_TREE[objects.format] && !objects.has(node.id as string)) return { reason: `the cache-tree's tree for "${dir}" is not in the object store` };
    reused++;
    return node.id as string;
  };

  /** The tree of entries[start, end), all under the directory whose path with "/" is `prefix` bytes long. */
  const build = (start: number, end: number, prefix: number, node: CacheTreeNode | undefined): string | Unsure => {
    const tree: TreeObjectEntry[] = [];
    const names = new Set<string>();
    for (let i = start; i < end; ) {
      const e = entries[i] as IndexEntry;
      const path = e.name;
      const slash = path.indexOf(0x2f, prefix);
      const raw = path.subarray(prefix, slash < 0 ? path.length : slash);
      const name = entryName(raw);
      if (name === null) return { reason: `path ${path.toString('utf8')} cannot be a tree entry` };
      if (names.has(name)) return { reason: `${path.toString('utf8', 0, prefix + raw.length)} is both a file and a directory` };
      names.add(name);
      if (slash < 0) {
        const oid = e.oid;
        if (/^0+$/.test(oid) || (e.mode !== GITLINK && !objects.has(oid))) return { reason: `${path.toString('utf8')}: object ${oid} is not in the object store` };
        tree.push({ mode: ENTRY_MODES.get(e.mode) as string, name, sha: oid });
        i++;
        continue;
      }
      // The directory's entries run on while they start with its path and "/" (the index is sorted).
      const sub = node?.children.get(raw.toString('latin1'));
      let next = i + 1;
      let id: string | Unsure;
      if (sub && sub.entryCount >= 0) {
        // As git does: the count says how many entries to skip. Check that it ends where the directory does.
        next = i + sub.entryCount;
        const agrees = next > i && next <= end && under(entries[next - 1] as IndexEntry, path, slash) && (next === end || !under(entries[next] as IndexEntry, path, slash));
        if (!agrees) return { reason: `the cache-tree disagrees with the entries under ${path.toString('utf8', 0, slash)}` };
        id = reuse(sub, path.toString('utf8', 0, slash));
      } else {
        while (next < end && under(entries[next] as IndexEntry, path, slash)) next++;
        id = build(i, next, slash + 1, sub);
      }
      if (typeof id !== 'string') return id;
      tree.push({ mode: TREE_MODE, name, sha: id });
      i = next;
    }
    const content = formatTree(tree);
    const id = objects.id('tree', content);
    if (!objects.has(id)) objects.write('tree', content);
    built++;
    return id;
  };

  let root: string | Unsure;
  if (cacheTree && cacheTree.entryCount >= 0) {
    root = cacheTree.entryCount === entries.length ? reuse(cacheTree, '') : { reason: 'the cache-tree disagrees with the entries' };
  } else root = build(0, entries.length, 0, cacheTree ?? undefined);
  return typeof root === 'string' ? { tree: root, reused, built } : { tree: null, reason: root.reason };
}

/** Byte order of two entries' paths (memcmp, then the shorter first), without copying them. */
function compareNames(a: IndexEntry, b: IndexEntry): number {
  const [x, y] = [a.file, b.file];
  const n = Math.min(a.nameEnd - a.nameStart, b.nameEnd - b.nameStart);
  for (let k = 0; k < n; k++) {
    const d = (x[a.nameStart + k] as number) - (y[b.nameStart + k] as number);
    if (d !== 0) return d;
  }
  return a.nameEnd - a.nameStart - (b.nameEnd - b.nameStart);
}

/** Is `e` under the directory `dir[0, slash)`, i.e. does its path start with that and "/"? */
function under(e: IndexEntry, dir: Buffer, slash: number): boolean {
  if (e.nameEnd - e.nameStart <= slash + 1) return false;
  for (let k = slash; k >= 0; k--) if (e.file[e.nameStart + k] !== dir[k]) return false;
  return true;
}

/**
 * A path component as a tree entry name, or null where the tree could not hold it as git
 * would: bytes that are not UTF-8 (names are strings here), a NUL (it ends a name in a tree),
 * and names git never stages ("", ".", "..", ".git") that LooseObjects refuses to write.
 */
function entryName(raw: Buffer): string | null {
  if (raw.includes(0)) return null;
  const name = raw.toString('utf8');
  if (name.includes('\ufffd') && !Buffer.from(name, 'utf8').equals(raw)) return null;
  return name === '' || name === '.' || name === '..' || name === '.git' ? null : name;
}

/**
 * Where `git write-tree` run in `worktree` reads the index and writes objects, found without a
 * git process: a `.git` directory (the main worktree: .git/index, .git/objects), or a `.git`
 * file "gitdir: <dir>" (a linked worktree or a submodule: <dir>/index, and the objects of the
 * common directory <dir>/commondir names, else of <dir>). Real paths. Null when there is no
 * such `.git` (git would look in the parent directories). The GIT_DIR, GIT_INDEX_FILE… that
 * would move them are the caller's to check.
 */
export function locateIndexFile(worktree: string): { index: string; objects: string } | null {
  const dotGit = path.join(worktree, '.git');
  const kind = statOrNull(dotGit);
  let gitDir: string;
  if (kind?.isDirectory()) gitDir = dotGit;
  else if (kind?.isFile()) {
    const link = /^gitdir: (.+)$/.exec(readFileSync(dotGit, 'utf8').replace(/[\r\n]+$/, ''));
    if (!link) return null;
    gitDir = path.resolve(worktree, link[1] as string);
  } else return null;
  const common = unlessMissing(() => readFileSync(path.join(gitDir, 'commondir'), 'utf8'));
  const commonDir = common === null ? gitDir : path.resolve(gitDir, common.replace(/[\r\n]+$/, ''));
  const objects = path.join(commonDir, 'objects');
  if (!statOrNull(gitDir) || !statOrNull(objects)) return null;
  return { index: path.join(realpathSync.native(gitDir), 'index'), objects: realpathSync.native(objects) };
}

function statOrNull(file: string): ReturnType<typeof statSync> | null {
  return statSync(file, { throwIfNoEntry: false }) ?? null;
}

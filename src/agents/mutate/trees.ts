/**
 * The tree id a candidate child would have, computed in-process from the parent's tree
 * listing and the edited files' new contents: a candidate whose tree the archive already holds
 * (a sibling's edit, the grandparent by undoing the parent's edit, a cousin reached in another
 * order) is skipped before it is ever committed, so no child repeats one.
 */
import { createHash } from 'node:crypto';
import { git } from '../../git/index.js';
import { formatTree, type TreeObjectEntry } from '../../git/tree.js';

export class TreeHasher {
  private constructor(
    /** Directory ('' for the root) → its entries. */
    private readonly dirs: Map<string, TreeObjectEntry[]>,
    private readonly algorithm: 'sha1' | 'sha256',
  ) {}

  /** The listing of the worktree's HEAD (the parent), or null when git cannot give it. */
  static async load(worktree: string): Promise<TreeHasher | null> {
    const result = await git(worktree, ['ls-tree', '-r', '-t', '-z', '--full-tree', 'HEAD'], { reject: false, timeoutMs: 60_000 });
    if (result.exitCode !== 0) return null;
    const dirs = new Map<string, TreeObjectEntry[]>([['', []]]);
    let algorithm: 'sha1' | 'sha256' = 'sha1';
    for (const record of result.stdout.split('\0')) {
      const tab = record.indexOf('\t');
      if (tab < 0) continue;
      const [mode, , sha] = record.slice(0, tab).split(' ') as [string, string, string];
      const full = record.slice(tab + 1);
      const slash = full.lastIndexOf('/');
      const dir = slash < 0 ? '' : full.slice(0, slash);
      if (sha.length === 64) algorithm = 'sha256';
      (dirs.get(dir) ?? dirs.set(dir, []).get(dir)!).push({ mode, name: full.slice(slash + 1), sha });
      if (mode === '040000' || mode === '40000') dirs.set(full, dirs.get(full) ?? []);
    }
    return new TreeHasher(dirs, algorithm);
  }

  private hash(type: 'blob' | 'tree', content: Buffer): string {
    return createHash(this.algorithm).update(`${type} ${content.length}\0`).update(content).digest('hex');
  }

  /** The root tree id with the given files' contents replaced (paths relative to the root; the files must exist in HEAD). */
  treeWith(changes: ReadonlyMap<string, string>): string | null {
    const replaced = new Map<string, Map<string, string>>();
    const touch = (dir: string, name: string, sha: string) => (replaced.get(dir) ?? replaced.set(dir, new Map()).get(dir)!).set(name, sha);
    for (const [file, content] of changes) {
      const slash = file.lastIndexOf('/');
      touch(slash < 0 ? '' : file.slice(0, slash), file.slice(slash + 1), this.hash('blob', Buffer.from(content, 'utf8')));
    }
    // Deepest directories first, so each parent sees its subtrees' new ids.
    const pending = [...new Set([...replaced.keys()].flatMap((d) => ancestors(d)))].sort((a, b) => depth(b) - depth(a));
    let root: string | null = null;
    for (const dir of pending) {
      const entries = this.dirs.get(dir);
      if (!entries) return null;
      const changed = replaced.get(dir) ?? new Map<string, string>();
      for (const name of changed.keys()) if (!entries.some((e) => e.name === name)) return null;
      const id = this.hash('tree', formatTree(entries.map((e) => ({ ...e, mode: e.mode === '040000' ? '40000' : e.mode, sha: changed.get(e.name) ?? e.sha }))));
      if (dir === '') root = id;
      else touch(parentOf(dir), dir.slice(dir.lastIndexOf('/') + 1), id);
    }
    return root;
  }
}

const depth = (dir: string): number => (dir === '' ? 0 : dir.split('/').length);
const parentOf = (dir: string): string => (dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : '');

function ancestors(dir: string): string[] {
  const out = [dir];
  for (let d = dir; d !== ''; ) {
    d = parentOf(d);
    out.push(d);
  }
  return out;
}

/**
 * Git tree objects as data: parse the bytes `cat-file --batch` returns, and format entries back
 * into the bytes `hash-object -t tree` takes. Pure.
 */

export interface TreeObjectEntry {
  /** Octal mode as git writes it: 100644, 100755, 120000, 160000, 40000. */
  mode: string;
  name: string;
  /** Hex object id. */
  sha: string;
}

export const TREE_MODE = '40000';

/** A tree object's content → its entries, in stored order. */
export function parseTree(content: Buffer, hashBytes = 20): TreeObjectEntry[] {
  const out: TreeObjectEntry[] = [];
  let pos = 0;
  while (pos < content.length) {
    const space = content.indexOf(0x20, pos);
    const nul = content.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 1 + hashBytes > content.length) throw new Error('malformed tree object');
    out.push({ mode: content.toString('latin1', pos, space), name: content.toString('utf8', space + 1, nul), sha: content.toString('hex', nul + 1, nul + 1 + hashBytes) });
    pos = nul + 1 + hashBytes;
  }
  return out;
}

/** Git's order: by name bytes, a tree compared as if its name ended in "/". */
function sortKey(e: TreeObjectEntry): Buffer {
  return Buffer.from(e.mode === TREE_MODE ? `${e.name}/` : e.name, 'utf8');
}

/** Entries → a tree object's content (sorted as git requires; duplicate names are an error). */
export function formatTree(entries: readonly TreeObjectEntry[]): Buffer {
  const keyed = entries.map((e) => ({ e, key: sortKey(e) })).sort((a, b) => Buffer.compare(a.key, b.key));
  const parts: Buffer[] = [];
  for (const [i, { e }] of keyed.entries()) {
    if (i > 0 && keyed[i - 1]!.e.name === e.name) throw new Error(`duplicate tree entry ${e.name}`);
    parts.push(Buffer.from(`${e.mode} ${e.name}\0`, 'utf8'), Buffer.from(e.sha, 'hex'));
  }
  return Buffer.concat(parts);
}

/** A mode as git's tree walk sees it (`canon_mode`): old-style modes such as 100664 read as 100644. */
export function canonicalMode(mode: string): string {
  const m = parseInt(mode, 8);
  switch (m & 0o170000) {
    case 0o100000:
      return m & 0o100 ? '100755' : '100644';
    case 0o120000:
      return '120000';
    case 0o040000:
      return TREE_MODE;
    default:
      return '160000';
  }
}

export interface TreeDiffChange {
  /** As diff-tree prints it: T when a file becomes a symlink or the other way. */
  status: 'A' | 'D' | 'M' | 'T';
  path: string;
  /** The new object id (blob, or commit for a gitlink); null for a deletion. */
  sha: string | null;
  oldMode: string | null;
  newMode: string | null;
}

/**
 * The non-tree entries that differ between two trees, as `git diff-tree -r --no-renames`
 * lists them and in its order (git's tree order, depth first; a name that is a file on one
 * side and a directory on the other is a deletion and additions). `trees` must hold the
 * entries of every differing subtree (see Git.diffTrees); when some are not there, returns
 * null and puts their ids into `missing` (all those the trees at hand lead to). Pure.
 */
export function diffTreeEntries(a: string | null, b: string | null, trees: ReadonlyMap<string, readonly TreeObjectEntry[]>, missing = new Set<string>()): TreeDiffChange[] | null {
  const out: TreeDiffChange[] = [];
  const key = (e: TreeObjectEntry) => Buffer.from(canonicalMode(e.mode) === TREE_MODE ? `${e.name}/` : e.name, 'utf8');
  const walk = (x: string | null, y: string | null, prefix: string): void => {
    const xs = x === null ? [] : trees.get(x);
    const ys = y === null ? [] : trees.get(y);
    if (!xs) missing.add(x as string);
    if (!ys) missing.add(y as string);
    if (!xs || !ys) return;
    let i = 0;
    let j = 0;
    while (i < xs.length || j < ys.length) {
      const e = xs[i];
      const f = ys[j];
      const order = !e ? 1 : !f ? -1 : Buffer.compare(key(e), key(f));
      if (order < 0) {
        i++;
        const mode = canonicalMode(e!.mode);
        if (mode === TREE_MODE) {
          walk(e!.sha, null, `${prefix}${e!.name}/`);
        } else out.push({ status: 'D', path: prefix + e!.name, sha: null, oldMode: mode, newMode: null });
      } else if (order > 0) {
        j++;
        const mode = canonicalMode(f!.mode);
        if (mode === TREE_MODE) {
          walk(null, f!.sha, `${prefix}${f!.name}/`);
        } else out.push({ status: 'A', path: prefix + f!.name, sha: f!.sha, oldMode: null, newMode: mode });
      } else {
        i++;
        j++;
        const [em, fm] = [canonicalMode(e!.mode), canonicalMode(f!.mode)];
        if (e!.sha === f!.sha && em === fm) continue;
        if (em === TREE_MODE) {
          walk(e!.sha, f!.sha, `${prefix}${e!.name}/`);
        } else out.push({ status: em.slice(0, 2) === fm.slice(0, 2) ? 'M' : 'T', path: prefix + f!.name, sha: f!.sha, oldMode: em, newMode: fm });
      }
    }
  };
  walk(a, b, '');
  return missing.size === 0 ? out : null;
}

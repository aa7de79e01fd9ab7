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

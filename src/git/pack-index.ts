/**
 * Which objects a repository's packs hold, answered from their .idx files without a git
 * process. Computing a tree from the index reuses the cache-tree's subtree ids only once they
 * are known to be in the repository (as git does), and in an archive that `git gc` packed they
 * are in packs, not loose.
 *
 * Only what is certain counts as there: an index git would not read (not version 2, cut short,
 * its .pack gone) holds nothing here, and alternates are not looked into. A caller treats "not
 * there" as a reason to let git answer, never as a fact to act on.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** `\377tOc` then version 2: the .idx layout git writes (sorted ids after a 256-entry fan-out). */
const IDX_MAGIC = 0xff744f63;
const FANOUT = 8;
const NAMES = FANOUT + 256 * 4;
/** The largest .idx read into memory (about 1.7 million objects). */
const MAX_IDX_BYTES = 64 * 1024 * 1024;

/** Does this version-2 pack index list `id` (raw bytes)? Null: not an index this code reads. Pure. */
export function packIndexHas(idx: Buffer, id: Buffer): boolean | null {
  const count = packIndexCount(idx, id.length);
  if (count === null) return null;
  const hashBytes = id.length;
  let lo = id[0] === 0 ? 0 : idx.readUInt32BE(FANOUT + ((id[0] as number) - 1) * 4);
  let hi = idx.readUInt32BE(FANOUT + (id[0] as number) * 4);
  if (hi > count || lo > hi) return null;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = NAMES + mid * hashBytes;
    const order = idx.compare(id, 0, hashBytes, at, at + hashBytes);
    if (order === 0) return true;
    if (order < 0) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

/** The number of objects a well-formed version-2 index lists, or null. */
function packIndexCount(idx: Buffer, hashBytes: number): number | null {
  if (idx.length < NAMES || idx.readUInt32BE(0) !== IDX_MAGIC || idx.readUInt32BE(4) !== 2) return null;
  const count = idx.readUInt32BE(NAMES - 4);
  // Ids, CRCs and 4-byte offsets per object, then the pack's and the index's checksums.
  return idx.length >= NAMES + count * (hashBytes + 8) + 2 * hashBytes ? count : null;
}

export class PackIndexes {
  /** The readable .idx files, by name. */
  private indexes = new Map<string, Buffer>();
  /** The pack directory's mtime when it was last listed (null: list it at the next miss). */
  private listed: number | null = null;

  constructor(
    /** The repository's objects/pack directory. */
    readonly dir: string,
    readonly hashBytes: number,
  ) {}

  /** Is the object (hex id) in one of the packs? Re-lists the packs on a miss if they changed. */
  has(id: string): boolean {
    const raw = Buffer.from(id, 'hex');
    if (raw.length !== this.hashBytes) return false;
    if (this.find(raw)) return true;
    return this.relist() && this.find(raw);
  }

  private find(raw: Buffer): boolean {
    for (const idx of this.indexes.values()) if (packIndexHas(idx, raw)) return true;
    return false;
  }

  /** Read the .idx files that appeared since the last listing, forget those gone; whether any changed. */
  private relist(): boolean {
    let mtime: number;
    try {
      mtime = statSync(this.dir).mtimeMs;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      mtime = -1;
    }
    if (mtime === this.listed) return false;
    // A pack added within the filesystem's timestamp granularity of this listing would leave the
    // mtime as it is: a directory changed that recently is listed again at the next miss.
    this.listed = Date.now() - mtime > 2000 ? mtime : null;
    const names = mtime < 0 ? [] : readdirSync(this.dir);
    const packs = new Set(names.filter((n) => n.endsWith('.pack')));
    const now = new Map<string, Buffer>();
    for (const name of names) {
      // An index whose pack is gone (a repack deleting it) lists objects git would not find.
      if (!name.endsWith('.idx') || !packs.has(name.replace(/\.idx$/, '.pack'))) continue;
      const known = this.indexes.get(name);
      if (known) {
        now.set(name, known);
        continue;
      }
      let bytes: Buffer;
      try {
        // A very large repository's index is not held in memory: its objects count as unknown, and git answers.
        if (statSync(path.join(this.dir, name)).size > MAX_IDX_BYTES) continue;
        bytes = readFileSync(path.join(this.dir, name));
      } catch (e) {
        // Deleted between the listing and the read: a pack that is no more.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      if (packIndexCount(bytes, this.hashBytes) !== null) now.set(name, bytes);
    }
    const changed = now.size !== this.indexes.size || [...now.keys()].some((n) => !this.indexes.has(n));
    this.indexes = now;
    return changed;
  }
}

/**
 * Listing refs under a few prefixes straight from git's "files" ref store (loose ref files
 * plus packed-refs), with the same text `git for-each-ref --format=FOR_EACH_REF_FORMAT` prints.
 *
 * Why: an archive of 100k nodes is 100k branches, mostly packed; `for-each-ref` re-reads and
 * re-sorts all of them on every refresh (~100 ms), while what changes between two refreshes
 * is a handful of loose files. Here packed-refs is parsed only when it changed, and each loose
 * file is looked at every time (a stat, ~8 µs; they stay few because a loop's archive packs
 * them, see Archive.packRefsIfDue, as gc does).
 *
 * The reading order is git's own: loose refs first, then packed-refs, so a concurrent
 * `pack-refs` (which writes packed-refs before it deletes the loose files) is never missed.
 * Anything this reader does not understand (the reftable backend, a symbolic ref, a name
 * outside printable ASCII, whose sort order would differ from git's) answers null, and the
 * caller asks git instead.
 */
import { readdirSync, readFileSync, statSync, type BigIntStats } from 'node:fs';
import path from 'node:path';

const HEX_SHA = /^([0-9a-f]{40}|[0-9a-f]{64})\s*$/;
/** Ref names whose byte order equals JavaScript's string order, and that need no quoting. */
const PLAIN_NAME = /^[\x21-\x7e]+$/;
/** What check-ref-format refuses (git skips such files): leave those to git. */
const ODD_NAME = /(^|\/)\.|\.\.|@\{|\\|\.$|[~^:?*[]/;
/**
 * A packed-refs file whose change time is this close to the moment it was read may have been
 * rewritten again within the same clock tick without a visible stat change: read it again.
 */
const RACY_MS = 2000n;

/** A loose ref file as last read: its stat, its SHA, and whether it was old enough to trust the stat. */
interface LooseFile {
  key: string;
  sha: string;
  settled: boolean;
}

interface PackedState {
  key: string;
  /** Wall clock (ms) just before the file was read. */
  readAt: bigint;
  ctimeMs: bigint;
  bytes: Buffer;
  /** The for-each-ref text of the matching refs (sorted by name), and where each line starts in it. */
  text: string;
  offsets: Uint32Array;
}

/** What changes when git replaces a file (its inode) or rewrites it: a stat that is unchanged means the same content, once settled. */
function statKey(st: BigIntStats): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

export class RefFiles {
  private packed: PackedState | null = null;
  /** What each loose ref file held when last read, by name: one stat instead of a read when it is unchanged. */
  private looseFiles = new Map<string, LooseFile>();
  private lastLoose = '';
  private lastText: string | null = null;

  /**
   * @param commonDir the repository's common git dir (where refs/ and packed-refs live)
   * @param prefixes  ref prefixes ending in '/', as given to for-each-ref
   */
  constructor(
    private readonly commonDir: string,
    private readonly prefixes: string[],
    /** How recent a change must be for an unchanged stat not to be trusted (tests shorten it). */
    private readonly racyMs: bigint = RACY_MS,
  ) {}

  /** The common git dir of the repository whose (possibly linked-worktree) git dir is `gitDir`. */
  static commonDirOf(gitDir: string): string {
    try {
      return path.resolve(gitDir, readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim());
    } catch {
      return gitDir;
    }
  }

  /** Does this repository keep its refs as files (not reftable)? */
  static supported(commonDir: string): boolean {
    try {
      statSync(path.join(commonDir, 'reftable'));
      return false;
    } catch {
      return true;
    }
  }

  /** How many loose ref files the last listing found (a loop's new branches, until packed). */
  get looseCount(): number {
    return this.looseFiles.size;
  }

  /**
   * The listing `git for-each-ref --format=%(refname)%00%(objectname) <prefixes>` would print,
   * or null when git must be asked. An unchanged listing is the very same string as last time.
   */
  list(): string | null {
    const loose: [string, string][] = [];
    // Only the files still there are remembered.
    const seen = new Map<string, LooseFile>();
    for (const prefix of this.prefixes) {
      if (!this.readLoose(prefix.replace(/\/+$/, ''), loose, seen)) return null;
    }
    this.looseFiles = seen;
    const packed = this.readPacked();
    if (packed === null) return null;
    loose.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const looseKey = loose.map(([r, s]) => `${r}\0${s}`).join('\n');
    if (this.lastText !== null && looseKey === this.lastLoose && packed === this.packed) return this.lastText;
    this.packed = packed;
    this.lastLoose = looseKey;
    this.lastText = merge(packed, loose);
    return this.lastText;
  }

  /** Loose refs under `dir` (relative to the common dir), recursively; false on anything unexpected. */
  private readLoose(dir: string, out: [string, string][], seen: Map<string, LooseFile>): boolean {
    let entries;
    try {
      entries = readdirSync(path.join(this.commonDir, dir), { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ENOTDIR';
    }
    for (const entry of entries) {
      const name = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!this.readLoose(name, out, seen)) return false;
        continue;
      }
      // A ref being written (its .lock): not a ref yet.
      if (entry.name.endsWith('.lock')) continue;
      // A symbolic link, or a name git would refuse or sort differently: leave it to git.
      if (!entry.isFile() || !PLAIN_NAME.test(name) || ODD_NAME.test(name)) return false;
      const file = path.join(this.commonDir, name);
      let content: string;
      let key: string;
      let settled: boolean;
      try {
        // Git replaces a ref file (lock file, then rename), so an unchanged stat is unchanged
        // content — unless it was written so recently that a rewrite could hide in the same
        // clock tick: such a file is read again until it settles.
        const now = BigInt(Date.now());
        const st = statSync(file, { bigint: true });
        key = statKey(st);
        settled = now - st.ctimeMs > this.racyMs;
        const known = this.looseFiles.get(name);
        if (known?.key === key && known.settled) {
          seen.set(name, known);
          out.push([name, known.sha]);
          continue;
        }
        content = readFileSync(file, 'utf8');
      } catch (e) {
        // Deleted since the listing (a delete, or pack-refs moving it into packed-refs).
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const sha = HEX_SHA.exec(content)?.[1];
      // A symbolic ref or a torn file: leave the judgement to git.
      if (sha === undefined) return false;
      seen.set(name, { key, sha, settled });
      out.push([name, sha]);
    }
    return true;
  }

  /** packed-refs, parsed again only when it changed (or may have changed unseen); null when unreadable. */
  private readPacked(): PackedState | null {
    const file = path.join(this.commonDir, 'packed-refs');
    const now = BigInt(Date.now());
    let st: BigIntStats;
    try {
      st = statSync(file, { bigint: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      return this.packed?.key === 'none' ? this.packed : parsePacked('none', now, 0n, Buffer.alloc(0), this.prefixes);
    }
    const key = statKey(st);
    const last = this.packed;
    if (last && last.key === key && last.readAt - last.ctimeMs > this.racyMs) return last;
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return this.readPacked();
      throw e;
    }
    if (last && last.bytes.equals(bytes)) {
      last.key = key;
      last.readAt = now;
      last.ctimeMs = st.ctimeMs;
      return last;
    }
    return parsePacked(key, now, st.ctimeMs, bytes, this.prefixes);
  }
}

function parsePacked(key: string, readAt: bigint, ctimeMs: bigint, bytes: Buffer, prefixes: string[]): PackedState | null {
  let names: string[] = [];
  let shas: string[] = [];
  let sorted = false;
  for (const line of bytes.toString('utf8').split('\n')) {
    if (!line) continue;
    if (line.startsWith('#')) {
      if (/\bsorted\b/.test(line)) sorted = true;
      continue;
    }
    if (line.startsWith('^')) continue; // the peeled value of the tag above
    const space = line.indexOf(' ');
    const name = line.slice(space + 1);
    if (!prefixes.some((p) => name.startsWith(p))) continue;
    if (!PLAIN_NAME.test(name) || !HEX_SHA.test(line.slice(0, space))) return null;
    names.push(name);
    shas.push(line.slice(0, space));
  }
  if (!sorted) {
    const order = names.map((_, i) => i).sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
    const unsortedShas = shas;
    shas = order.map((i) => unsortedShas[i]!);
    const unsortedNames = names;
    names = order.map((i) => unsortedNames[i]!);
  }
  // The names and SHAs are cut from the file's text: only the joined listing is kept, so that
  // text can be collected.
  const offsets = new Uint32Array(names.length);
  const lines: string[] = new Array(names.length);
  let at = 0;
  for (let i = 0; i < names.length; i++) {
    offsets[i] = at;
    lines[i] = `${names[i]}\0${shas[i]}\n`;
    at += lines[i]!.length;
  }
  return { key, readAt, ctimeMs, bytes, text: lines.join(''), offsets };
}

/** The packed listing with the loose refs put in (a loose ref overrides its packed copy). */
function merge(packed: PackedState, loose: [string, string][]): string {
  if (loose.length === 0) return packed.text;
  const { text, offsets } = packed;
  const count = offsets.length;
  const nameAt = (i: number) => text.slice(offsets[i], text.indexOf('\0', offsets[i]));
  let out = '';
  let from = 0; // index of the next packed line not yet copied
  for (const [name, sha] of loose) {
    // First packed line whose name is >= this loose name.
    let lo = from;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (nameAt(mid) < name) lo = mid + 1;
      else hi = mid;
    }
    out += text.slice(offsets[from] ?? text.length, offsets[lo] ?? text.length);
    out += `${name}\0${sha}\n`;
    from = lo < count && nameAt(lo) === name ? lo + 1 : lo;
  }
  return out + text.slice(offsets[from] ?? text.length);
}

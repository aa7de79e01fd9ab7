/**
 * Writing loose objects the way git does, without a git process: the id is the hash of
 * "<type> <size>\0<content>" (SHA-1 or SHA-256, as the repository says), the file is that
 * text deflated, written to a temporary file in objects/xx/ and then linked (or renamed) to
 * objects/xx/<rest>, so a reader sees a whole object or none. The agent loop writes a few
 * small objects a step (claims, node commits, notes); each used to be a round trip to a
 * long-lived `git hash-object` plus a temporary file for it to read.
 *
 * Not used (null from `open`) where git would do more than this: a shared repository
 * (core.sharedRepository adjusts permissions) or an object format this code does not know.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, linkSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { mkdir, readdir } from 'node:fs/promises';
import { deflateSync, inflateSync } from 'node:zlib';
import { InfraError, unlessMissing } from '../errors/index.js';
import { PackIndexes } from './pack-index.js';
import { formatTree, parseTree } from './tree.js';

export type LooseObjectType = 'blob' | 'tree' | 'commit';

/** Loose objects larger than this, as a file or inflated, are left to git (read whole and inflated at once here). */
const READ_MAX_FILE_BYTES = 1024 * 1024;
const READ_MAX_OBJECT_BYTES = 16 * 1024 * 1024;

export class LooseObjects {
  /** The packs' indexes, read at the first lookup that needs them. */
  private packs: PackIndexes | null = null;

  private constructor(
    /** The repository's objects directory (absolute). */
    readonly dir: string,
    readonly format: 'sha1' | 'sha256',
  ) {}

  /**
   * A writer for the repository whose `git rev-parse --show-object-format --git-path objects`
   * printed `revParse` (run in `cwd`) and whose core.sharedRepository is `shared` (null: unset).
   */
  static from(cwd: string, revParse: string, shared: string | null): LooseObjects | null {
    const [format, objects] = revParse.trim().split('\n');
    if ((format !== 'sha1' && format !== 'sha256') || !objects) return null;
    if (shared !== null && !['', 'false', 'umask', '0'].includes(shared.trim().toLowerCase())) return null;
    return new LooseObjects(path.resolve(cwd, objects), format);
  }

  /**
   * Make the 256 fan-out directories (objects/00 … objects/ff) that are missing, in the
   * background. A new object in a missing one costs a mkdir on the way (about 0.3 ms here), and
   * in a fresh or freshly gc'd repository most are missing: a loop writing a few objects a step
   * pays that for its first few hundred objects, git's own writes (add, checkout) too.
   * `git prune` removes the ones left empty, as it always does. Failures are ignored: a write
   * makes its directory itself when it must.
   */
  prepareFanout(): Promise<void> {
    const names = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
    return readdir(this.dir).then(
      async (present) => {
        const have = new Set(present);
        for (const name of names) if (!have.has(name)) await mkdir(path.join(this.dir, name)).catch(() => undefined);
      },
      () => undefined,
    );
  }

  /** The object's id, as `git hash-object -t <type>` computes it. */
  id(type: LooseObjectType, content: Buffer): string {
    return createHash(this.format).update(`${type} ${content.length}\0`).update(content).digest('hex');
  }

  /**
   * Is the object in the repository, loose or in a pack? False also where git might still find
   * it (an alternate object store, a pack index this code does not read): a caller that must be
   * sure asks git then.
   */
  has(id: string): boolean {
    if (existsSync(path.join(this.dir, id.slice(0, 2), id.slice(2)))) return true;
    this.packs ??= new PackIndexes(path.join(this.dir, 'pack'), this.format === 'sha1' ? 20 : 32);
    return this.packs.has(id);
  }

  /**
   * The loose object with this id, as `git cat-file --batch` gives it (type and content), read
   * and inflated in-process: a reader on a busy machine waits for no other process. Null —
   * ask git — when it is not a loose object here (packed, in an alternate store, absent), when
   * its file or its content is larger than READ_MAX_FILE_BYTES or READ_MAX_OBJECT_BYTES, or
   * when the file is not a well-formed object of the size its header says (git then says what
   * is wrong with it). Replace refs are not
   * looked at: the caller reads in-process only where there are none.
   */
  read(id: string): { type: string; content: Buffer } | null {
    if (!/^[0-9a-f]+$/.test(id) || id.length !== (this.format === 'sha1' ? 40 : 64)) return null;
    const fd = unlessMissing(() => openSync(path.join(this.dir, id.slice(0, 2), id.slice(2)), 'r'));
    if (fd === null) return null;
    let raw: Buffer;
    try {
      const size = fstatSync(fd).size;
      if (size > READ_MAX_FILE_BYTES) return null;
      raw = Buffer.allocUnsafe(size);
      let at = 0;
      while (at < size) {
        const n = readSync(fd, raw, at, size - at, at);
        if (n === 0) return null;
        at += n;
      }
    } finally {
      closeSync(fd);
    }
    let data: Buffer;
    try {
      // Bounded: a small file can inflate to gigabytes.
      data = inflateSync(raw, { maxOutputLength: READ_MAX_OBJECT_BYTES + 64 });
    } catch {
      return null;
    }
    const nul = data.indexOf(0);
    const m = nul > 0 ? /^(blob|tree|commit|tag) (\d+)$/.exec(data.toString('latin1', 0, nul)) : null;
    if (!m || Number(m[2]) !== data.length - nul - 1) return null;
    return { type: m[1] as string, content: data.subarray(nul + 1) };
  }

  /**
   * Write the object (unless it is there already) and return its id. A tree or commit is
   * checked first, as `git hash-object` would: a malformed one is refused, never stored.
   */
  write(type: LooseObjectType, data: string | Buffer): string {
    const content = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const problem = this.check(type, content);
    if (problem) throw new InfraError('E_BAD_OBJECT', `refusing to write a malformed ${type} object: ${problem}`, 'This is a bug in evogit; please report it.');
    const id = this.id(type, content);
    const dir = path.join(this.dir, id.slice(0, 2));
    const file = path.join(dir, id.slice(2));
    if (existsSync(file)) return id;
    // Level 1, git's default for loose objects (core.looseCompression); any level reads the same.
    const bytes = deflateSync(Buffer.concat([Buffer.from(`${type} ${content.length}\0`), content]), { level: 1 });
    const tmp = path.join(dir, `tmp_obj_${randomBytes(6).toString('hex')}`);
    try {
      writeFileSync(tmp, bytes, { mode: 0o444, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      mkdirSync(dir, { recursive: true });
      writeFileSync(tmp, bytes, { mode: 0o444, flag: 'wx' });
    }
    try {
      linkSync(tmp, file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Someone wrote the same object meanwhile: the same bytes, keep theirs.
      if (code === 'EEXIST') return (unlinkSync(tmp), id);
      // A filesystem without hard links (as git does: fall back to rename).
      renameSync(tmp, file);
      return id;
    }
    unlinkSync(tmp);
    return id;
  }

  /** What is wrong with a tree or commit (the checks git's fsck makes of what evogit writes), or null. */
  private check(type: LooseObjectType, content: Buffer): string | null {
    const hex = this.format === 'sha1' ? 40 : 64;
    if (type === 'commit') {
      const sha = `[0-9a-f]{${hex}}`;
      const ident = '[^<>\\n]* <[^<>\\n]*> \\d+ [+-]\\d{4}';
      const header = new RegExp(`^tree ${sha}\\n(?:parent ${sha}\\n)*author ${ident}\\ncommitter ${ident}\\n(?:[^\\n]+\\n)*\\n`);
      return header.test(content.toString('utf8')) ? null : 'bad headers';
    }
    if (type === 'tree') {
      let entries;
      try {
        entries = parseTree(content, hex / 2);
      } catch {
        return 'truncated entry';
      }
      for (const e of entries) {
        if (!['100644', '100755', '120000', '160000', '40000'].includes(e.mode)) return `mode ${e.mode} of ${e.name}`;
        if (!e.name || e.name.includes('/') || e.name === '.' || e.name === '..' || e.name === '.git') return `entry name "${e.name}"`;
      }
      try {
        // Sorted as git requires and no name twice: formatting the entries again changes nothing.
        return formatTree(entries).equals(content) ? null : 'entries out of order';
      } catch (e) {
        return (e as Error).message;
      }
    }
    return null;
  }
}

/**
 * Reading loose objects the way `git cat-file --batch` gives them, without a git process: the
 * file objects/xx/<rest> is the text "<type> <size>\0<content>" deflated. The agent loop reads
 * back, on each refresh, the few small objects its neighbours have just written; a read here
 * waits for no other process on a busy machine. Anything unusual (packed, an alternate store,
 * a large or damaged object) answers null, and the caller asks git. Writing is left to git
 * (object-writer.ts).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { unlessMissing } from '../errors/index.js';

/** Loose objects larger than this, as a file or inflated, are left to git (read whole and inflated at once here). */
const READ_MAX_FILE_BYTES = 1024 * 1024;
const READ_MAX_OBJECT_BYTES = 16 * 1024 * 1024;

export class LooseObjects {
  private constructor(
    /** The repository's objects directory (absolute). */
    readonly dir: string,
    readonly format: 'sha1' | 'sha256',
  ) {}

  /** A reader of the objects directory `dir` of a repository in `format` (as `git rev-parse --show-object-format` says); null for a format this code does not know. */
  static at(dir: string, format: string): LooseObjects | null {
    return format === 'sha1' || format === 'sha256' ? new LooseObjects(dir, format) : null;
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
}

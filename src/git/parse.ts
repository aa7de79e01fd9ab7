/**
 * Pure parsers of git's machine-readable output. Each git call in src/git and src/archive asks
 * for a fixed format (NUL-separated fields, -z, full SHAs) and hands the text to one of these.
 */
import { isUtf8 } from 'node:buffer';

/**
 * git's "no object" id in the repository's object format: as many zeros as one of its ids has
 * hex digits (40 for SHA-1, 64 for SHA-256).
 */
export function zeroIdLike(id: string): string {
  return '0'.repeat(id.length === 64 ? 64 : 40);
}

/** A full object id, in either object format git supports. */
export const FULL_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** One commit as `git log --format=LOG_FORMAT` prints it. */
export interface RawCommit {
  id: string;
  tree: string;
  parents: string[];
  /** Committer time, seconds since the epoch. */
  time: number;
  subject: string;
  /** Trailer key → value (last one wins), only the keys asked for. */
  trailers: Record<string, string>;
}

export const TRAILER_KEYS = ['Evogit-Writer', 'Evogit-Agent', 'Evogit-Operator', 'Evogit-Model', 'Evogit-Cost', 'Evogit-Targets'] as const;

/**
 * Six NUL-terminated fields per commit. The trailers come in one `%(trailers)` pass with a
 * 0x1f separator between trailer lines (cheaper than one pass per key).
 */
export const LOG_FORMAT =
  '%H%x00%T%x00%P%x00%ct%x00%s%x00%(trailers:' +
  TRAILER_KEYS.map((k) => `key=${k}`).join(',') +
  ',unfold,separator=%x1f)%x00';

export function parseTrailerLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const line of text.split('\x1f')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return out;
}

/** Parse `git log --format=LOG_FORMAT` output (tformat adds a newline after each record). */
export function parseLog(out: string): RawCommit[] {
  const commits: RawCommit[] = [];
  const f = out.split('\0');
  // The final element after the last NUL is the trailing newline (or empty).
  for (let i = 0; i + 6 <= f.length; i += 6) {
    const id = (f[i] as string).replace(/^\n/, '');
    const parents = f[i + 2] as string;
    commits.push({
      id,
      tree: f[i + 1] as string,
      parents: parents ? parents.split(' ') : [],
      time: Number(f[i + 3]),
      subject: f[i + 4] as string,
      trailers: parseTrailerLines(f[i + 5] as string),
    });
  }
  return commits;
}

/**
 * `parseLog` over a stream: push the output's chunks as they arrive and get the commits each
 * completes. Fields are decoded from the bytes one by one, so no string holds the whole
 * output and no commit's strings keep a 25 MB output alive (a substring would).
 */
export class LogReader {
  /** The bytes of an unfinished record: chunks kept apart until its last field ends (no copy per chunk). */
  private parts: Buffer[] = [];
  /** Field ends (NULs) seen in `parts`. */
  private nuls = 0;

  push(chunk: Buffer): RawCommit[] {
    if (this.parts.length > 0) {
      // Still inside one record (a long subject or message in small chunks): only count.
      let seen = this.nuls;
      for (let at = chunk.indexOf(0); at >= 0 && seen < 6; at = chunk.indexOf(0, at + 1)) seen++;
      if (seen < 6) {
        this.parts.push(chunk);
        this.nuls = seen;
        return [];
      }
    }
    const buf = this.parts.length > 0 ? Buffer.concat([...this.parts, chunk]) : chunk;
    this.parts = [];
    this.nuls = 0;
    const commits: RawCommit[] = [];
    let start = 0;
    for (;;) {
      const ends: number[] = [];
      let at = start;
      for (let k = 0; k < 6; k++) {
        const nul = buf.indexOf(0, at);
        if (nul < 0) break;
        ends.push(nul);
        at = nul + 1;
      }
      if (ends.length < 6) break;
      // tformat ends each record with a newline: it leads the next record's first field.
      let idStart = start;
      while (buf[idStart] === 10) idStart++;
      const parents = buf.toString('latin1', ends[1]! + 1, ends[2]);
      commits.push({
        id: buf.toString('latin1', idStart, ends[0]),
        tree: buf.toString('latin1', ends[0]! + 1, ends[1]),
        parents: parents ? parents.split(' ') : [],
        time: Number(buf.toString('latin1', ends[2]! + 1, ends[3])),
        subject: buf.toString('utf8', ends[3]! + 1, ends[4]),
        trailers: parseTrailerLines(buf.toString('utf8', ends[4]! + 1, ends[5])),
      });
      start = ends[5]! + 1;
    }
    if (start < buf.length) {
      // A copy: the unfinished record must not keep the whole chunk alive.
      const rest = Buffer.from(buf.subarray(start));
      this.parts = [rest];
      for (let at = rest.indexOf(0); at >= 0; at = rest.indexOf(0, at + 1)) this.nuls++;
    }
    return commits;
  }

  /** True when the output ended on a record boundary (only newlines left over). */
  get complete(): boolean {
    return this.parts.every((p) => p.every((b) => b === 10));
  }
}

export interface RefEntry {
  /** Full ref name, e.g. refs/heads/evo/a1/3. */
  ref: string;
  /** What the ref points at (a commit, or a blob for claims). */
  sha: string;
}

export const FOR_EACH_REF_FORMAT = '%(refname)%00%(objectname)';

/** Parse `git for-each-ref --format=FOR_EACH_REF_FORMAT` output. */
export function parseForEachRef(out: string): RefEntry[] {
  const refs: RefEntry[] = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const nul = line.indexOf('\0');
    if (nul < 0) continue;
    refs.push({ ref: line.slice(0, nul), sha: line.slice(nul + 1) });
  }
  return refs;
}

/**
 * The blobs of `git ls-tree -r -z` output given as bytes: each blob's SHA, decoded on its own
 * (no string of the whole output is built, so none is kept alive by the values), and where
 * its path lies in `out` (decoded only by a caller that needs it).
 */
export function forEachLsTreeBlob(out: Buffer, fn: (sha: string, pathStart: number, pathEnd: number) => void): void {
  let at = 0;
  while (at < out.length) {
    let end = out.indexOf(0, at);
    if (end < 0) end = out.length;
    const tab = out.indexOf(9, at);
    const s1 = out.indexOf(32, at);
    const s2 = out.indexOf(32, s1 + 1);
    if (tab > 0 && tab < end && s2 > 0 && s2 < tab && out.toString('latin1', s1 + 1, s2) === 'blob') fn(out.toString('latin1', s2 + 1, tab), tab + 1, end);
    at = end + 1;
  }
}

export interface TreeChange {
  status: string;
  /** New blob SHA (zeros when deleted). */
  sha: string;
  path: string;
}

/** Parse `git diff-tree -r -z --no-renames A B` output. */
export function parseDiffTree(out: string): TreeChange[] {
  const changes: TreeChange[] = [];
  const f = out.split('\0');
  for (let i = 0; i + 1 < f.length; i += 2) {
    const meta = f[i] as string;
    if (!meta.startsWith(':')) {
      // diff-tree prints the commit id first when given a single commit; skip it.
      i -= 1;
      continue;
    }
    const [, , , newSha, status] = meta.slice(1).split(' ') as [string, string, string, string, string];
    changes.push({ status: status.charAt(0), sha: newSha, path: f[i + 1] as string });
  }
  return changes;
}

export interface BatchObject {
  /** The name asked for (as written to stdin). */
  name: string;
  sha: string;
  type: string;
  content: string;
}

/**
 * Parse `git cat-file --batch` output. Sizes are in bytes, so the text is walked as a
 * Buffer. Objects that do not exist come back as `<name> missing` and are left out.
 */
export function parseCatFileBatch(out: Buffer, names: string[]): Map<string, BatchObject> {
  const found = new Map<string, BatchObject>();
  let pos = 0;
  let n = 0;
  while (pos < out.length && n < names.length) {
    const nl = out.indexOf(0x0a, pos);
    if (nl < 0) break;
    const header = out.toString('utf8', pos, nl);
    const name = names[n++] as string;
    pos = nl + 1;
    if (header.endsWith(' missing') || header.endsWith(' ambiguous')) continue;
    const [sha, type, size] = header.split(' ') as [string, string, string];
    const len = Number(size);
    found.set(name, { name, sha, type, content: out.toString('utf8', pos, pos + len) });
    pos += len + 1;
  }
  return found;
}

/** The same as parseCatFileBatch when the output is pure ASCII (byte offsets = string offsets): no copy into a Buffer. */
export function parseCatFileBatchAscii(out: string, names: string[]): Map<string, BatchObject> {
  const found = new Map<string, BatchObject>();
  let pos = 0;
  let n = 0;
  while (pos < out.length && n < names.length) {
    const nl = out.indexOf('\n', pos);
    if (nl < 0) break;
    const header = out.slice(pos, nl);
    const name = names[n++] as string;
    pos = nl + 1;
    if (header.endsWith(' missing') || header.endsWith(' ambiguous')) continue;
    const sp1 = header.indexOf(' ');
    const sp2 = header.indexOf(' ', sp1 + 1);
    const len = Number(header.slice(sp2 + 1));
    found.set(name, { name, sha: header.slice(0, sp1), type: header.slice(sp1 + 1, sp2), content: out.slice(pos, pos + len) });
    pos += len + 1;
  }
  return found;
}

/** One object out of a streamed `cat-file --batch`: its bytes, not yet decoded. */
export interface BatchBlob {
  /** The name asked for (as written to stdin). */
  name: string;
  sha: string;
  type: string;
  content: Buffer;
}

/**
 * Incremental parser of `git cat-file --batch` output fed as Buffers of any size: a header
 * line `<sha> <type> <size>`, exactly <size> bytes, then a newline; `<name> missing` (or
 * `ambiguous`) for a name that resolves to nothing, which is left out. `push` returns the
 * objects completed by the chunk, in the order the names were asked.
 */
export class CatFileBatchReader {
  private n = 0;
  /** Bytes of a header line cut by a chunk boundary. */
  private head: Buffer | null = null;
  /** The object whose content is being filled. */
  private current: { name: string; sha: string; type: string; content: Buffer; filled: number } | null = null;
  /** The newline after a content is still to come. */
  private skipNewline = false;

  constructor(private readonly names: readonly string[]) {}

  /** Every name has been answered and nothing is left half-read. */
  get complete(): boolean {
    return this.n >= this.names.length && this.current === null && this.head === null && !this.skipNewline;
  }

  push(chunk: Buffer): BatchBlob[] {
    const out: BatchBlob[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const cur = this.current;
      if (cur) {
        const take = Math.min(cur.content.length - cur.filled, chunk.length - pos);
        chunk.copy(cur.content, cur.filled, pos, pos + take);
        cur.filled += take;
        pos += take;
        if (cur.filled === cur.content.length) this.finish(out);
        continue;
      }
      if (this.skipNewline) {
        pos++;
        this.skipNewline = false;
        continue;
      }
      const nl = chunk.indexOf(0x0a, pos);
      if (nl < 0) {
        this.head = this.head ? Buffer.concat([this.head, chunk.subarray(pos)]) : Buffer.from(chunk.subarray(pos));
        break;
      }
      const header = (this.head ? Buffer.concat([this.head, chunk.subarray(pos, nl)]) : chunk.subarray(pos, nl)).toString('utf8');
      this.head = null;
      pos = nl + 1;
      const name = this.names[this.n++] ?? '';
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) continue;
      const sp1 = header.indexOf(' ');
      const sp2 = header.indexOf(' ', sp1 + 1);
      const size = Number(header.slice(sp2 + 1));
      if (sp1 < 0 || sp2 < 0 || !Number.isSafeInteger(size) || size < 0) throw new Error(`cat-file --batch: unexpected header ${JSON.stringify(header)}`);
      const sha = header.slice(0, sp1);
      const type = header.slice(sp1 + 1, sp2);
      if (chunk.length - pos >= size) {
        // The whole content is in this chunk: a view, no copy.
        out.push({ name, sha, type, content: chunk.subarray(pos, pos + size) });
        pos += size;
        this.skipNewline = true;
      } else {
        this.current = { name, sha, type, content: Buffer.allocUnsafe(size), filled: 0 };
      }
    }
    return out;
  }

  private finish(out: BatchBlob[]): void {
    const cur = this.current as NonNullable<CatFileBatchReader['current']>;
    out.push({ name: cur.name, sha: cur.sha, type: cur.type, content: cur.content });
    this.current = null;
    this.skipNewline = true;
  }
}

/** `ab/cd/ef…` or `abcdef…` → the annotated object's SHA. */
export function notePathToSha(path: string): string {
  return path.replace(/\//g, '');
}

/** Parse `git push --porcelain` output into rejected refs (`!` lines). */
export function parsePushRejections(out: string): string[] {
  const rejected: string[] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith('!\t')) rejected.push(line.split('\t')[1] ?? line);
  }
  return rejected;
}

/** `git ls-files -z` / `git diff --name-only -z` output → paths. */
export function parseNulList(stdout: string): string[] {
  return stdout.split('\0').filter(Boolean);
}

export interface StatusEntry {
  /** Two-letter XY code of `git status --porcelain`. */
  code: string;
  path: string;
}

/** `git status --porcelain=v1 -z`: renames carry the old path as an extra NUL-terminated field. */
export function parsePorcelainZ(stdout: string): StatusEntry[] {
  const fields = stdout.split('\0');
  const out: StatusEntry[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.length < 4) continue;
    const code = f.slice(0, 2);
    out.push({ code, path: f.slice(3) });
    if (code[0] === 'R' || code[0] === 'C') i++;
  }
  return out;
}

const GIT_GENERATED_TRAILER_PREFIXES = ['Signed-off-by: ', '(cherry picked from commit '];

/** git's `find_separator` for the default separator ":": the offset of the ":" ending a trailer key, or -1. */
function trailerSeparator(line: string): number {
  let whitespace = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x3a) return i;
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!whitespace && (alnum || c === 0x2d)) continue;
    if (i !== 0 && (c === 0x20 || c === 0x09)) {
      whitespace = true;
      continue;
    }
    break;
  }
  return -1;
}

/** git's isspace is ASCII space, tab, newline and carriage return only. */
const trimGit = (s: string): string => s.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');
const TRAILER_KEYS_LOWER = new Set(TRAILER_KEYS.map((k) => k.toLowerCase()));

/**
 * A raw commit object (as `cat-file --batch` gives it) → exactly what `parseLog` gives for it
 * with LOG_FORMAT, or null when the commit is outside the shape this reproduces git's rules
 * for (then ask `git log`). Git's subject (%s) and trailer (%(trailers)) rules are subtle, so
 * only this shape is taken: headers tree, parent*, author, committer and nothing else (no
 * encoding, gpgsig, mergetag); a UTF-8 message without control characters (CR included) other
 * than tab and newline; no comment lines (`#`), no whitespace-only lines, no `Conflicts:`
 * block or `---` line; a last paragraph with no line that starts with whitespace
 * (continuations). It assumes git's default config for comment characters and trailers, which
 * the caller checks once.
 */
export function parseCommitObject(id: string, raw: Buffer): RawCommit | null {
  const sep = raw.indexOf('\n\n');
  if (sep < 0) return null;
  const head = raw.toString('latin1', 0, sep).split('\n');
  let i = 0;
  const tree = /^tree ([0-9a-f]{40}|[0-9a-f]{64})$/.exec(head[i++] ?? '')?.[1];
  if (!tree) return null;
  const parents: string[] = [];
  for (let m; (m = /^parent ([0-9a-f]{40}|[0-9a-f]{64})$/.exec(head[i] ?? '')); i++) parents.push(m[1] as string);
  if (!/^author [^<>\n]*<[^<>\n]*> \d{1,10} [+-]\d{4}$/.test(head[i++] ?? '')) return null;
  const committer = /^committer [^<>\n]*<[^<>\n]*> (\d{1,10}) [+-]\d{4}$/.exec(head[i++] ?? '');
  if (!committer || i !== head.length) return null;
  const body = raw.subarray(sep + 2);
  for (const b of body) if ((b < 0x20 && b !== 0x09 && b !== 0x0a) || b === 0x7f) return null;
  if (!isUtf8(body)) return null;
  const lines = body.toString('utf8').split('\n');
  // The piece after a final newline is not a line.
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (line.startsWith('#') || line.startsWith('---') || line.startsWith('Conflicts:') || (line !== '' && trimGit(line) === '')) return null;
  }
  const commit: RawCommit = { id, tree, parents, time: Number(committer[1]), subject: '', trailers: {} };
  // %s: from the first non-blank line, the lines up to a blank one, trailing space cut, joined by spaces.
  let first = 0;
  while (first < lines.length && lines[first] === '') first++;
  let titleEnd = first;
  const title: string[] = [];
  for (; titleEnd < lines.length && lines[titleEnd] !== ''; titleEnd++) title.push((lines[titleEnd] as string).replace(/[ \t]+$/, ''));
  commit.subject = title.join(' ');
  // Trailers: trailing blank lines do not count; the title cannot be trailers; the last
  // paragraph is the trailer block when all its lines are trailers, or when one starts with a
  // prefix git itself writes and at least a quarter are trailers.
  let end = lines.length - 1;
  while (end >= titleEnd && lines[end] === '') end--;
  if (end < titleEnd) return commit;
  let start = end;
  while (lines[start - 1] !== '') start--;
  const block = lines.slice(start, end + 1);
  let trailerLines = 0;
  let others = 0;
  let gitPrefix = false;
  for (const line of block) {
    if (line.startsWith(' ') || line.startsWith('\t')) return null;
    if (GIT_GENERATED_TRAILER_PREFIXES.some((p) => line.startsWith(p))) {
      trailerLines++;
      gitPrefix = true;
    } else if (trailerSeparator(line) >= 1) trailerLines++;
    else others++;
  }
  if (!((gitPrefix && trailerLines * 3 >= others) || (trailerLines > 0 && others === 0))) return commit;
  // As `%(trailers:key=…,unfold,separator=%x1f)` prints them, then through the same parser.
  const printed: string[] = [];
  for (const line of block) {
    const at = trailerSeparator(line);
    if (at < 1) continue;
    const key = trimGit(line.slice(0, at));
    // git matches keys ASCII-case-insensitively (strncasecmp).
    if (!/^[\x21-\x7e]+$/.test(key) || !TRAILER_KEYS_LOWER.has(key.toLowerCase())) continue;
    printed.push(`${key}: ${trimGit(line.slice(at + 1))}`);
  }
  commit.trailers = parseTrailerLines(printed.join('\x1f'));
  return commit;
}

/**
 * Note lines as the archive reads them: one JSON evaluation per line, parsed in batches with
 * the log tails cut out before decoding (they are most of a note's bytes and only `show`
 * reads them), and the strings every line repeats interned. Claims are parsed here too.
 */
import type { Claim, Evaluation } from './types.js';

/** Parse one note's JSON lines; lines that are not an evaluation object are skipped (a person may edit notes by hand). */
export function parseNoteLines(text: string): Evaluation[] {
  const body = text.trim();
  if (!body) return [];
  try {
    // One JSON.parse per note is much faster than one per line.
    const all = JSON.parse('[' + body.split('\n').filter((l) => l.trim()).join(',') + ']') as unknown[];
    if (all.every(isEvaluation)) return all as Evaluation[];
  } catch {
    // A malformed line: fall through and keep every line that does parse.
  }
  const out: Evaluation[] = [];
  for (const line of body.split('\n')) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (isEvaluation(v)) out.push(v);
    } catch {
      // Not JSON: a hand-written remark in the note, not evidence.
      continue;
    }
  }
  return out;
}

/**
 * The note text with every top-level `"log":"…"` member cut out. The load uses the byte form
 * (stripLogMembersBytes, which never decodes the tails); this plain form is the reference it is
 * tested against.
 * A scan over the JSON structure: strings are skipped with native indexOf, and only a key
 * `log` at depth 1 of a line's object, whose value is a string, is cut. Anything unexpected
 * leaves the text as it was (the parsed lines then lose `log` after parsing instead).
 */
export function stripLogMembers(text: string): string {
  let from = text.indexOf('"log":"');
  if (from < 0) return text;
  let out = '';
  let kept = 0;
  let depth = 0;
  let i = 0;
  const n = text.length;
  /** Index of the quote closing the string whose opening quote is at q, or -1. */
  const stringEnd = (q: number): number => {
    let e = text.indexOf('"', q + 1);
    while (e >= 0) {
      let b = e - 1;
      while (text.charCodeAt(b) === 92) b--;
      if ((e - 1 - b) % 2 === 0) return e;
      e = text.indexOf('"', e + 1);
    }
    return -1;
  };
  while (i < n) {
    const q = text.indexOf('"', i);
    const stop = q < 0 ? n : q;
    for (let k = i; k < stop; k++) {
      const c = text.charCodeAt(k);
      if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) depth--;
      else if (c === 10) depth = 0;
    }
    if (q < 0) break;
    const e = stringEnd(q);
    if (e < 0) return text;
    i = e + 1;
    // A key named log at the top level of a line, followed directly by a string value.
    if (depth !== 1 || e - q !== 4 || q < from || text.charCodeAt(q + 1) !== 108 || text.charCodeAt(q + 2) !== 111 || text.charCodeAt(q + 3) !== 103) continue;
    if (text.charCodeAt(e + 1) !== 58 || text.charCodeAt(e + 2) !== 34) continue;
    const ve = stringEnd(e + 2);
    if (ve < 0) return text;
    let cutFrom = q;
    let cutTo = ve + 1;
    if (text.charCodeAt(q - 1) === 44) cutFrom = q - 1;
    else if (text.charCodeAt(cutTo) === 44) cutTo++;
    else if (text.charCodeAt(q - 1) !== 123 || text.charCodeAt(cutTo) !== 125) return text;
    out += text.slice(kept, cutFrom);
    kept = cutTo;
    i = cutTo;
    from = text.indexOf('"log":"', i);
    if (from < 0) break;
  }
  return kept === 0 ? text : out + text.slice(kept);
}

const LOG_KEY = Buffer.from('"log":"');

/**
 * stripLogMembers on a note's bytes, giving the decoded text without its log members: the
 * same scan (JSON structure is ASCII, and UTF-8 continuation bytes never look like it), but
 * the log tails are never decoded — only the kept ranges are. Equal to
 * `stripLogMembers(bytes.toString('utf8'))`.
 */
export function stripLogMembersBytes(bytes: Buffer): string {
  let from = bytes.indexOf(LOG_KEY);
  if (from < 0) return bytes.toString('utf8');
  let out = '';
  let kept = 0;
  let depth = 0;
  let i = 0;
  const n = bytes.length;
  const stringEnd = (q: number): number => {
    let e = bytes.indexOf(34, q + 1);
    while (e >= 0) {
      let b = e - 1;
      while (bytes[b] === 92) b--;
      if ((e - 1 - b) % 2 === 0) return e;
      e = bytes.indexOf(34, e + 1);
    }
    return -1;
  };
  while (i < n) {
    const q = bytes.indexOf(34, i);
    const stop = q < 0 ? n : q;
    for (let k = i; k < stop; k++) {
      const c = bytes[k];
      if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) depth--;
      else if (c === 10) depth = 0;
    }
    if (q < 0) break;
    const e = stringEnd(q);
    if (e < 0) return bytes.toString('utf8');
    i = e + 1;
    if (depth !== 1 || e - q !== 4 || q < from || bytes[q + 1] !== 108 || bytes[q + 2] !== 111 || bytes[q + 3] !== 103) continue;
    if (bytes[e + 1] !== 58 || bytes[e + 2] !== 34) continue;
    const ve = stringEnd(e + 2);
    if (ve < 0) return bytes.toString('utf8');
    let cutFrom = q;
    let cutTo = ve + 1;
    if (bytes[q - 1] === 44) cutFrom = q - 1;
    else if (bytes[cutTo] === 44) cutTo++;
    else if (bytes[q - 1] !== 123 || bytes[cutTo] !== 125) return bytes.toString('utf8');
    out += bytes.toString('utf8', kept, cutFrom);
    kept = cutTo;
    i = cutTo;
    from = bytes.indexOf(LOG_KEY, i);
    if (from < 0) break;
  }
  return kept === 0 ? bytes.toString('utf8') : out + bytes.toString('utf8', kept);
}

/**
 * Parse many notes with one JSON.parse: each note's lines become one array. A note with a
 * blank or malformed line makes the fast path throw; then each note is parsed on its own.
 * Without `logs: true` the lines come back without their `log` tails (what the snapshot keeps);
 * a caller with many notes cuts them out of the bytes first (stripLogMembersBytes), so they
 * are never built as strings.
 */
export function parseNotes(texts: string[], opts: { logs?: boolean; dropped?: number[] } = {}): Evaluation[][] {
  const out: Evaluation[][] = [];
  const keepLogs = opts.logs === true;
  // Batches bound the transient copy of the text (the whole archive's notes can be 100 MB).
  for (let from = 0; from < texts.length; from += NOTES_PER_PARSE) {
    const batch = texts.slice(from, from + NOTES_PER_PARSE);
    let all: unknown[][] | null = null;
    try {
      all = JSON.parse(`[${batch.map((t) => {
        const body = t.trimEnd();
        return body ? `[${body.replace(/\n/g, ',')}]` : '[]';
      }).join(',')}]`) as unknown[][];
    } catch {
      // Some note holds a line that is not JSON: fall back to the careful per-note parser.
      all = null;
    }
    for (const [i, t] of batch.entries()) {
      const fast = all?.[i];
      const lines = fast && fast.every(isEvaluation) ? (fast as Evaluation[]) : parseNoteLines(t);
      if (opts.dropped) opts.dropped[from + i] = lines === fast ? 0 : lineCount(t) - lines.length;
      for (const e of lines) {
        if (!keepLogs && e.log !== undefined) delete e.log;
        internFields(e);
      }
      out.push(lines);
    }
  }
  return out;
}

/**
 * One copy of each repeated string (node id, task, writer, harness, image): JSON.parse makes a
 * new string per line for values longer than a few characters, and 300k lines repeat the same
 * few hundred tasks and images and each node's id several times.
 */
const interned = new Map<string, string>();
export function intern(s: string): string {
  const known = interned.get(s);
  if (known !== undefined) return known;
  // Bounded: a very long-lived process with millions of distinct values starts over.
  if (interned.size >= 1_000_000) interned.clear();
  // The kept copy is a flat string of its own: the value handed in may be a piece of a larger
  // text (kept alive by it) or a concatenation (a wrapper over a copy).
  const own = s.length > 12 ? Buffer.from(s, 'utf8').toString('utf8') : s;
  interned.set(own, own);
  return own;
}

/** One shared object per distinct test count: most of 300k lines repeat a few dozen. */
const internedTests = new Map<string, NonNullable<Evaluation['tests']>>();
function internTests(t: NonNullable<Evaluation['tests']>): NonNullable<Evaluation['tests']> {
  let n = 0;
  for (const k in t) if (Object.prototype.hasOwnProperty.call(t, k)) n++;
  if (n !== 4 || !Number.isInteger(t.passed) || !Number.isInteger(t.failed) || !Number.isInteger(t.skipped) || !Number.isInteger(t.total)) return t;
  const key = `${t.passed},${t.failed},${t.skipped},${t.total}`;
  const known = internedTests.get(key);
  if (known !== undefined) return known;
  if (internedTests.size >= 100_000) internedTests.clear();
  const own = Object.freeze({ passed: t.passed, failed: t.failed, skipped: t.skipped, total: t.total });
  internedTests.set(key, own);
  return own;
}

function internFields(e: Evaluation): void {
  e.node = intern(e.node);
  if (e.tests) e.tests = internTests(e.tests);
  e.task = intern(e.task);
  if (typeof e.writer === 'string') e.writer = intern(e.writer);
  if (typeof e.harness === 'string') e.harness = intern(e.harness);
  if (typeof e.image === 'string') e.image = intern(e.image);
}

export const NOTES_PER_PARSE = 128;

function lineCount(text: string): number {
  let n = 0;
  for (const l of text.split('\n')) if (l.trim()) n++;
  return n;
}
export const PARALLEL_READ_FROM = 20_000;

function isEvaluation(v: unknown): v is Evaluation {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.node === 'string' && typeof e.task === 'string' && (e.outcome === 'pass' || e.outcome === 'fail' || e.outcome === 'error');
}

export function parseClaim(text: string): Claim | null {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (typeof v.writer === 'string' && typeof v.node === 'string' && (v.kind === 'expand' || v.kind === 'evaluate') && typeof v.expires === 'number') {
      return v as unknown as Claim;
    }
  } catch {
    // A claim blob that is not JSON is not a claim.
  }
  return null;
}

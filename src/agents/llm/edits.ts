/**
 * Search/replace edit blocks (aider's format), parsed and applied as pure functions:
 *
 *     path/to/file.ts
 *     <<<<<<< SEARCH
 *     old lines
 *     =======
 *     new lines
 *     >>>>>>> REPLACE
 *
 * Applying tries an exact match, then a whitespace-tolerant one that re-indents the
 * replacement; a miss reports the nearest window of the file so the model can correct itself.
 */

export interface EditBlock {
  path: string;
  /** Whole lines, each ending in '\n'; empty means "create this file". */
  search: string;
  replace: string;
}

export interface ParsedReply {
  blocks: EditBlock[];
  /** Malformed blocks (no file name, unterminated), told back to the model. */
  problems: string[];
  /** The text outside the blocks: the model's explanation. */
  prose: string;
}

const SEARCH = /^\s*<{5,9} ?SEARCH\s*$/;
const DIVIDER = /^\s*={5,9}\s*$/;
const REPLACE = /^\s*>{5,9} ?REPLACE\s*$/;
const FENCE = /^\s*(```|~~~)/;

function cleanPath(line: string): string {
  return line
    .trim()
    .replace(/^(#+\s*|[-*]\s+)/, '')
    .replace(/^(file|path)\s*:\s*/i, '')
    .replace(/^[`*'"]+|[`*'":]+$/g, '')
    .trim();
}

function joinLines(lines: string[]): string {
  return lines.length ? lines.join('\n') + '\n' : '';
}

export function parseEditBlocks(text: string): ParsedReply {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const blocks: EditBlock[] = [];
  const problems: string[] = [];
  const prose: string[] = [];
  let lastPath: string | null = null;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (!SEARCH.test(line)) {
      prose.push(line);
      i++;
      continue;
    }
    // The file name is the nearest non-empty, non-fence line above the SEARCH marker.
    let path: string | null = null;
    for (let j = prose.length - 1; j >= 0; j--) {
      const p = prose[j]!;
      if (!p.trim()) continue;
      if (FENCE.test(p)) {
        const after = p.trim().replace(/^(```|~~~)\w*\s*/, '');
        if (after) path = cleanPath(after);
        if (path) break;
        continue;
      }
      path = cleanPath(p);
      prose.splice(j);
      break;
    }
    if (!path && lastPath) path = lastPath;
    const search: string[] = [];
    const replace: string[] = [];
    let state: 'search' | 'replace' = 'search';
    let closed = false;
    i++;
    while (i < lines.length) {
      const l = lines[i]!;
      if (state === 'search' && DIVIDER.test(l)) state = 'replace';
      else if (state === 'replace' && REPLACE.test(l)) {
        closed = true;
        i++;
        break;
      } else if (SEARCH.test(l)) break;
      else (state === 'search' ? search : replace).push(l);
      i++;
    }
    if (!closed) {
      problems.push(`A block${path ? ` for ${path}` : ''} is not terminated: every block needs "=======" and ">>>>>>> REPLACE".`);
      continue;
    }
    if (!path) {
      problems.push('A block has no file path: put the path alone on the line right before "<<<<<<< SEARCH".');
      continue;
    }
    lastPath = path;
    blocks.push({ path, search: joinLines(search), replace: joinLines(replace) });
  }
  return { blocks, problems, prose: prose.filter((l) => !FENCE.test(l)).join('\n').trim() };
}

export type ApplyResult =
  | { ok: true; content: string; how: 'exact' | 'whitespace' | 'create' }
  | { ok: false; reason: string; nearest?: NearestText };

export interface NearestText {
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
  text: string;
  /** 0..1 similarity of the window to the search text. */
  score: number;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function indentOf(line: string): string {
  return /^[ \t]*/.exec(line)![0];
}

function countOccurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) n++;
  return n;
}

/** Apply one block to a file's content (null when the file does not exist). Content uses '\n'. */
export function applyEdit(content: string | null, block: EditBlock): ApplyResult {
  if (block.search.trim() === '') {
    if (content === null || content.trim() === '') return { ok: true, content: block.replace, how: 'create' };
    return { ok: false, reason: `${block.path} already exists and is not empty: an empty SEARCH section only creates new files; quote the lines to change.` };
  }
  if (content === null) return { ok: false, reason: `${block.path} does not exist. Use an empty SEARCH section to create a new file.` };
  const text = content.endsWith('\n') ? content : content + '\n';
  const restore = (s: string): string => (content.endsWith('\n') ? s : s.replace(/\n$/, ''));

  const exact = countOccurrences(text, block.search);
  if (exact === 1) return { ok: true, content: restore(text.replace(block.search, () => block.replace)), how: 'exact' };
  if (exact > 1) return { ok: false, reason: `The SEARCH text matches ${exact} places in ${block.path}; include more surrounding lines so it matches exactly one.` };

  const fileLines = splitLines(text);
  const searchLines = trimBlankEdges(splitLines(block.search));
  const windows = tolerantMatches(fileLines, searchLines);
  if (windows.length === 1) {
    const start = windows[0]!;
    const matched = fileLines.slice(start, start + searchLines.length);
    const replaceLines = reindent(splitLines(block.replace), searchLines, matched);
    const out = [...fileLines.slice(0, start), ...replaceLines, ...fileLines.slice(start + searchLines.length)];
    return { ok: true, content: restore(joinLines(out)), how: 'whitespace' };
  }
  if (windows.length > 1) return { ok: false, reason: `The SEARCH text matches ${windows.length} places in ${block.path} (ignoring whitespace); include more surrounding lines.` };
  const nearest = nearestText(fileLines, searchLines);
  return { ok: false, reason: `The SEARCH text does not match any lines of ${block.path}.`, ...(nearest ? { nearest } : {}) };
}

function trimBlankEdges(lines: string[]): string[] {
  let a = 0;
  let b = lines.length;
  while (a < b && !lines[a]!.trim()) a++;
  while (b > a && !lines[b - 1]!.trim()) b--;
  return lines.slice(a, b);
}

function tolerantMatches(fileLines: string[], searchLines: string[]): number[] {
  const want = searchLines.map((l) => l.trim());
  const found: number[] = [];
  if (!want.length) return found;
  for (let s = 0; s + want.length <= fileLines.length; s++) {
    let all = true;
    for (let k = 0; k < want.length; k++) {
      if (fileLines[s + k]!.trim() !== want[k]) {
        all = false;
        break;
      }
    }
    if (all) found.push(s);
  }
  return found;
}

/** Shift the replacement by the indentation difference between the search text and the file. */
function reindent(replaceLines: string[], searchLines: string[], matched: string[]): string[] {
  const k = searchLines.findIndex((l) => l.trim());
  if (k < 0) return replaceLines;
  const want = indentOf(matched[k]!);
  const had = indentOf(searchLines[k]!);
  if (want === had) return replaceLines;
  if (want.endsWith(had)) {
    const add = want.slice(0, want.length - had.length);
    return replaceLines.map((l) => (l.trim() ? add + l : l));
  }
  if (had.endsWith(want)) {
    const cut = had.slice(0, had.length - want.length);
    return replaceLines.map((l) => (l.startsWith(cut) ? l.slice(cut.length) : l));
  }
  return replaceLines;
}

/** Character bigrams as numbers (two UTF-16 units), counted. */
function bigrams(s: string): Map<number, number> {
  const m = new Map<number, number>();
  const t = s.trim().replace(/\s+/g, ' ');
  for (let i = 0; i < t.length - 1; i++) {
    const g = t.charCodeAt(i) * 65536 + t.charCodeAt(i + 1);
    m.set(g, (m.get(g) ?? 0) + 1);
  }
  return m;
}

interface Grams {
  trimmed: string;
  counts: Map<number, number>;
  total: number;
}

function grams(line: string): Grams {
  const counts = bigrams(line);
  let total = 0;
  for (const n of counts.values()) total += n;
  return { trimmed: line.trim(), counts, total };
}

function dice(x: Grams, y: Grams): number {
  if (x.trimmed === y.trimmed) return 1;
  const total = x.total + y.total;
  if (!total) return 0;
  const [small, large] = x.counts.size <= y.counts.size ? [x.counts, y.counts] : [y.counts, x.counts];
  let common = 0;
  for (const [g, n] of small) common += Math.min(n, large.get(g) ?? 0);
  return (2 * common) / total;
}

/** Dice coefficient on character bigrams: 1 for equal lines, 0 for nothing in common. */
export function lineSimilarity(a: string, b: string): number {
  return dice(grams(a), grams(b));
}

/** The window of the file, as many lines as the search text, that resembles it most. */
export function nearestText(fileLines: string[], searchLines: string[]): NearestText | null {
  const n = Math.max(1, searchLines.length);
  if (!fileLines.length || !searchLines.length) return null;
  // Bigrams once per line: the scan is then O(file lines x search lines) cheap map lookups.
  const fileGrams = fileLines.map(grams);
  const searchGrams = searchLines.map(grams);
  let best = { start: 0, score: -1 };
  for (let s = 0; s <= Math.max(0, fileLines.length - n); s++) {
    let sum = 0;
    for (let k = 0; k < n && s + k < fileLines.length; k++) sum += dice(fileGrams[s + k]!, searchGrams[k]!);
    const score = sum / n;
    if (score > best.score) best = { start: s, score };
  }
  const end = Math.min(fileLines.length, best.start + n);
  return { startLine: best.start + 1, endLine: end, text: joinLines(fileLines.slice(best.start, end)), score: Math.round(best.score * 100) / 100 };
}

/**
 * What changed between two ref listings (for-each-ref's sorted lines) and a commit's parents:
 * a refresh looks only at the lines that changed (100k refs are 100k lines).
 */

/** Parent SHAs from a raw commit object's header. */
export function commitParents(raw: string): string[] {
  const parents: string[] = [];
  const end = raw.indexOf('\n\n');
  for (const line of raw.slice(0, end < 0 ? raw.length : end).split('\n')) {
    if (line.startsWith('parent ')) parents.push(line.slice(7));
  }
  return parents;
}

/**
 * Lines only in `before` and only in `after`, for two sorted line lists (for-each-ref sorts
 * by refname). Falls back to sets if the input turns out not to be sorted.
 */
export function diffSortedLines(before: string[], after: string[]): { removed: string[]; added: string[] } {
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length && j < after.length) {
    const a = before[i] as string;
    const b = after[j] as string;
    if (a === b) {
      i++;
      j++;
    } else if (a < b) {
      removed.push(a);
      i++;
    } else {
      added.push(b);
      j++;
    }
    if ((i > 0 && i < before.length && (before[i] as string) < (before[i - 1] as string)) || (j > 0 && j < after.length && (after[j] as string) < (after[j - 1] as string))) {
      const old = new Set(before);
      const now = new Set(after);
      return { removed: before.filter((l) => !now.has(l)), added: after.filter((l) => !old.has(l)) };
    }
  }
  while (i < before.length) removed.push(before[i++] as string);
  while (j < after.length) added.push(after[j++] as string);
  return { removed, added };
}

/**
 * Lines only in `before` and only in `after`, for two for-each-ref outputs (sorted by
 * refname). Identical stretches are skipped 16 KB at a time by native string compares, so
 * a few new refs among 100k cost little and allocate little.
 */
export function diffRefText(before: string, after: string): { removed: string[]; added: string[] } {
  const K = 16384;
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  let noChunkUntil = 0;
  while (i < before.length && j < after.length) {
    if (i >= noChunkUntil && before.length - i >= K && after.length - j >= K) {
      if (before.slice(i, i + K) === after.slice(j, j + K)) {
        const nl = before.lastIndexOf('\n', i + K - 1);
        if (nl >= i) {
          const step = nl + 1 - i;
          i += step;
          j += step;
          continue;
        }
      }
      noChunkUntil = i + K;
    }
    let ei = before.indexOf('\n', i);
    if (ei < 0) ei = before.length;
    let ej = after.indexOf('\n', j);
    if (ej < 0) ej = after.length;
    const a = before.slice(i, ei);
    const b = after.slice(j, ej);
    if (a === b) {
      i = ei + 1;
      j = ej + 1;
    } else if (a < b) {
      removed.push(a);
      i = ei + 1;
    } else {
      added.push(b);
      j = ej + 1;
    }
  }
  for (const line of before.slice(i).split('\n')) if (line) removed.push(line);
  for (const line of after.slice(j).split('\n')) if (line) added.push(line);
  return { removed, added };
}

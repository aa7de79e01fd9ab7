/**
 * What a report needs from git beyond the archive: each node's whole commit message and its
 * patch against its first parent, for many nodes in one `git log`, and the root's text of the
 * files those patches touch (the viewer rebuilds any node's diff against the root from them).
 */
import type { Git } from '../../git/index.js';

export interface CommitPatch {
  message: string;
  /** Unified diff against the first parent, as git prints it. */
  patch: string;
}

/** Separates commits in the log: git refuses NUL in commit messages, and diffs never print it. */
const LOG_ARGS = [
  '-c', 'core.quotePath=false',
  'log', '--no-walk=unsorted', '--stdin',
  // A crossover (merge) shows its diff against its first parent only, like every other node.
  '-p', '-m', '--first-parent', '--no-renames', '--no-color', '--no-ext-diff', '--no-textconv',
  '--format=%x00%x00%H%n%B%x00',
];

/** `git log LOG_ARGS` output → message and patch per commit. */
export function parseCommitPatches(out: string): Map<string, CommitPatch> {
  const found = new Map<string, CommitPatch>();
  for (const record of out.split('\0\0')) {
    if (!record) continue;
    const nl = record.indexOf('\n');
    const end = record.indexOf('\0', nl);
    if (nl < 0 || end < 0) continue;
    const sha = record.slice(0, nl);
    found.set(sha, { message: record.slice(nl + 1, end).trimEnd(), patch: record.slice(end + 1).replace(/^\n+/, '') });
  }
  return found;
}

/** Message and first-parent patch of each commit, one git process for all of them. */
export async function commitPatches(git: Git, ids: string[]): Promise<Map<string, CommitPatch>> {
  if (ids.length === 0) return new Map();
  return parseCommitPatches(await git.out(LOG_ARGS, { input: `${ids.join('\n')}\n` }));
}

/** A path as a diff header writes it: `a/x`, `b/x`, `/dev/null`, or C-quoted when it has odd bytes. */
function headerPath(raw: string): string | null {
  let text = raw.replace(/\t$/, '');
  if (text === '/dev/null') return null;
  if (text.startsWith('"') && text.endsWith('"')) text = unquoteC(text.slice(1, -1));
  return text.replace(/^[ab]\//, '');
}

function unquoteC(s: string): string {
  const bytes: number[] = [];
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = s[i + 1] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Every path a patch changes (before and after), from its `---`/`+++` lines and binary notices. */
export function patchPaths(patch: string): string[] {
  const paths = new Set<string>();
  for (const line of patch.split('\n')) {
    let p: string | null = null;
    if (line.startsWith('--- ') || line.startsWith('+++ ')) p = headerPath(line.slice(4));
    else if (line.startsWith('diff --git ')) {
      // Only binary files need this line (they have no ---/+++); names with spaces are ambiguous here.
      const m = /^diff --git a\/(\S+) b\/(\S+)$/.exec(line);
      if (m) p = m[2]!;
    }
    if (p !== null) paths.add(p);
  }
  return [...paths];
}

/** Texts larger than this are not carried (the viewer says so instead of showing the diff against the root). */
export const ROOT_FILE_MAX_BYTES = 1024 * 1024;
/** All root texts together: past this, further files are not carried either. */
export const ROOT_FILES_MAX_BYTES = 32 * 1024 * 1024;
/** A node's patch larger than this is left out (named with its size and paths), like a vendored directory's. */
export const PATCH_MAX_BYTES = 256 * 1024;

/** The root's text of each path; binary or oversized ones are listed apart, absent ones left out. */
export async function rootTexts(git: Git, root: string, paths: string[]): Promise<{ texts: Map<string, string>; unreadable: string[] }> {
  const texts = new Map<string, string>();
  const unreadable: string[] = [];
  if (paths.length === 0) return { texts, unreadable };
  const blobs = await git.catFileBytes(paths.map((p) => `${root}:${p}`));
  let total = 0;
  for (const p of paths) {
    const blob = blobs.get(`${root}:${p}`);
    if (!blob || blob.type !== 'blob') continue;
    const size = blob.content.length;
    if (size > ROOT_FILE_MAX_BYTES || total + size > ROOT_FILES_MAX_BYTES || blob.content.subarray(0, 8000).includes(0)) unreadable.push(p);
    else {
      texts.set(p, blob.content.toString('utf8'));
      total += size;
    }
  }
  return { texts, unreadable };
}

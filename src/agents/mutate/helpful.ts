/**
 * Edits that helped: a node that made some of its parent's failing tests pass carries a
 * helpful edit. Two helpful children of the node being expanded whose helped tests differ are
 * combined into one two-edit child; a helpful edit found elsewhere in the archive (a cousin's
 * fix of another bug) is carried over to this node when the tests it fixed still fail here.
 * Edits are read back from git as the one region of each file that changed, with a little
 * context to find that place again in another node's file.
 */
import type { ArchiveNode } from '../../archive/types.js';
import { git } from '../../git/index.js';

export interface HelpfulNode {
  node: ArchiveNode;
  /** Its first parent. */
  parent: string;
  /** Tests (`task\0test`) the parent failed and the node passed. */
  helped: Set<string>;
  /** Tests the parent passed and the node failed. */
  broke: Set<string>;
}

/** Pairs of helpful nodes that each helped a test the other did not, the most helpful together first. */
export function complementaryPairs(nodes: readonly HelpfulNode[]): [HelpfulNode, HelpfulNode][] {
  const pairs: { pair: [HelpfulNode, HelpfulNode]; gain: number }[] = [];
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      const a = nodes[i]!;
      const b = nodes[j]!;
      if (![...a.helped].some((t) => !b.helped.has(t)) || ![...b.helped].some((t) => !a.helped.has(t))) continue;
      pairs.push({ pair: [a, b], gain: new Set([...a.helped, ...b.helped]).size - new Set([...a.broke, ...b.broke]).size });
    }
  }
  return pairs.sort((x, y) => y.gain - x.gain).map((p) => p.pair);
}

/** One file's change: the text that was replaced, its replacement, and the text around it. */
export interface RegionEdit {
  old: string;
  new: string;
  prefix: string;
  suffix: string;
}

export interface NodeEdit {
  files: Map<string, RegionEdit>;
  /** The edit lines (`- operator file:line: before → after`) of the node's commit message. */
  lines: string[];
}

/** Whole lines of context kept on each side of a changed region, beyond its own lines. */
const CONTEXT_LINES = 3;

/** The start of the line `lines` lines before the one holding `at`. */
function lineStartBack(text: string, at: number, lines: number): number {
  let i = text.lastIndexOf('\n', at - 1);
  for (let k = 0; k < lines && i >= 0; k++) i = text.lastIndexOf('\n', i - 1);
  return i + 1;
}

/** The end of the line `lines` lines after the one holding `at`. */
function lineEndForward(text: string, at: number, lines: number): number {
  let i = text.indexOf('\n', at);
  for (let k = 0; k < lines && i >= 0; k++) i = text.indexOf('\n', i + 1);
  return i < 0 ? text.length : i;
}

/** The one region of `after` that differs from `before`, with context. */
export function changedRegion(before: string, after: string): RegionEdit {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let end = 0;
  while (end < before.length - start && end < after.length - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
  return {
    old: before.slice(start, before.length - end),
    new: after.slice(start, after.length - end),
    prefix: before.slice(lineStartBack(before, start, CONTEXT_LINES), start),
    suffix: before.slice(before.length - end, lineEndForward(before, before.length - end, CONTEXT_LINES)),
  };
}

/** A node's change against its parent, from git: modified files only (none added or removed), else null. */
export async function readEdit(worktree: string, parent: string, node: string): Promise<NodeEdit | null> {
  const diff = await git(worktree, ['diff-tree', '-r', '--no-renames', '-z', parent, node], { reject: false });
  if (diff.exitCode !== 0) return null;
  const fields = diff.stdout.split('\0').filter((f) => f.length > 0);
  const files = new Map<string, RegionEdit>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [, , oldSha, newSha, status] = (fields[i] as string).split(' ') as [string, string, string, string, string];
    if (status !== 'M') return null;
    const [before, after] = await Promise.all([oldSha, newSha].map((sha) => git(worktree, ['cat-file', 'blob', sha], { reject: false })));
    if (before?.exitCode !== 0 || after?.exitCode !== 0) return null;
    files.set(fields[i + 1] as string, changedRegion(before.stdout, after.stdout));
  }
  const message = await git(worktree, ['log', '-1', '--format=%B', node], { reject: false });
  const lines = message.stdout.split('\n').filter((l) => /^- \S+ \S+:\d+: /.test(l));
  return files.size > 0 ? { files, lines } : null;
}

/**
 * The edit applied to `sources` (file → text): each region is found again by its text and
 * the rest of its lines, with more surrounding lines while that is ambiguous; it must occur
 * exactly once. Null when a file is missing or the place is gone (changed since, or ambiguous).
 */
export function applyEdit(sources: ReadonlyMap<string, string>, edit: NodeEdit): Map<string, string> | null {
  const out = new Map(sources);
  for (const [file, r] of edit.files) {
    const source = out.get(file);
    if (source === undefined) return null;
    const at = locate(source, r);
    if (at === null) return null;
    out.set(file, source.slice(0, at) + r.new + source.slice(at + r.old.length));
  }
  return out;
}

/** Where `r.old` starts in `source`: the one place its context (0 to CONTEXT_LINES more lines) matches. */
function locate(source: string, r: RegionEdit): number | null {
  for (let lines = 0; lines <= CONTEXT_LINES; lines++) {
    const prefix = r.prefix.slice(lineStartBack(r.prefix, r.prefix.length, lines));
    const suffix = r.suffix.slice(0, lineEndForward(r.suffix, 0, lines));
    const needle = prefix + r.old + suffix;
    const first = source.indexOf(needle);
    if (first < 0) return null;
    if (source.indexOf(needle, first + 1) < 0) return first + prefix.length;
  }
  return null;
}

/** A node's edit lines without their line numbers: the same edit of the same text, wherever the line moved. */
export const editSignature = (line: string): string => line.replace(/^(- \S+ \S+):\d+: /, '$1: ');

/** Edit lines per commit: commits never change, so an agent keeps what it read. */
const editLinesCache = new Map<string, string[]>();
const EDIT_LINES_CACHE = 50_000;

/** The edit lines of each commit's message, read in one git call for those not read before. */
export async function editLinesOf(worktree: string, ids: readonly string[]): Promise<Map<string, string[]>> {
  const missing = [...new Set(ids)].filter((id) => !editLinesCache.has(id));
  if (missing.length > 0) {
    const out = await git(worktree, ['log', '--no-walk=unsorted', '--format=%H%n%B%x00', ...missing], { reject: false });
    if (out.exitCode === 0) {
      for (const record of out.stdout.split('\0')) {
        const [id, ...body] = record.replace(/^\n/, '').split('\n');
        if (id && /^[0-9a-f]{40,64}$/.test(id)) editLinesCache.set(id, body.filter((l) => /^- \S+ \S+:\d+: /.test(l)));
      }
      if (editLinesCache.size > EDIT_LINES_CACHE) editLinesCache.clear();
    }
  }
  return new Map(ids.map((id) => [id, editLinesCache.get(id) ?? []]));
}

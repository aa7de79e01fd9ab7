/**
 * Two-edit children from pairs of siblings that each helped: a child of the parent that made
 * some of its failing tests pass is a helpful edit; two helpful children whose helped tests
 * differ (each adds tests the other does not) are combined, both edits in one child, when
 * their edits do not overlap. The evidence is the archive's (children's per-test results);
 * the edits are read back from git.
 */
import type { ArchiveNode } from '../../archive/types.js';
import { git } from '../../git/index.js';
import { changes, type ArchiveContext } from './context.js';
import type { Replacement } from './sites/index.js';

export interface HelpfulChild {
  node: ArchiveNode;
  /** Tests (`task\0test`) the parent failed and this child passed. */
  helped: Set<string>;
  /** Tests the parent passed and this child failed. */
  broke: Set<string>;
}

/** The parent's children that made at least one of its failing tests pass, the most helpful first. */
export function helpfulChildren(archive: ArchiveContext | undefined): HelpfulChild[] {
  const parent = archive?.lineage[0];
  if (!archive || !parent) return [];
  const out: HelpfulChild[] = [];
  for (const child of archive.children) {
    if (child.node.pruned) continue;
    const { helped, broke } = changes(parent.evaluations, child.evaluations);
    if (helped.size > 0) out.push({ node: child.node, helped, broke });
  }
  return out.sort((a, b) => b.helped.size - b.broke.size - (a.helped.size - a.broke.size) || (a.node.id < b.node.id ? -1 : 1));
}

/** Pairs of helpful children that each helped a test the other did not, the most helpful together first. */
export function complementaryPairs(children: readonly HelpfulChild[]): [HelpfulChild, HelpfulChild][] {
  const pairs: { pair: [HelpfulChild, HelpfulChild]; gain: number }[] = [];
  for (let i = 0; i < children.length; i++) {
    for (let j = i + 1; j < children.length; j++) {
      const a = children[i]!;
      const b = children[j]!;
      const onlyA = [...a.helped].some((t) => !b.helped.has(t));
      const onlyB = [...b.helped].some((t) => !a.helped.has(t));
      if (!onlyA || !onlyB) continue;
      const gain = new Set([...a.helped, ...b.helped]).size - new Set([...a.broke, ...b.broke]).size;
      pairs.push({ pair: [a, b], gain });
    }
  }
  return pairs.sort((x, y) => y.gain - x.gain).map((p) => p.pair);
}

/** One child's change against the parent: per file, the single region that differs. */
export interface ChildEdit {
  regions: Map<string, Replacement>;
  /** The edit lines (`- operator file:line: before → after`) of the child's commit message. */
  lines: string[];
}

/** The region of `after` that differs from `before`, as one replacement of `before`. */
export function changedRegion(before: string, after: string): Replacement {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let end = 0;
  while (end < before.length - start && end < after.length - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
  return { start, end: before.length - end, text: after.slice(start, after.length - end) };
}

/** Read a child's change from git: modified files only (none added or removed), else null. */
export async function childEdit(worktree: string, parent: string, child: string, parentSource: (file: string) => string | undefined): Promise<ChildEdit | null> {
  const diff = await git(worktree, ['diff-tree', '-r', '--no-renames', '-z', parent, child], { reject: false });
  if (diff.exitCode !== 0) return null;
  const fields = diff.stdout.split('\0').filter((f) => f.length > 0);
  const regions = new Map<string, Replacement>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [, , , sha, status] = (fields[i] as string).split(' ') as [string, string, string, string, string];
    const file = fields[i + 1] as string;
    const before = parentSource(file);
    if (status !== 'M' || before === undefined) return null;
    const blob = await git(worktree, ['cat-file', 'blob', sha], { reject: false });
    if (blob.exitCode !== 0) return null;
    regions.set(file, changedRegion(before, blob.stdout));
  }
  const message = await git(worktree, ['log', '-1', '--format=%B', child], { reject: false });
  const lines = message.stdout.split('\n').filter((l) => /^- \S+ \S+:\d+: /.test(l));
  return regions.size > 0 ? { regions, lines } : null;
}

/** Both children's edits applied to the parent's files; null when they touch overlapping text. */
export function combineEdits(a: ChildEdit, b: ChildEdit, parentSource: (file: string) => string | undefined): Map<string, string> | null {
  const out = new Map<string, string>();
  for (const file of new Set([...a.regions.keys(), ...b.regions.keys()])) {
    const source = parentSource(file);
    if (source === undefined) return null;
    const edits = [a.regions.get(file), b.regions.get(file)].filter((r): r is Replacement => r !== undefined).sort((x, y) => y.start - x.start);
    if (edits.length === 2 && edits[1]!.end > edits[0]!.start) return null;
    out.set(file, edits.reduce((text, r) => text.slice(0, r.start) + r.text + text.slice(r.end), source));
  }
  return out;
}

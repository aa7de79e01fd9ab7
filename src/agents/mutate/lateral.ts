/**
 * Lateral moves: an ancestor's edit on a line that is still suspicious, undone, and another of
 * that line's one-edit candidates made instead, keeping every other edit of the lineage. A
 * partial fix (a leap-year rule that now gets 4 of 5 dates right) is often a local optimum no
 * single further edit repairs, while the right edit of the same line, made on the original
 * text, is one step from the ancestor; the rest of the lineage's fixes are kept, so the child
 * is compared with its parent on everything else. The candidates join the line's share of the
 * neighbourhood (neighbourhood.ts), drawn in the same order.
 */
import type { ArchiveContext } from './context.js';
import { applyEdit, type NodeEdit } from './helpful.js';
import type { FileSites, Suspicion } from './neighbourhood.js';
import type { EditRecord, SourceFile } from './search.js';
import { listMutationSites, type MutationOperator } from './sites/index.js';

/** A variant of one file with an ancestor's edit undone; its sites are those of the undone place. */
export interface LateralFile extends FileSites {
  undo: { record: EditRecord; branch: string };
}

/** Ancestors looked at, nearest first, and most undone edits offered per child. */
const LOOK_BACK = 8;
const MAX_UNDONE = 3;
/** An undone line must be at least this suspicious now (a ranked line, not the floor of its function). */
const STILL_SUSPICIOUS = 0.1;

const SUBJECT = /^mutate: (\S+) at (\S+):(\d+)$/;
const EDIT_LINE = /^- (\S+) (\S+):(\d+): (.*?) → (.*)$/;

/** 1-based line of character `at`. */
const lineAt = (text: string, at: number): number => text.slice(0, at).split('\n').length;

/**
 * For the node being expanded, up to MAX_UNDONE files with one single-edit ancestor's edit
 * undone, each with the sites of the lines that edit touched.
 */
export async function lateralFiles(
  files: readonly SourceFile[],
  archive: ArchiveContext | undefined,
  suspicion: Suspicion,
  readEdit: (parent: string, node: string) => Promise<NodeEdit | null>,
): Promise<LateralFile[]> {
  const out: LateralFile[] = [];
  const lineage = archive?.lineage ?? [];
  for (let i = 0; i + 1 < lineage.length && i < LOOK_BACK && out.length < MAX_UNDONE; i++) {
    const node = lineage[i]!.node;
    const m = SUBJECT.exec(node.subject);
    if (node.operator !== 'mutate' || !m) continue;
    const [, , file, line] = m;
    const own = files.find((f) => f.path === file);
    if (!own || suspicion(own.path, Number(line), Number(line)) < STILL_SUSPICIOUS) continue;
    const edit = await readEdit(lineage[i + 1]!.node.id, node.id);
    const region = edit?.files.get(own.path);
    const described = edit?.lines.length === 1 ? EDIT_LINE.exec(edit.lines[0]!) : null;
    if (!edit || !region || edit.files.size !== 1 || !described) continue;
    const undone = applyEdit(new Map([[own.path, own.source]]), { files: new Map([[own.path, { ...region, old: region.new, new: region.old }]]), lines: [] })?.get(own.path);
    if (undone === undefined) continue;
    // The undone place, in the variant's lines.
    let start = 0;
    while (start < undone.length && undone[start] === own.source[start]) start++;
    const first = lineAt(undone, start);
    const last = first + region.old.split('\n').length - 1;
    const sites = (await listMutationSites(undone, own.language)).filter((s) => s.line <= last && s.endLine >= first);
    const [, operator, , , before, after] = described;
    out.push({
      path: own.path,
      language: own.language,
      source: undone,
      sites,
      undo: { record: { file: own.path, operator: operator as MutationOperator, line: first, before: after!, after: before! }, branch: node.branch ?? node.id.slice(0, 12) },
    });
  }
  return out;
}

/**
 * Lateral moves: an ancestor's edit on a line that is still suspicious, undone, and another of
 * that line's one-edit candidates made instead, keeping every other edit of the lineage. A
 * partial fix (a leap-year rule that now gets 4 of 5 dates right) is often a local optimum no
 * single further edit repairs, while the right edit of the same line, made on the original
 * text, is one step from the ancestor; the rest of the lineage's fixes are kept, so the child
 * is compared with its parent on everything else. When several ancestors in a row edited that
 * line (a lateral child of a lateral child, a pair carrying an edit of it), the whole chain is
 * undone too, back to the line's text before the first of them. The candidates join the line's
 * share of the neighbourhood (neighbourhood.ts), drawn in the same order.
 */
import type { ArchiveContext } from './context.js';
import { applyEdit, type NodeEdit, type RegionEdit } from './helpful.js';
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

/** A snippet of a region's text for the commit message: its first line, trimmed. */
const snippet = (text: string): string => {
  const first = text.trim().split('\n', 1)[0] ?? '';
  return first.length > 100 ? `${first.slice(0, 97)}…` : first;
};

/** The file with one region's edit reversed, or undefined when its text is no longer there. */
function reverse(path: string, source: string, region: RegionEdit): string | undefined {
  return applyEdit(new Map([[path, source]]), { files: new Map([[path, { ...region, old: region.new, new: region.old }]]), lines: [] })?.get(path);
}

/**
 * For the node being expanded, up to MAX_UNDONE files with one single-file ancestor edit of a
 * still-suspicious line undone (and, where the ancestors before it edited the same line, one
 * with that whole chain undone), each with the sites of the lines the undone edit touched.
 */
export async function lateralFiles(
  files: readonly SourceFile[],
  archive: ArchiveContext | undefined,
  suspicion: Suspicion,
  readEdit: (parent: string, node: string) => Promise<NodeEdit | null>,
): Promise<LateralFile[]> {
  const out: LateralFile[] = [];
  const lineage = archive?.lineage ?? [];
  /** The ancestor i's edit of `file` at `line`, when it is a single-file mutate edit of that line. */
  const editOf = async (i: number, file: string, line?: string): Promise<{ region: RegionEdit; operator: string; only?: RegExpExecArray } | null> => {
    const node = lineage[i]?.node;
    const m = node ? SUBJECT.exec(node.subject) : null;
    if (!node || node.operator !== 'mutate' || !m || m[2] !== file || (line !== undefined && m[3] !== line) || i + 1 >= lineage.length) return null;
    const edit = await readEdit(lineage[i + 1]!.node.id, node.id);
    const region = edit?.files.get(file);
    const described = edit?.lines.map((l) => EDIT_LINE.exec(l)).filter((d) => d !== null) ?? [];
    if (!edit || !region || edit.files.size !== 1 || described.length === 0) return null;
    return { region, operator: described[described.length - 1]![1]!, ...(described.length === 1 ? { only: described[0]! } : {}) };
  };
  for (let i = 0; i + 1 < lineage.length && i < LOOK_BACK && out.length < MAX_UNDONE; i++) {
    const node = lineage[i]!.node;
    const m = SUBJECT.exec(node.subject);
    if (!m) continue;
    const [, , file, line] = m;
    const own = files.find((f) => f.path === file);
    if (!own || suspicion(own.path, Number(line), Number(line)) < STILL_SUSPICIOUS) continue;
    const first = await editOf(i, own.path);
    if (!first) continue;
    // This ancestor's edit undone; then, while the ancestors before it edited the same line, theirs too.
    const variants: { source: string; region: RegionEdit }[] = [];
    let source = reverse(own.path, own.source, first.region);
    let region = first.region;
    for (let j = i + 1; source !== undefined; j++) {
      variants.push({ source, region });
      const earlier = j < i + LOOK_BACK ? await editOf(j, own.path, line) : null;
      const next = earlier ? reverse(own.path, source, earlier.region) : undefined;
      if (!earlier || next === undefined) break;
      source = next;
      region = { ...earlier.region, new: region.new };
    }
    const kept = variants.length > 1 ? [variants[0]!, variants[variants.length - 1]!] : variants;
    for (const [k, v] of kept.entries()) {
      if (out.length >= MAX_UNDONE || out.some((o) => o.path === own.path && o.source === v.source)) continue;
      // The undone place, in the variant's lines.
      let start = 0;
      while (start < v.source.length && v.source[start] === own.source[start]) start++;
      const firstLine = lineAt(v.source, start);
      const lastLine = firstLine + v.region.old.split('\n').length - 1;
      const sites = (await listMutationSites(v.source, own.language)).filter((s) => s.line <= lastLine && s.endLine >= firstLine);
      // One described edit undone: its own words reversed; a chain: the line before and after.
      const words = k === 0 && first.only ? { before: first.only[5]!, after: first.only[4]! } : { before: snippet(lineText(own.source, start)), after: snippet(lineText(v.source, start)) };
      out.push({
        path: own.path,
        language: own.language,
        source: v.source,
        sites,
        undo: { record: { file: own.path, operator: first.operator as MutationOperator, line: firstLine, ...words }, branch: node.branch ?? node.id.slice(0, 12) },
      });
    }
  }
  return out;
}

/** The whole line of `text` holding character `at`. */
function lineText(text: string, at: number): string {
  const from = text.lastIndexOf('\n', at - 1) + 1;
  const to = text.indexOf('\n', at);
  return text.slice(from, to < 0 ? text.length : to);
}

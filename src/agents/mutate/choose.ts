/**
 * Which child to make: first a pair of helpful siblings not yet combined, else the first edit
 * of the node's one-edit neighbourhood, in the seed's draw order, that parses and whose tree
 * the archive does not hold yet; once that is spent, a random multi-edit child.
 */
import type { ArchiveContext } from './context.js';
import { drawOrder, neighbourhood, type FileSites, type Suspicion } from './neighbourhood.js';
import { childEdit, combineEdits, complementaryPairs, helpfulChildren } from './pairs.js';
import { searchEdits, type EditRecord, type SourceFile } from './search.js';
import { listMutationSites, parsesCleanly, spliceReplacements, type MutationOperator } from './sites/index.js';
import type { TreeHasher } from './trees.js';

export interface Choice {
  kind: 'single' | 'pair' | 'multi';
  edits: EditRecord[];
  sources: Map<string, string>;
  /** Single: the edit's place in the draw order, the neighbourhood's size, how many were skipped as already in the archive. */
  drawn?: { rank: number; of: number; known: number; suspicion: number };
  /** Pair: the sibling branches combined and how many tests each helped. */
  pair?: { branches: string[]; helped: number[] };
}

export interface ChooseInput {
  files: readonly SourceFile[];
  suspicion: Suspicion;
  seed: number;
  maxEdits: number;
  worktree: string;
  archive?: ArchiveContext;
  hasher: TreeHasher | null;
}

/** Candidates checked (re-parsed) at most per child before falling back to multi-edit draws. */
const MAX_TRIES = 400;

const EDIT_LINE = /^- (\S+) (\S+):(\d+): (.*?) → (.*)$/;

function parseEditLine(line: string): EditRecord | null {
  const m = EDIT_LINE.exec(line);
  return m ? { operator: m[1] as MutationOperator, file: m[2] as string, line: Number(m[3]), before: m[4] as string, after: m[5] as string } : null;
}

export async function chooseChild(input: ChooseInput): Promise<Choice | { reason: string }> {
  const known = (changes: ReadonlyMap<string, string>): boolean => {
    if (!input.hasher || !input.archive) return false;
    const tree = input.hasher.treeWith(changes);
    return tree !== null && input.archive.trees.has(tree);
  };
  const parentSource = (file: string) => input.files.find((f) => f.path === file)?.source;

  const pair = await firstNewPair(input, known, parentSource);
  if (pair) return pair;
  const single = await firstNewSingle(input, known);
  if (single) return single;

  const multi = await searchEdits(input.files, { seed: input.seed, maxEdits: Math.max(2, input.maxEdits), suspicion: input.suspicion });
  if (!multi.ok) return { reason: multi.reason };
  if (known(multi.sources)) return { reason: 'the one-edit neighbourhood is spent and the random edits gave a tree the archive holds' };
  return { kind: 'multi', edits: multi.edits, sources: multi.sources };
}

async function firstNewPair(input: ChooseInput, known: (c: ReadonlyMap<string, string>) => boolean, parentSource: (file: string) => string | undefined): Promise<Choice | null> {
  const parent = input.archive?.lineage[0]?.node.id;
  if (!parent) return null;
  const edits = new Map<string, Awaited<ReturnType<typeof childEdit>>>();
  const editOf = async (id: string) => {
    if (!edits.has(id)) edits.set(id, await childEdit(input.worktree, parent, id, parentSource));
    return edits.get(id) ?? null;
  };
  for (const [a, b] of complementaryPairs(helpfulChildren(input.archive)).slice(0, 12)) {
    const ea = await editOf(a.node.id);
    const eb = await editOf(b.node.id);
    if (!ea || !eb) continue;
    const sources = combineEdits(ea, eb, parentSource);
    if (!sources || known(sources)) continue;
    let parses = true;
    for (const [file, source] of sources) {
      const language = input.files.find((f) => f.path === file)?.language;
      if (language && !(await parsesCleanly(source, language))) parses = false;
    }
    if (!parses) continue;
    const records = [...ea.lines, ...eb.lines].map(parseEditLine).filter((r): r is EditRecord => r !== null);
    return { kind: 'pair', edits: records, sources, pair: { branches: [a.node.branch ?? a.node.id.slice(0, 12), b.node.branch ?? b.node.id.slice(0, 12)], helped: [a.helped.size, b.helped.size] } };
  }
  return null;
}

async function firstNewSingle(input: ChooseInput, known: (c: ReadonlyMap<string, string>) => boolean): Promise<Choice | null> {
  const files: FileSites[] = [];
  // Only files with a suspicious line (all of them when nothing is ranked) have candidates.
  for (const f of input.files) if (input.suspicion(f.path, 1, Number.MAX_SAFE_INTEGER) > 0) files.push({ ...f, sites: await listMutationSites(f.source, f.language) });
  const order = drawOrder(neighbourhood(files, input.suspicion, input.archive?.operatorWeights), input.seed);
  let tries = 0;
  let skipped = 0;
  const seen = new Set<string>();
  for (const [rank, c] of order.entries()) {
    const mutation = c.site.mutation(c.index);
    // Two sites can make the same text (an operand dropped, a conjunct dropped): one try each.
    const key = `${c.file.path}\0${JSON.stringify(mutation.replacements)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const edited = spliceReplacements(c.file.source, mutation.replacements);
    if (edited === c.file.source) continue;
    if (known(new Map([[c.file.path, edited]]))) {
      skipped++;
      continue;
    }
    if (++tries > MAX_TRIES) return null;
    if (!(await parsesCleanly(edited, c.file.language))) continue;
    return {
      kind: 'single',
      edits: [{ file: c.file.path, operator: mutation.operator, line: mutation.line, before: mutation.before, after: mutation.after }],
      sources: new Map([[c.file.path, edited]]),
      drawn: { rank: rank + 1, of: order.length, known: skipped, suspicion: c.suspicion },
    };
  }
  return null;
}

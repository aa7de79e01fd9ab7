/**
 * Which child to make: first a pair of helpful siblings not yet combined, then a helpful edit
 * from elsewhere in the archive not yet carried over, else the first edit of the node's
 * one-edit neighbourhood, in the seed's draw order, that parses and whose tree
 * the archive does not hold yet; once that is spent, a random multi-edit child.
 */
import { testOutcomes, type ArchiveContext } from './context.js';
import { applyEdit, complementaryPairs, editLinesOf, editSignature, readEdit, type HelpfulNode, type NodeEdit } from './helpful.js';
import { lateralFiles, type LateralFile } from './lateral.js';
import { drawOrder, neighbourhood, type FileSites, type Suspicion } from './neighbourhood.js';
import { searchEdits, type EditRecord, type SourceFile } from './search.js';
import { listMutationSites, parsesCleanly, spliceReplacements, type MutationOperator } from './sites/index.js';
import type { TreeHasher } from './trees.js';

export interface Choice {
  kind: 'single' | 'lateral' | 'pair' | 'transplant' | 'multi';
  edits: EditRecord[];
  sources: Map<string, string>;
  /** Single: the edit's place in the draw order, the neighbourhood's size, how many were skipped as already in the archive. */
  drawn?: { rank: number; of: number; known: number; suspicion: number };
  /** Lateral: the ancestor whose edit it undoes (the first of its edits), see lateral.ts. */
  undoes?: string;
  /** Pair and transplant: the helpful nodes whose edits it carries, and how many tests each helped. */
  from?: { branches: string[]; helped: number[] };
}

export interface ChooseInput {
  files: readonly SourceFile[];
  suspicion: Suspicion;
  seed: number;
  maxEdits: number;
  worktree: string;
  archive?: ArchiveContext;
  /** The tree a change of the parent's files would have (null: unknown, never a duplicate). */
  hasher: Pick<TreeHasher, 'treeWith'> | null;
  /** How a node's edit is read (default: from git in the worktree). */
  readEdit?: (parent: string, node: string) => Promise<NodeEdit | null>;
}

/** Candidates checked (re-parsed) at most per child before falling back to multi-edit draws. */
const MAX_TRIES = 400;
/** Helpful edits from elsewhere tried at most per child. */
const MAX_TRANSPLANTS = 12;
/** A helpful edit carried over this many times without helping is not carried again. */
const MAX_FAILED_CARRIES = 2;

const EDIT_LINE = /^- (\S+) (\S+):(\d+): (.*?) → (.*)$/;

function parseEditLine(line: string): EditRecord | null {
  const m = EDIT_LINE.exec(line);
  return m ? { operator: m[1] as MutationOperator, file: m[2] as string, line: Number(m[3]), before: m[4] as string, after: m[5] as string } : null;
}

const editReader = (input: ChooseInput) => input.readEdit ?? ((parent: string, node: string) => readEdit(input.worktree, parent, node));

const branchOf = (n: HelpfulNode): string => n.node.branch ?? n.node.id.slice(0, 12);

export async function chooseChild(input: ChooseInput): Promise<Choice | { reason: string }> {
  const known = (changes: ReadonlyMap<string, string>): boolean => {
    if (!input.hasher || !input.archive) return false;
    const tree = input.hasher.treeWith(changes);
    return tree !== null && input.archive.trees.has(tree);
  };
  const tried = await triedEdits(input);
  const combined = (await firstNewPair(input, known)) ?? (await firstNewTransplant(input, known, tried));
  if (combined) return combined;
  const single = await firstNewSingle(input, known, tried);
  if (single) return single;

  const multi = await searchEdits(input.files, { seed: input.seed, maxEdits: Math.max(2, input.maxEdits), suspicion: input.suspicion });
  if (!multi.ok) return { reason: multi.reason };
  if (known(multi.sources)) return { reason: 'the one-edit neighbourhood is spent and the random edits gave a tree the archive holds' };
  return { kind: 'multi', edits: multi.edits, sources: multi.sources };
}

/** The helpful nodes' edits applied one after the other to the parent's files, when the result is new and parses. */
async function carry(input: ChooseInput, known: (c: ReadonlyMap<string, string>) => boolean, donors: HelpfulNode[], kind: 'pair' | 'transplant', edits: Map<string, NodeEdit | null>): Promise<Choice | null> {
  let sources: Map<string, string> | null = new Map(input.files.map((f) => [f.path, f.source]));
  const lines: string[] = [];
  for (const donor of donors) {
    if (!edits.has(donor.node.id)) edits.set(donor.node.id, await editReader(input)(donor.parent, donor.node.id));
    const edit = edits.get(donor.node.id);
    sources = edit && sources ? applyEdit(sources, edit) : null;
    if (!sources || !edit) return null;
    lines.push(...edit.lines);
  }
  const changed = new Map([...sources].filter(([file, text]) => input.files.find((f) => f.path === file)?.source !== text));
  if (changed.size === 0 || known(changed)) return null;
  for (const [file, text] of changed) {
    const language = input.files.find((f) => f.path === file)?.language;
    if (!language || !(await parsesCleanly(text, language))) return null;
  }
  const records = lines.map(parseEditLine).filter((r): r is EditRecord => r !== null);
  return { kind, edits: records, sources: changed, from: { branches: donors.map(branchOf), helped: donors.map((d) => d.helped.size) } };
}

/**
 * How often each edit (its signature: operator, file, text before and after) was made by a
 * one-edit node of the archive that made none of its parent's failing tests pass. Nodes that
 * tie on their pass rate (a neutral edit keeps its parent's) each get expanded, and their
 * likeliest candidates are the same edits: once one of them failed, the others come later.
 */
async function triedEdits(input: ChooseInput): Promise<Map<string, number>> {
  const tried = new Map<string, number>();
  const nodes = input.archive?.unhelpful ?? [];
  if (nodes.length === 0) return tried;
  const lines = await editLinesOf(input.worktree, nodes.map((n) => n.id));
  for (const edit of lines.values()) {
    if (edit.length !== 1) continue;
    const signature = editSignature(edit[0]!);
    tried.set(signature, (tried.get(signature) ?? 0) + 1);
  }
  return tried;
}

const signatureOf = (e: EditRecord): string => editSignature(`- ${e.operator} ${e.file}:${e.line}: ${e.before} → ${e.after}`);

/** Two children of the parent that each made different failing tests pass, combined. */
async function firstNewPair(input: ChooseInput, known: (c: ReadonlyMap<string, string>) => boolean): Promise<Choice | null> {
  const parent = input.archive?.lineage[0]?.node.id;
  if (!parent || !input.archive) return null;
  const edits = new Map<string, NodeEdit | null>();
  for (const pair of complementaryPairs(input.archive.helpful.filter((h) => h.parent === parent)).slice(0, 12)) {
    const choice = await carry(input, known, pair, 'pair', edits);
    if (choice) return choice;
  }
  return null;
}

/**
 * A helpful edit made elsewhere in the archive (not in this node's lineage) whose helped tests
 * still fail here: another bug's fix, found on another branch, carried over.
 */
async function firstNewTransplant(input: ChooseInput, known: (c: ReadonlyMap<string, string>) => boolean, tried: ReadonlyMap<string, number>): Promise<Choice | null> {
  const archive = input.archive;
  const parent = archive?.lineage[0];
  if (!archive || !parent) return null;
  const outcomes = testOutcomes(parent.evaluations);
  const inLineage = new Set(archive.lineage.map((l) => l.node.id));
  const donors = archive.helpful.filter((h) => h.parent !== parent.node.id && !inLineage.has(h.node.id) && [...h.helped].some((t) => outcomes.get(t) !== 'pass'));
  const edits = new Map<string, NodeEdit | null>();
  const lines = await editLinesOf(input.worktree, donors.slice(0, MAX_TRANSPLANTS).map((d) => d.node.id));
  for (const donor of donors.slice(0, MAX_TRANSPLANTS)) {
    const own = lines.get(donor.node.id) ?? [];
    if (own.length === 1 && (tried.get(editSignature(own[0]!)) ?? 0) >= MAX_FAILED_CARRIES) continue;
    const choice = await carry(input, known, [donor], 'transplant', edits);
    if (choice) return choice;
  }
  return null;
}

const parentSource = (input: ChooseInput, file: string): string | undefined => input.files.find((f) => f.path === file)?.source;

async function firstNewSingle(input: ChooseInput, known: (c: ReadonlyMap<string, string>) => boolean, tried: ReadonlyMap<string, number> = new Map()): Promise<Choice | null> {
  const files: FileSites[] = [];
  // Only files with a suspicious line (all of them when nothing is ranked) have candidates.
  for (const f of input.files) if (input.suspicion(f.path, 1, Number.MAX_SAFE_INTEGER) > 0) files.push({ ...f, sites: await listMutationSites(f.source, f.language) });
  // An ancestor's edit of a still-suspicious line, undone, with the line's other candidates made instead.
  files.push(...(await lateralFiles(input.files, input.archive, input.suspicion, editReader(input))));
  const order = drawOrder(neighbourhood(files, input.suspicion, input.archive?.operatorWeights), input.seed);
  let tries = 0;
  let skipped = 0;
  const seen = new Set<string>();
  // Edits some other node made without helping come after every edit not made yet, in draw order.
  const later: number[] = [];
  for (const pass of [0, 1]) {
    for (const rank of pass === 0 ? order.keys() : later) {
      const c = order[rank]!;
      const mutation = c.site.mutation(c.index);
      const undo = 'undo' in c.file ? (c.file as LateralFile).undo : null;
      const made: EditRecord = { file: c.file.path, operator: mutation.operator, line: mutation.line, before: mutation.before, after: mutation.after };
      if (pass === 0 && !undo && tried.has(signatureOf(made))) {
        later.push(rank);
        continue;
      }
      const edited = spliceReplacements(c.file.source, mutation.replacements);
      // Two sites can make the same text (an operand dropped, a conjunct dropped): one try each.
      const key = `${c.file.path}\0${edited}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (edited === (undo ? parentSource(input, c.file.path) : c.file.source)) continue;
      if (known(new Map([[c.file.path, edited]]))) {
        skipped++;
        continue;
      }
      if (++tries > MAX_TRIES) return null;
      if (!(await parsesCleanly(edited, c.file.language))) continue;
      return {
        kind: undo ? 'lateral' : 'single',
        edits: undo ? [undo.record, made] : [made],
        ...(undo ? { undoes: undo.branch } : {}),
        sources: new Map([[c.file.path, edited]]),
        drawn: { rank: rank + 1, of: order.length, known: skipped, suspicion: c.suspicion },
      };
    }
  }
  return null;
}

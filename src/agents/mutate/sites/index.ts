/**
 * Mutation sites: where on a syntax tree an operator can act, and the concrete edits (text
 * replacements) it can make there, one file per operator family. Pure apart from the lazily
 * loaded parser: source text in, sites out; a mutation is applied by splicing text and
 * re-parsing, and a result with ERROR or MISSING nodes is refused.
 */
import type { Node } from 'web-tree-sitter';
import { parse, type MutateLanguage } from '../parser.js';
import { callSites } from './calls.js';
import { FUNCTION_TYPES, functionName, siteContext } from './common.js';
import { conditionSites } from './conditions.js';
import { constantSites, offByOneSites } from './constants.js';
import { fieldSites, identifierSites, receiverDefaultSites } from './identifiers.js';
import { augmentedSites, binarySites, operandAddSites, operandDropSites, operandSwapSites, unarySites } from './operators.js';
import { returnInsertSites, returnValueSites } from './returns.js';
import { sliceSites } from './slices.js';
import { statementSites } from './statements.js';
import type { MutationSite, Replacement, Mutation } from './types.js';

export { MUTATION_OPERATORS, OPERATOR_FAMILIES, type Mutation, type MutationOperator, type MutationSite, type Replacement } from './types.js';

/** Every mutation site of a parsed tree, in a stable order (by family, then position). */
export function sitesOfTree(root: Node, source: string, language: MutateLanguage): MutationSite[] {
  const ctx = siteContext(root, source, language);
  return [
    ...binarySites(ctx),
    ...augmentedSites(ctx),
    ...unarySites(ctx),
    ...operandSwapSites(ctx),
    ...operandDropSites(ctx),
    ...operandAddSites(ctx),
    ...constantSites(ctx),
    ...offByOneSites(ctx),
    ...identifierSites(ctx),
    ...fieldSites(ctx),
    ...receiverDefaultSites(ctx),
    ...callSites(ctx),
    ...conditionSites(ctx),
    ...returnValueSites(ctx),
    ...returnInsertSites(ctx),
    ...sliceSites(ctx),
    ...statementSites(ctx),
  ];
}

/** Sites of recently listed sources: an agent expands the same parent's files again and again. */
const recent = new Map<string, MutationSite[]>();
const RECENT = 64;

export async function listMutationSites(source: string, language: MutateLanguage): Promise<MutationSite[]> {
  const key = `${language}\0${source}`;
  const cached = recent.get(key);
  if (cached) {
    recent.delete(key);
    recent.set(key, cached);
    return cached;
  }
  const tree = await parse(source, language);
  try {
    const sites = sitesOfTree(tree.rootNode, source, language);
    recent.set(key, sites);
    if (recent.size > RECENT) recent.delete(recent.keys().next().value as string);
    return sites;
  } finally {
    // Sites keep only text and indices, never nodes, so the tree's wasm memory can go now.
    tree.delete();
  }
}

/** Splice the replacements into the source (they must not overlap). */
export function spliceReplacements(source: string, replacements: readonly Replacement[]): string {
  const ordered = [...replacements].sort((a, b) => b.start - a.start || b.end - a.end);
  let out = source;
  let floor = Infinity;
  for (const r of ordered) {
    if (r.end > floor) throw new Error('overlapping replacements');
    out = out.slice(0, r.start) + r.text + out.slice(r.end);
    floor = r.start;
  }
  return out;
}

export type ApplyResult = { ok: true; source: string } | { ok: false; reason: string };

/** Does the source parse without ERROR or MISSING nodes? */
export async function parsesCleanly(source: string, language: MutateLanguage): Promise<boolean> {
  const tree = await parse(source, language);
  try {
    return !tree.rootNode.hasError;
  } finally {
    tree.delete();
  }
}

/** Apply one mutation and re-parse: a result with ERROR/MISSING nodes or no change is refused. */
export async function applyMutation(source: string, language: MutateLanguage, mutation: Mutation): Promise<ApplyResult> {
  const edited = spliceReplacements(source, mutation.replacements);
  if (edited === source) return { ok: false, reason: 'the edit changes nothing' };
  if (!(await parsesCleanly(edited, language))) return { ok: false, reason: 'the edited source does not parse' };
  return { ok: true, source: edited };
}

/** A named function and its 1-based line span. */
export interface FunctionSpan {
  name: string;
  startLine: number;
  endLine: number;
}

export function functionSpansOfTree(root: Node): FunctionSpan[] {
  const spans: FunctionSpan[] = [];
  for (const fn of root.descendantsOfType([...FUNCTION_TYPES])) {
    const name = fn ? functionName(fn) : null;
    if (!fn || !name) continue;
    spans.push({ name, startLine: fn.startPosition.row + 1, endLine: fn.endPosition.row + 1 });
  }
  return spans;
}

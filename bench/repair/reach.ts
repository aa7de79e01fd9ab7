/**
 * `bench/repair.ts reach`: which known fixes of the corpus the mutate agent can make in ONE
 * edit, and how many edits it has to choose from. A diagnostic for the operators, not a run:
 * no tests, no loop. For every program it lists every concrete edit of every mutation site of
 * the buggy file and asks whether one of them turns the buggy file into the known fix.
 *
 * "Turns into" is judged on code only: comments and lone string statements (docstrings, and
 * the commented-out copies of the old program that QuixBugs' correct files carry in triple
 * quotes) are cut out with the parser, whitespace is dropped, and what remains of the edited
 * file must equal what remains of the fix line for line. The lines that differ between the
 * buggy file and the fix (the window) are what an edit has to get right; everything around
 * them must stay as it was.
 */
import { readFile } from 'node:fs/promises';
import type { Node } from 'web-tree-sitter';
import { parse } from '../../src/agents/mutate/parser.js';
import { listMutationSites, spliceReplacements, type Mutation } from '../../src/agents/mutate/sites/index.js';
import type { Program } from './program.js';

export interface Reach {
  program: string;
  /** Concrete edits of all sites of the buggy file: the one-edit neighbourhood before weighting. */
  candidates: number;
  /** The first edit that makes the known fix, or null. */
  match: { mutation: Mutation; index: number; siteSize: number } | null;
  /** The code lines the known fix changes, buggy and fixed (whitespace dropped). */
  window: { buggy: string[]; fix: string[] };
}

/** Comments and statements that are nothing but a string literal. */
function ignoredRanges(root: Node): [number, number][] {
  const out: [number, number][] = [];
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    const only = n.type === 'expression_statement' && n.namedChildCount === 1 ? n.namedChild(0) : null;
    if (n.type === 'comment' || only?.type === 'string' || only?.type === 'concatenated_string') {
      out.push([n.startIndex, n.endIndex]);
      continue;
    }
    for (const child of n.children) if (child) stack.push(child);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** The code of a source, one entry per non-empty line, without comments, lone strings or whitespace. */
export async function codeLines(source: string, language: Program['language']): Promise<string[]> {
  const tree = await parse(source, language);
  try {
    let kept = '';
    let at = 0;
    for (const [start, end] of ignoredRanges(tree.rootNode)) {
      if (start < at) continue;
      kept += source.slice(at, start);
      at = end;
    }
    kept += source.slice(at);
    return kept
      .split('\n')
      .map((l) => l.replace(/\s+/g, ''))
      .filter((l) => l.length > 0);
  } finally {
    tree.delete();
  }
}

/** The lines of `a` and `b` between their common first and last lines. */
function window(a: string[], b: string[]): { buggy: string[]; fix: string[] } {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  return { buggy: a.slice(head, a.length - tail), fix: b.slice(head, b.length - tail) };
}

const squeeze = (s: string): number => s.replace(/\s+/g, '').length;
const MAY_HOLD_IGNORED = /#|\/\/|\/\*|"""|'''/;

export async function reachOf(program: Program): Promise<Reach> {
  const language = program.language;
  const buggy = await readFile(program.files.find(([rel]) => rel === program.buggy)![1], 'utf8');
  const buggyCode = await codeLines(buggy, language);
  const fixCode = await codeLines(await readFile(program.fix, 'utf8'), language);
  const fixText = fixCode.join('\n');
  const buggyLength = buggyCode.join('').length;
  const fixLength = fixCode.join('').length;
  const ignored = await (async () => {
    const tree = await parse(buggy, language);
    try {
      return ignoredRanges(tree.rootNode);
    } finally {
      tree.delete();
    }
  })();
  const touchesIgnored = (m: Mutation) => m.replacements.some((r) => ignored.some(([s, e]) => r.start < e && r.end > s));
  let candidates = 0;
  let match: Reach['match'] = null;
  for (const site of await listMutationSites(buggy, language)) {
    candidates += site.size;
    if (match) continue;
    for (let i = 0; i < site.size && !match; i++) {
      const m = site.mutation(i);
      // Cheap first: outside comments and docstrings, the code's length after the edit is known without parsing.
      if (!touchesIgnored(m) && !m.replacements.some((r) => MAY_HOLD_IGNORED.test(r.text))) {
        const length = buggyLength + m.replacements.reduce((sum, r) => sum + squeeze(r.text) - squeeze(buggy.slice(r.start, r.end)), 0);
        if (length !== fixLength) continue;
      }
      const edited = await codeLines(spliceReplacements(buggy, m.replacements), language).catch(() => null);
      if (edited?.join('\n') === fixText) match = { mutation: m, index: i, siteSize: site.size };
    }
  }
  return { program: program.id, candidates, match, window: window(buggyCode, fixCode) };
}

export function formatReach(program: Program, r: Reach): string {
  const how = r.match
    ? `${r.match.mutation.operator} (#${r.match.index + 1} of ${r.match.siteSize}, line ${r.match.mutation.line}): ${r.match.mutation.before} → ${r.match.mutation.after}`
    : `${program.fixNote}${r.window.buggy.length + r.window.fix.length > 6 ? ` [the fix changes ${r.window.buggy.length} code lines into ${r.window.fix.length}]` : ''}`;
  return `${r.match ? 'yes' : 'no '} ${program.id.padEnd(36)} ${program.bugClass.padEnd(28)} ${String(r.candidates).padStart(6)} edits  ${how}`;
}

/** Every program's reach, printed as it comes, and the totals. */
export async function reach(programs: Program[], write: (line: string) => void): Promise<Reach[]> {
  const out: Reach[] = [];
  write(`${'reach'.padEnd(3)} ${'program'.padEnd(36)} ${'class'.padEnd(28)} ${'size'.padStart(6)}        how (or the known fix)`);
  for (const p of programs) {
    const r = await reachOf(p);
    out.push(r);
    write(formatReach(p, r));
  }
  const reached = out.filter((r) => r.match).length;
  const edits = out.reduce((sum, r) => sum + r.candidates, 0);
  write(`one edit away: ${reached}/${out.length}; ${edits} edits in all (median ${median(out.map((r) => r.candidates))} a program)`);
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
}

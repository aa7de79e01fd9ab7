/**
 * Statement edits: delete, copy, swap with a sibling, insert a statement from elsewhere (the
 * same function's first, those whose names are all bound where they land before the rest),
 * and the missing insertion of an element into a collection the function keeps
 * (`visited.add(node)`, `lines.append(text)`), before any statement of the function or at
 * the end of any of its blocks (after a loop header, before a return); and `break` ↔ `continue`.
 */
import type { Node } from 'web-tree-sitter';
import { FUNCTION_TYPES, enclosingFunction, identifiersIn, lineEndOf, lineStartOf, namedChildren, site, snippet, type SiteContext } from './common.js';
import type { Mutation, MutationSite, Replacement } from './types.js';

const JS_SKIPPED = new Set(['comment', 'function_declaration', 'generator_function_declaration', 'class_declaration', 'empty_statement']);
const PY_SKIPPED = new Set(['comment', 'function_definition', 'class_definition', 'decorated_definition']);

interface Statement {
  node: Node;
  start: number;
  end: number;
  /** 1-based. */
  line: number;
  block: Node;
  fn: Node | null;
  /** Names the statement reads that it does not bind itself. */
  freeNames: string[];
  text: string;
  /** Leading whitespace of the statement's first line. */
  indent: string;
  /** The statement is alone on its lines (only whitespace before it and after it). */
  ownLine: boolean;
  lineStart: number;
  /** Index just past the newline that ends the statement's last line (or the source end). */
  lineEnd: number;
}

/** A docstring or a directive ('use strict'): moving, copying or deleting it changes no behaviour worth a test run. */
function isLoneString(node: Node): boolean {
  const inner = node.type === 'expression_statement' ? node.namedChild(0) : null;
  return node.namedChildCount === 1 && (inner?.type === 'string' || inner?.type === 'concatenated_string');
}

/** Identifiers a statement reads, minus those it binds (a Python attribute name is no read). */
function freeNames(node: Node): string[] {
  const used = new Set<string>();
  const bound = new Set<string>();
  const stack: Node[] = [node];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (n.type === 'identifier' || n.type === 'shorthand_property_identifier') used.add(n.text);
    if (n.type === 'variable_declarator') identifiersIn(n.childForFieldName('name'), bound);
    if ((n.type === 'assignment' || n.type === 'for_statement' || n.type === 'for_in_statement') && n.childForFieldName('left')?.type === 'identifier') identifiersIn(n.childForFieldName('left'), bound);
    for (const child of n.namedChildren) {
      if (!child) continue;
      if (n.type === 'attribute' && n.childForFieldName('attribute')?.id === child.id) continue;
      if (n.type === 'keyword_argument' && n.childForFieldName('name')?.id === child.id) continue;
      stack.push(child);
    }
  }
  return [...used].filter((name) => !bound.has(name));
}

function collectStatements(ctx: SiteContext): Statement[] {
  const skipped = ctx.python ? PY_SKIPPED : JS_SKIPPED;
  const out: Statement[] = [];
  for (const block of ctx.root.descendantsOfType(ctx.python ? 'block' : 'statement_block')) {
    if (!block) continue;
    for (const node of block.namedChildren) {
      if (!node || skipped.has(node.type) || node.hasError || isLoneString(node)) continue;
      const lineStart = lineStartOf(ctx.source, node.startIndex);
      const lineEnd = lineEndOf(ctx.source, node.endIndex);
      const ownLine = /^[ \t]*$/.test(ctx.source.slice(lineStart, node.startIndex)) && /^[ \t]*\r?\n?$/.test(ctx.source.slice(node.endIndex, lineEnd));
      out.push({
        node,
        start: node.startIndex,
        end: node.endIndex,
        line: node.startPosition.row + 1,
        block,
        fn: enclosingFunction(node),
        freeNames: freeNames(node),
        text: node.text,
        indent: /^[ \t]*/.exec(ctx.source.slice(lineStart))?.[0] ?? '',
        ownLine,
        lineStart,
        lineEnd,
      });
    }
  }
  return out;
}

/** Move a multi-line statement from one indentation to another. */
function reindent(text: string, from: string, to: string): string {
  if (from === to) return text;
  return text
    .split('\n')
    .map((line, i) => (i === 0 ? line : line.startsWith(from) ? to + line.slice(from.length) : line))
    .join('\n');
}

/** Statements after which nothing in the block runs. */
const TERMINAL = new Set(['return_statement', 'throw_statement', 'raise_statement', 'break_statement', 'continue_statement']);

const normalized = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** Text inserted before or after statement s (on its own line when s is). */
function insertion(ctx: SiteContext, s: Statement, text: string, after: boolean): Replacement {
  const joiner = ctx.python ? '; ' : ' ';
  if (!s.ownLine) return after ? { start: s.end, end: s.end, text: `${joiner}${text}` } : { start: s.start, end: s.start, text: `${text}${joiner}` };
  return after ? { start: s.end, end: s.end, text: `\n${s.indent}${text}` } : { start: s.lineStart, end: s.lineStart, text: `${s.indent}${text}\n` };
}

function deleteCopySwap(ctx: SiteContext, statements: Statement[], s: Statement): MutationSite[] {
  const out: MutationSite[] = [];
  // Delete: whole lines when the statement owns them; `pass` keeps a Python block non-empty.
  const onlyChild = namedChildren(s.block).length === 1;
  const deletion: Replacement = ctx.python && onlyChild ? { start: s.start, end: s.end, text: 'pass' } : s.ownLine ? { start: s.lineStart, end: s.lineEnd, text: '' } : { start: s.start, end: s.end, text: '' };
  out.push(site('statement-delete', s.node, [{ operator: 'statement-delete', line: s.line, before: snippet(s.text), after: deletion.text || '(deleted)', replacements: [deletion] }]));
  // A terminal statement twice in a row, or anything right after one, is dead code: no such edit.
  if (!TERMINAL.has(s.node.type)) out.push(site('statement-copy', s.node, [{ operator: 'statement-copy', line: s.line, before: snippet(s.text), after: `${snippet(s.text)} (twice)`, replacements: [insertion(ctx, s, s.text, true)] }]));
  const siblings = statements.filter((t) => t !== s && t.block.id === s.block.id && t.start > s.start);
  if (siblings.length > 0) {
    const swaps = siblings.map((t) => ({
      operator: 'statement-swap' as const,
      line: s.line,
      before: snippet(s.text),
      after: `swapped with line ${t.line}: ${snippet(t.text)}`,
      replacements: [
        { start: s.start, end: s.end, text: reindent(t.text, t.indent, s.indent) },
        { start: t.start, end: t.end, text: reindent(s.text, s.indent, t.indent) },
      ],
    }));
    out.push(site('statement-swap', s.node, swaps));
  }
  return out;
}

/**
 * Insert a statement from elsewhere before or after this one. A donor equal to a statement
 * already in this block adds nothing a copy would not (or redeclares a name). Donors of the
 * same function whose names are all bound where they land come first, then other fitting ones.
 */
function insertSite(ctx: SiteContext, statements: Statement[], s: Statement): MutationSite | null {
  const present = new Set(statements.filter((t) => t.block.id === s.block.id).map((t) => normalized(t.text)));
  const donors = statements.filter((d) => d !== s && !present.has(normalized(d.text)));
  const fits = (donor: Statement, after: boolean) => donor.freeNames.every((name) => ctx.scopes.bound(s.fn, after ? s.end : s.start, name));
  const placements = donors.flatMap((donor) => (TERMINAL.has(s.node.type) ? [false] : [false, true]).map((after) => ({ donor, after, fits: fits(donor, after), near: donor.fn?.id === s.fn?.id })));
  const rank = (p: (typeof placements)[number]) => (p.fits ? 0 : 2) + (p.near ? 0 : 1);
  const ordered = [...placements].sort((a, b) => rank(a) - rank(b));
  if (ordered.length === 0) return null;
  return site(
    'statement-insert',
    s.node,
    {
      size: ordered.length,
      make: (i): Mutation => {
        const { donor, after } = ordered[i] as (typeof ordered)[number];
        return {
          operator: 'statement-insert',
          line: s.line,
          before: snippet(s.text),
          after: `${after ? 'after' : 'before'} it: ${snippet(donor.text)} (from line ${donor.line})`,
          replacements: [insertion(ctx, s, s.ownLine ? reindent(donor.text, donor.indent, s.indent) : donor.text, after)],
        };
      },
    },
    placements.filter((p) => p.fits).length,
  );
}

const EMPTY_COLLECTION = /^(?:\[\]|set\(\)|list\(\)|\{\}|dict\(\)|new (?:Set|Map)\(\)|deque\(\)|Queue\(\))$/;

/** A function's local collections and the method that adds to each. */
function collectionsOf(ctx: SiteContext, fn: Node): Map<string, string> {
  const kinds = new Map<string, string>();
  for (const n of fn.descendantsOfType(ctx.python ? 'assignment' : 'variable_declarator')) {
    const name = n?.childForFieldName(ctx.python ? 'left' : 'name');
    const value = n?.childForFieldName(ctx.python ? 'right' : 'value');
    if (!n || name?.type !== 'identifier' || !value || !EMPTY_COLLECTION.test(value.text.replace(/\s+/g, ''))) continue;
    const v = value.text.replace(/\s+/g, '');
    kinds.set(name.text, ctx.python ? (v === 'set()' ? 'add' : v === '[]' || v === 'list()' || /deque|Queue/.test(v) ? 'append' : '') : v === 'newSet()' ? 'add' : v === '[]' ? 'push' : '');
  }
  for (const call of fn.descendantsOfType(ctx.python ? 'call' : 'call_expression')) {
    const callee = call?.childForFieldName('function');
    const object = callee?.childForFieldName('object');
    const method = callee?.childForFieldName(ctx.python ? 'attribute' : 'property')?.text ?? '';
    if (object?.type === 'identifier' && ['add', 'append', 'push'].includes(method) && (kinds.has(object.text) || ctx.scopes.values(call as Node).includes(object.text))) kinds.set(object.text, method);
  }
  return new Map([...kinds].filter(([, m]) => m));
}

/** `visited.add(node)`: an element added to a collection the function keeps, at each statement of the function. */
function collectionInsertSites(ctx: SiteContext, statements: Statement[]): MutationSite[] {
  const out: MutationSite[] = [];
  const byFn = new Map<number, Statement[]>();
  for (const s of statements) if (s.fn) (byFn.get(s.fn.id) ?? byFn.set(s.fn.id, []).get(s.fn.id)!).push(s);
  for (const list of byFn.values()) {
    // A closure adds to its outer function's collections too: look from the outermost function.
    let fn = list[0]!.fn as Node;
    for (let up = enclosingFunction(fn); up; up = enclosingFunction(up)) fn = up;
    const collections = collectionsOf(ctx, fn);
    if (collections.size === 0) continue;
    // Elements tested for membership in a collection are the likeliest to belong in it.
    const tested = new Set<string>();
    for (const c of fn.descendantsOfType(ctx.python ? 'comparison_operator' : 'call_expression')) {
      if (!c) continue;
      const first = c.namedChild(0);
      if (ctx.python && /\bin\b/.test(c.childrenForFieldName('operators')[0]?.text ?? '') && first?.type === 'identifier') tested.add(first.text);
      if (!ctx.python && /\.(has|includes)$/.test(c.childForFieldName('function')?.text ?? '')) for (const a of namedChildren(c.childForFieldName('arguments'))) if (a.type === 'identifier') tested.add(a.text);
    }
    for (const s of list) {
      for (const after of [false, true]) {
        // After a statement only at the end of its block (and never after a return); before every statement otherwise.
        if (after && (namedChildren(s.block).at(-1)?.id !== s.node.id || TERMINAL.has(s.node.type))) continue;
        const at = after ? s.end : s.start;
        const values = ctx.scopes.values(s.node).filter((v) => ctx.scopes.bound(s.fn, at, v));
        for (const [collection, method] of collections) {
          const elements = [...values.filter((v) => tested.has(v)), ...values.filter((v) => !tested.has(v))].filter((v) => v !== collection).slice(0, 6);
          if (elements.length === 0 || !values.includes(collection)) continue;
          const mutations = elements.map((e): Mutation => {
            const statement = `${collection}.${method}(${e})${ctx.python ? '' : ';'}`;
            return { operator: 'collection-insert', line: s.line, before: snippet(s.text), after: `${after ? 'after' : 'before'} it: ${statement}`, replacements: [insertion(ctx, s, statement, after)] };
          });
          out.push(site('collection-insert', s.node, mutations, elements.filter((e) => tested.has(e)).length || 1));
        }
      }
    }
  }
  return out;
}

const LOOPS = new Set(['for_statement', 'for_in_statement', 'while_statement', 'do_statement']);

/** Is the jump a loop's (not a `switch` case's `break`, nor outside any loop)? */
function inLoop(jump: Node): boolean {
  for (let n = jump.parent; n && !FUNCTION_TYPES.has(n.type); n = n.parent) {
    if (LOOPS.has(n.type)) return true;
    if (n.type === 'switch_case' || n.type === 'switch_default') return false;
  }
  return false;
}

/**
 * The wrong loop jump: `continue` where the loop had to stop, or `break` where only this
 * element was to be skipped (a one-token fix in both directions, in JS and Python alike).
 */
export function jumpReplaceSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  for (const jump of ctx.root.descendantsOfType(['break_statement', 'continue_statement'])) {
    // A labelled jump (`continue outer`) names its loop: swapping its keyword is another edit.
    if (!jump || jump.namedChildCount > 0 || !inLoop(jump)) continue;
    const [from, to] = jump.type === 'break_statement' ? ['break', 'continue'] : ['continue', 'break'];
    const keyword = jump.child(0);
    if (!keyword || keyword.text !== from) continue;
    const context = jump.parent?.type === 'if_statement' || jump.parent?.type === 'block' || jump.parent?.type === 'statement_block' ? jump.parent : jump;
    out.push(
      site('jump-replace', jump, [
        {
          operator: 'jump-replace',
          line: jump.startPosition.row + 1,
          before: snippet(context.text),
          after: snippet(context.text.slice(0, keyword.startIndex - context.startIndex) + to + context.text.slice(keyword.endIndex - context.startIndex)),
          replacements: [{ start: keyword.startIndex, end: keyword.endIndex, text: to }],
        },
      ]),
    );
  }
  return out;
}

export function statementSites(ctx: SiteContext): MutationSite[] {
  const statements = collectStatements(ctx);
  const out: MutationSite[] = [];
  for (const s of statements) {
    out.push(...deleteCopySwap(ctx, statements, s));
    const insert = insertSite(ctx, statements, s);
    if (insert) out.push(insert);
  }
  out.push(...collectionInsertSites(ctx, statements), ...jumpReplaceSites(ctx));
  return out;
}

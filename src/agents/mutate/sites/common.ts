/**
 * What every operator family needs: the parsed file with its scopes, and helpers that turn
 * "replace this node with each of these texts" into a site. Pure apart from tree-sitter nodes.
 */
import type { Node } from 'web-tree-sitter';
import type { MutateLanguage } from '../parser.js';
import { JS_FUNCTIONS, indexScope, visibleAt, type ScopeIndex } from '../scope.js';
import type { Mutation, MutationOperator, MutationSite } from './types.js';

/** JavaScript/TypeScript function scopes, and Python's function_definition (lambdas are no scope of their own here). */
export const FUNCTION_TYPES: ReadonlySet<string> = new Set([...JS_FUNCTIONS, 'function_definition']);

const JS_BUILTINS = [
  'Math', 'Number', 'String', 'Array', 'Object', 'JSON', 'console', 'undefined', 'NaN', 'Infinity', 'Boolean',
  'Date', 'Map', 'Set', 'Error', 'TypeError', 'RangeError', 'parseInt', 'parseFloat', 'isNaN', 'Promise',
  'Symbol', 'BigInt', 'RegExp', 'globalThis', 'process', 'require', 'module', 'exports',
];
const PY_BUILTINS = [
  'len', 'range', 'min', 'max', 'sum', 'abs', 'print', 'int', 'float', 'str', 'list', 'dict', 'set', 'tuple',
  'sorted', 'reversed', 'enumerate', 'zip', 'map', 'filter', 'any', 'all', 'isinstance', 'round', 'ValueError',
  'TypeError', 'KeyError', 'IndexError', 'Exception', 'object', 'bool', 'iter', 'next',
];

/** Everything a family reads about one parsed file. */
export interface SiteContext {
  root: Node;
  source: string;
  language: MutateLanguage;
  python: boolean;
  scopes: Scopes;
}

export function siteContext(root: Node, source: string, language: MutateLanguage): SiteContext {
  const python = language === 'python';
  return { root, source, language, python, scopes: new Scopes(root, python) };
}

const SNIPPET = 80;
export function snippet(text: string): string {
  const one = text.replace(/\s*\n\s*/g, ' ⏎ ').trim();
  return one.length > SNIPPET ? `${one.slice(0, SNIPPET - 1)}…` : one;
}

export function lineStartOf(source: string, index: number): number {
  return source.lastIndexOf('\n', index - 1) + 1;
}

export function lineEndOf(source: string, index: number): number {
  const nl = source.indexOf('\n', index);
  return nl === -1 ? source.length : nl + 1;
}

export function enclosingFunction(node: Node): Node | null {
  for (let n = node.parent; n; n = n.parent) if (FUNCTION_TYPES.has(n.type)) return n;
  return null;
}

export function functionName(fn: Node | null): string | null {
  if (!fn) return null;
  const name = fn.childForFieldName('name');
  if (name) return name.text;
  // `const f = () => …` / `f = function () {…}`: the declarator or assignment names it.
  const parent = fn.parent;
  if (parent?.type === 'variable_declarator') return parent.childForFieldName('name')?.text ?? null;
  if (parent?.type === 'assignment_expression' || parent?.type === 'pair') {
    return (parent.childForFieldName('left') ?? parent.childForFieldName('key'))?.text ?? null;
  }
  return null;
}

export function identifiersIn(node: Node | null, into: Set<string>): void {
  if (!node) return;
  const stack: Node[] = [node];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (n.type === 'identifier' || n.type === 'shorthand_property_identifier_pattern') into.add(n.text);
    for (const child of n.namedChildren) if (child) stack.push(child);
  }
}

export function unwrapParens(node: Node): Node {
  let n = node;
  while (n.type === 'parenthesized_expression' && n.namedChildCount === 1 && n.namedChild(0)) n = n.namedChild(0) as Node;
  return n;
}

/** Named children, comments left out. */
export function namedChildren(node: Node | null): Node[] {
  return (node?.namedChildren ?? []).filter((c): c is Node => c !== null && c.type !== 'comment');
}

/** Names bound at module level: functions, classes, variables and imports. */
function topLevelNames(root: Node): Set<string> {
  const names = new Set<string>();
  const visit = (n: Node): void => {
    switch (n.type) {
      case 'export_statement':
        for (const child of n.namedChildren) if (child) visit(child);
        break;
      case 'function_declaration':
      case 'generator_function_declaration':
      case 'class_declaration':
      case 'function_definition':
      case 'class_definition':
        identifiersIn(n.childForFieldName('name'), names);
        break;
      case 'decorated_definition':
        identifiersIn(n.childForFieldName('definition')?.childForFieldName('name') ?? null, names);
        break;
      case 'lexical_declaration':
      case 'variable_declaration':
        for (const d of n.namedChildren) if (d?.type === 'variable_declarator') identifiersIn(d.childForFieldName('name'), names);
        break;
      case 'import_statement':
      case 'import_from_statement':
        identifiersIn(n, names);
        break;
      case 'expression_statement': {
        const inner = n.namedChild(0);
        if (inner?.type === 'assignment') identifiersIn(inner.childForFieldName('left'), names);
        break;
      }
      default:
        break;
    }
  };
  for (const child of root.namedChildren) if (child) visit(child);
  return names;
}

/** Names that are no values to swap for another: functions, classes and imports, anywhere in the file. */
function definedNames(root: Node): Set<string> {
  const names = new Set<string>();
  for (const n of root.descendantsOfType(['function_declaration', 'generator_function_declaration', 'class_declaration', 'function_definition', 'class_definition'])) {
    identifiersIn(n?.childForFieldName('name') ?? null, names);
  }
  for (const n of root.descendantsOfType(['import_statement', 'import_from_statement', 'import_clause'])) identifiersIn(n, names);
  return names;
}

/** Scope indexes of a tree's functions, built on first use. */
export class Scopes {
  private readonly cache = new Map<number, { index: ScopeIndex; names: Map<number, Set<string>> }>();
  private readonly global: Set<string>;
  /** Function, class and imported names of the file. */
  readonly defined: Set<string>;

  constructor(
    root: Node,
    private readonly python: boolean,
  ) {
    this.global = new Set([...topLevelNames(root), ...(python ? PY_BUILTINS : JS_BUILTINS)]);
    this.defined = definedNames(root);
  }

  /** Local names of fn bound at source index `at` (empty outside functions). */
  local(fn: Node | null, at: number): Set<string> {
    if (!fn) return new Set();
    let entry = this.cache.get(fn.id);
    if (!entry) {
      entry = { index: indexScope(fn, this.python), names: new Map() };
      this.cache.set(fn.id, entry);
    }
    let names = entry.names.get(at);
    if (!names) {
      names = visibleAt(entry.index, at);
      entry.names.set(at, names);
    }
    return names;
  }

  /**
   * Local value names at a node (parameters, variables, loop variables; not functions,
   * classes or imports), in the enclosing functions from the innermost out: a closure reads
   * its outer function's locals too.
   */
  values(node: Node): string[] {
    const out: string[] = [];
    for (let fn = enclosingFunction(node); fn; fn = enclosingFunction(fn)) {
      for (const name of this.local(fn, node.startIndex)) if (!this.defined.has(name) && !out.includes(name)) out.push(name);
    }
    return out;
  }

  lastWrites(fn: Node): Map<string, number> {
    this.local(fn, fn.startIndex);
    return this.cache.get(fn.id)?.index.lastWrite ?? new Map();
  }

  bound(fn: Node | null, at: number, name: string): boolean {
    if (this.global.has(name)) return true;
    for (let f = fn; f; f = enclosingFunction(f)) if (this.local(f, at).has(name)) return true;
    return false;
  }
}

export function replaceIn(whole: Node, part: Node, text: string): string {
  return whole.text.slice(0, part.startIndex - whole.startIndex) + text + whole.text.slice(part.endIndex - whole.startIndex);
}

/** A site of `operator` at `node` from a list of mutations or a lazy maker. */
export function site(
  operator: MutationOperator,
  node: Node,
  mutations: readonly Mutation[] | { size: number; make: (i: number) => Mutation },
  preferred?: number,
): MutationSite {
  const list = 'make' in mutations ? null : (mutations as readonly Mutation[]);
  const lazy = 'make' in mutations ? mutations : null;
  const size = list ? list.length : (lazy?.size ?? 0);
  return {
    operator,
    line: node.startPosition.row + 1,
    endLine: node.endPosition.row + 1,
    scope: functionName(enclosingFunction(node)),
    size,
    preferred: Math.min(preferred ?? size, size),
    mutation(i: number): Mutation {
      if (i < 0 || i >= this.size || !Number.isInteger(i)) throw new RangeError(`mutation ${i} of ${this.size}`);
      return list ? (list[i] as Mutation) : (lazy as { make: (i: number) => Mutation }).make(i);
    },
  };
}

/**
 * The site of replacing `part` with each of `alternatives` (most plausible first), shown within
 * `context` (before and after) in the commit message. Duplicates and no-ops are dropped.
 */
export function replacementSite(operator: MutationOperator, context: Node, part: Node, alternatives: readonly string[], preferred?: number): MutationSite | null {
  const unique = [...new Set(alternatives)].filter((alt) => alt !== part.text);
  if (unique.length === 0) return null;
  return site(
    operator,
    part,
    unique.map((alt) => ({
      operator,
      line: part.startPosition.row + 1,
      before: snippet(context.text),
      after: snippet(replaceIn(context, part, alt)),
      replacements: [{ start: part.startIndex, end: part.endIndex, text: alt }],
    })),
    preferred,
  );
}

/** The statement (a direct child of a block, or a module-level statement) holding a node. */
export function statementOf(node: Node): Node {
  let n = node;
  while (n.parent && !['block', 'statement_block', 'module', 'program'].includes(n.parent.type)) n = n.parent;
  return n;
}

/** Wrap an expression in parentheses unless it is atomic where it will stand. */
export function atomic(node: Node): string {
  return ATOMIC.has(node.type) ? node.text : `(${node.text})`;
}

const ATOMIC = new Set(['identifier', 'number', 'integer', 'float', 'string', 'call_expression', 'call', 'member_expression', 'attribute', 'subscript_expression', 'subscript', 'parenthesized_expression', 'true', 'false', 'this', 'none', 'null', 'array', 'list']);

/** The same site with a plausibility among its operator's others. */
export function withPrior(s: MutationSite, prior: number): MutationSite {
  return { ...s, prior, mutation: s.mutation.bind(s) };
}

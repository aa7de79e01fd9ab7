/**
 * Mutation sites: where on a syntax tree a genetic-improvement operator can act, and the
 * concrete edits (text replacements) it can make there. Pure apart from the lazily loaded
 * parser: source text in, sites out; a mutation is applied by splicing text and re-parsing,
 * and a result with ERROR or MISSING nodes is rejected.
 */
import type { Node } from 'web-tree-sitter';
import { parse, type MutateLanguage } from './parser.js';
import { JS_FUNCTIONS, indexScope, visibleAt, type ScopeIndex } from './scope.js';

export type MutationOperator =
  | 'binary-operator'
  | 'constant'
  | 'negate-condition'
  | 'return-value'
  | 'statement-delete'
  | 'statement-copy'
  | 'statement-swap'
  | 'statement-insert'
  | 'return-insert';

export const MUTATION_OPERATORS: readonly MutationOperator[] = [
  'binary-operator',
  'constant',
  'negate-condition',
  'return-value',
  'statement-delete',
  'statement-copy',
  'statement-swap',
  'statement-insert',
  'return-insert',
];

/** Replace source[start, end) (JS string indices) with text. */
export interface Replacement {
  start: number;
  end: number;
  text: string;
}

/** One concrete edit. */
export interface Mutation {
  operator: MutationOperator;
  /** 1-based line of the edited location. */
  line: number;
  /** Short snippet before and after, for the commit message. */
  before: string;
  after: string;
  replacements: Replacement[];
}

/** A place where one operator acts, with the concrete edits it can make there (lazily built). */
export interface MutationSite {
  operator: MutationOperator;
  /** 1-based first and last line of the location. */
  line: number;
  endLine: number;
  /** Name of the innermost enclosing function, or null at top level. */
  scope: string | null;
  /** Number of concrete edits at this site. */
  size: number;
  /**
   * The first `preferred` edits are the more plausible ones (an inserted statement whose names
   * are all bound where it lands); a targeted search favours them, a uniform one ignores this.
   */
  preferred: number;
  /** The i-th concrete edit, 0 <= i < size. */
  mutation(i: number): Mutation;
}

const isPython = (language: MutateLanguage): boolean => language === 'python';

const COMPARISON: Record<string, string[]> = {
  '<': ['<=', '>', '>='],
  '<=': ['<', '>=', '>'],
  '>': ['>=', '<', '<='],
  '>=': ['>', '<=', '<'],
  '==': ['!='],
  '!=': ['=='],
  '===': ['!=='],
  '!==': ['==='],
};

const JS_OPERATORS: Record<string, string[]> = {
  ...COMPARISON,
  '+': ['-'],
  '-': ['+'],
  '*': ['/'],
  '/': ['*'],
  '&&': ['||'],
  '||': ['&&'],
  '+=': ['-='],
  '-=': ['+='],
  '*=': ['/='],
  '/=': ['*='],
  '++': ['--'],
  '--': ['++'],
};

const PY_OPERATORS: Record<string, string[]> = {
  ...COMPARISON,
  '+': ['-'],
  '-': ['+'],
  '*': ['/'],
  '/': ['*', '//'],
  '//': ['/'],
  and: ['or'],
  or: ['and'],
  '+=': ['-='],
  '-=': ['+='],
};

// JavaScript/TypeScript function scopes, and Python's function_definition.
const FUNCTION_TYPES: ReadonlySet<string> = new Set([...JS_FUNCTIONS, 'function_definition']);

const JS_SKIPPED_STATEMENTS = new Set([
  'comment',
  'function_declaration',
  'generator_function_declaration',
  'class_declaration',
  'empty_statement',
]);
const PY_SKIPPED_STATEMENTS = new Set(['comment', 'function_definition', 'class_definition', 'decorated_definition']);

const SNIPPET = 80;
function snippet(text: string): string {
  const one = text.replace(/\s*\n\s*/g, ' ⏎ ').trim();
  return one.length > SNIPPET ? `${one.slice(0, SNIPPET - 1)}…` : one;
}

interface Statement {
  node: Node;
  start: number;
  end: number;
  /** 1-based. */
  line: number;
  blockId: number;
  /** Names the statement reads that it does not bind itself. */
  freeNames: string[];
  /** Whether a name is bound at a source index of the statement's function (locals, module, builtins). */
  boundAt: (at: number, name: string) => boolean;
  text: string;
  /** Leading whitespace of the statement's first line. */
  indent: string;
  /** The statement is alone on its lines (only whitespace before it and after it). */
  ownLine: boolean;
  lineStart: number;
  /** Index just past the newline that ends the statement's last line (or the source end). */
  lineEnd: number;
  block: Node;
}

function lineStartOf(source: string, index: number): number {
  return source.lastIndexOf('\n', index - 1) + 1;
}

function lineEndOf(source: string, index: number): number {
  const nl = source.indexOf('\n', index);
  return nl === -1 ? source.length : nl + 1;
}

function enclosingFunction(node: Node): Node | null {
  for (let n = node.parent; n; n = n.parent) if (FUNCTION_TYPES.has(n.type)) return n;
  return null;
}

function functionName(fn: Node | null): string | null {
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

function identifiersIn(node: Node | null, into: Set<string>): void {
  if (!node) return;
  const stack: Node[] = [node];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (n.type === 'identifier' || n.type === 'shorthand_property_identifier_pattern') into.add(n.text);
    for (const child of n.namedChildren) if (child) stack.push(child);
  }
}

/** Scope indexes of a tree's functions, built on first use. */
class Scopes {
  private readonly cache = new Map<number, { index: ScopeIndex; names: Map<number, Set<string>> }>();
  private readonly global: Set<string>;

  constructor(
    root: Node,
    private readonly python: boolean,
  ) {
    this.global = new Set([...topLevelNames(root), ...(python ? PY_BUILTINS : JS_BUILTINS)]);
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

  lastWrites(fn: Node): Map<string, number> {
    this.local(fn, fn.startIndex);
    return this.cache.get(fn.id)?.index.lastWrite ?? new Map();
  }

  bound(fn: Node | null, at: number, name: string): boolean {
    return this.global.has(name) || this.local(fn, at).has(name);
  }
}

/** A docstring or a directive ('use strict'): moving, copying or deleting it changes no behaviour worth a test run. */
function isLoneString(node: Node): boolean {
  const inner = node.type === 'expression_statement' ? node.namedChild(0) : null;
  return node.namedChildCount === 1 && (inner?.type === 'string' || inner?.type === 'concatenated_string');
}

function collectStatements(root: Node, source: string, language: MutateLanguage, scopes: Scopes): Statement[] {
  const blockType = isPython(language) ? 'block' : 'statement_block';
  const skipped = isPython(language) ? PY_SKIPPED_STATEMENTS : JS_SKIPPED_STATEMENTS;
  const out: Statement[] = [];
  for (const block of root.descendantsOfType(blockType)) {
    if (!block) continue;
    for (const node of block.namedChildren) {
      if (!node || skipped.has(node.type) || node.hasError || isLoneString(node)) continue;
      const lineStart = lineStartOf(source, node.startIndex);
      const lineEnd = lineEndOf(source, node.endIndex);
      const prefix = source.slice(lineStart, node.startIndex);
      const suffix = source.slice(node.endIndex, lineEnd);
      const ownLine = /^[ \t]*$/.test(prefix) && /^[ \t]*\r?\n?$/.test(suffix);
      out.push({
        node,
        start: node.startIndex,
        end: node.endIndex,
        line: node.startPosition.row + 1,
        blockId: block.id,
        freeNames: freeNames(node),
        boundAt: ((fn: Node | null) => (at: number, name: string) => scopes.bound(fn, at, name))(enclosingFunction(node)),
        text: node.text,
        indent: /^[ \t]*/.exec(source.slice(lineStart))?.[0] ?? '',
        ownLine,
        lineStart,
        lineEnd,
        block,
      });
    }
  }
  return out;
}

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

/** Identifiers a statement reads, minus those it binds (a Python attribute name is no read). */
function freeNames(node: Node): string[] {
  const used = new Set<string>();
  const stack: Node[] = [node];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (n.type === 'identifier' || n.type === 'shorthand_property_identifier') used.add(n.text);
    for (const child of n.namedChildren) {
      if (!child) continue;
      if (n.type === 'attribute' && n.childForFieldName('attribute')?.id === child.id) continue;
      if (n.type === 'keyword_argument' && n.childForFieldName('name')?.id === child.id) continue;
      stack.push(child);
    }
  }
  const bound = new Set<string>();
  const stack2: Node[] = [node];
  while (stack2.length > 0) {
    const n = stack2.pop() as Node;
    if (n.type === 'variable_declarator') identifiersIn(n.childForFieldName('name'), bound);
    if ((n.type === 'assignment' || n.type === 'for_statement' || n.type === 'for_in_statement') && n.childForFieldName('left')?.type === 'identifier') {
      identifiersIn(n.childForFieldName('left'), bound);
    }
    for (const child of n.namedChildren) if (child) stack2.push(child);
  }
  return [...used].filter((name) => !bound.has(name));
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

/** Move a multi-line statement from one indentation to another. */
function reindent(text: string, from: string, to: string): string {
  if (from === to) return text;
  return text
    .split('\n')
    .map((line, i) => (i === 0 ? line : line.startsWith(from) ? to + line.slice(from.length) : line))
    .join('\n');
}

function site(
  operator: MutationOperator,
  node: Node,
  mutations: readonly Mutation[] | { size: number; make: (i: number) => Mutation },
  preferred?: number,
): MutationSite {
  const list = 'make' in mutations ? null : (mutations as readonly Mutation[]);
  const lazy = 'make' in mutations ? mutations : null;
  return {
    operator,
    line: node.startPosition.row + 1,
    endLine: node.endPosition.row + 1,
    scope: functionName(enclosingFunction(node)),
    size: list ? list.length : (lazy?.size ?? 0),
    preferred: preferred ?? (list ? list.length : (lazy?.size ?? 0)),
    mutation(i: number): Mutation {
      if (i < 0 || i >= this.size || !Number.isInteger(i)) throw new RangeError(`mutation ${i} of ${this.size}`);
      return list ? (list[i] as Mutation) : (lazy as { make: (i: number) => Mutation }).make(i);
    },
  };
}

function replaceIn(whole: Node, part: Node, text: string): string {
  return whole.text.slice(0, part.startIndex - whole.startIndex) + text + whole.text.slice(part.endIndex - whole.startIndex);
}

/** The site of replacing `part` with each of `alternatives`, shown within `context` (before and after). */
function replacementSite(operator: MutationOperator, context: Node, part: Node, alternatives: readonly string[]): MutationSite {
  return site(
    operator,
    part,
    alternatives.map((alt) => ({
      operator,
      line: part.startPosition.row + 1,
      before: snippet(context.text),
      after: snippet(replaceIn(context, part, alt)),
      replacements: [{ start: part.startIndex, end: part.endIndex, text: alt }],
    })),
  );
}

function binarySites(root: Node, language: MutateLanguage): MutationSite[] {
  const table = isPython(language) ? PY_OPERATORS : JS_OPERATORS;
  const types = isPython(language)
    ? ['binary_operator', 'comparison_operator', 'boolean_operator', 'augmented_assignment']
    : ['binary_expression', 'augmented_assignment_expression', 'update_expression'];
  const out: MutationSite[] = [];
  for (const node of root.descendantsOfType(types)) {
    if (!node) continue;
    // Operator tokens are the anonymous children (a Python chain `a < b <= c` has several).
    for (const token of node.children) {
      if (!token || token.isNamed) continue;
      const alternatives = table[token.type];
      if (!alternatives) continue;
      out.push(replacementSite('binary-operator', node, token, alternatives));
    }
  }
  return out;
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1e9) / 1e9);
}

function constantSites(root: Node, language: MutateLanguage): MutationSite[] {
  const numberTypes = isPython(language) ? ['integer', 'float'] : ['number'];
  const [trueText, falseText] = isPython(language) ? ['True', 'False'] : ['true', 'false'];
  const out: MutationSite[] = [];
  for (const node of root.descendantsOfType([...numberTypes, 'true', 'false'])) {
    if (!node) continue;
    let alternatives: string[];
    if (node.type === 'true') alternatives = [falseText];
    else if (node.type === 'false') alternatives = [trueText];
    else {
      // Only plain decimals: hex, octal, exponents and separators keep their meaning hard to ±1.
      if (!/^\d+(\.\d+)?$/.test(node.text)) continue;
      const value = Number(node.text);
      alternatives = [...new Set([value + 1, value - 1, 0, 1].map(formatNumber))].filter(
        (alt) => alt !== node.text && !alt.startsWith('-'),
      );
    }
    out.push(
      site(
        'constant',
        node,
        alternatives.map((alt) => ({
          operator: 'constant' as const,
          line: node.startPosition.row + 1,
          before: snippet(node.parent?.text ?? node.text),
          after: snippet(node.parent ? replaceIn(node.parent, node, alt) : alt),
          replacements: [{ start: node.startIndex, end: node.endIndex, text: alt }],
        })),
      ),
    );
  }
  return out;
}

function unwrapParens(node: Node): Node {
  let n = node;
  while (n.type === 'parenthesized_expression' && n.namedChildCount === 1 && n.namedChild(0)) n = n.namedChild(0) as Node;
  return n;
}

function negateSites(root: Node, language: MutateLanguage): MutationSite[] {
  const types = isPython(language)
    ? ['if_statement', 'elif_clause', 'while_statement']
    : ['if_statement', 'while_statement', 'do_statement', 'ternary_expression'];
  const out: MutationSite[] = [];
  for (const owner of root.descendantsOfType(types)) {
    const condition = owner?.childForFieldName('condition');
    if (!owner || !condition) continue;
    // JS keeps the parentheses of `if (…)`: negate what is inside them.
    const target = !isPython(language) && condition.type === 'parenthesized_expression' ? unwrapParens(condition) : condition;
    let negated: string;
    if (isPython(language)) {
      const inner = unwrapParens(target);
      negated = inner.type === 'not_operator' ? (inner.childForFieldName('argument')?.text ?? '') : `not (${target.text})`;
    } else {
      const operator = target.type === 'unary_expression' ? target.childForFieldName('operator')?.text : undefined;
      negated = operator === '!' ? unwrapParens(target.childForFieldName('argument') as Node).text : `!(${target.text})`;
    }
    if (!negated) continue;
    out.push(
      site('negate-condition', target, [
        {
          operator: 'negate-condition' as const,
          line: target.startPosition.row + 1,
          before: snippet(target.text),
          after: snippet(negated),
          replacements: [{ start: target.startIndex, end: target.endIndex, text: negated }],
        },
      ]),
    );
  }
  return out;
}

const SIMPLE_EXPRESSION = new Set(['identifier', 'number', 'integer', 'float', 'call_expression', 'call', 'member_expression', 'attribute', 'subscript_expression', 'subscript']);

function returnSites(root: Node, scopes: Scopes): MutationSite[] {
  const out: MutationSite[] = [];
  for (const ret of root.descendantsOfType('return_statement')) {
    const value = ret?.namedChildren.find((c) => c && c.type !== 'comment');
    if (!ret || !value) continue;
    const related = new Set<string>(scopes.local(enclosingFunction(ret), ret.startIndex));
    identifiersIn(value, related);
    related.delete(value.text);
    const wrapped = SIMPLE_EXPRESSION.has(value.type) ? value.text : `(${value.text})`;
    const alternatives = [...[...related].sort(), `${wrapped} + 1`, `${wrapped} - 1`];
    out.push(replacementSite('return-value', ret, value, alternatives));
  }
  return out;
}

function statementSites(root: Node, source: string, language: MutateLanguage, scopes: Scopes): MutationSite[] {
  const statements = collectStatements(root, source, language, scopes);
  const python = isPython(language);
  const joiner = python ? '; ' : ' ';
  const out: MutationSite[] = [];
  const lineOf = (s: Statement): number => s.line;

  for (const s of statements) {
    // Delete: whole lines when the statement owns them; `pass` keeps a Python block non-empty.
    const onlyChild = s.block.namedChildren.filter((c) => c && c.type !== 'comment').length === 1;
    const deletion: Replacement =
      python && onlyChild
        ? { start: s.start, end: s.end, text: 'pass' }
        : s.ownLine
          ? { start: s.lineStart, end: s.lineEnd, text: '' }
          : { start: s.start, end: s.end, text: '' };
    out.push(
      site('statement-delete', s.node, [
        {
          operator: 'statement-delete' as const,
          line: lineOf(s),
          before: snippet(s.text),
          after: deletion.text || '(deleted)',
          replacements: [deletion],
        },
      ]),
    );

    // Copy: the statement twice in a row.
    const copy = s.ownLine ? `\n${s.indent}${s.text}` : `${joiner}${s.text}`;
    out.push(
      site('statement-copy', s.node, [
        {
          operator: 'statement-copy' as const,
          line: lineOf(s),
          before: snippet(s.text),
          after: `${snippet(s.text)} (twice)`,
          replacements: [{ start: s.end, end: s.end, text: copy }],
        },
      ]),
    );

    // Swap with another statement of the same block.
    const siblings = statements.filter((t) => t !== s && t.blockId === s.blockId && t.start > s.start);
    if (siblings.length > 0) {
      out.push(
        site(
          'statement-swap',
          s.node,
          siblings.map((t) => ({
            operator: 'statement-swap' as const,
            line: lineOf(s),
            before: snippet(s.text),
            after: `swapped with line ${lineOf(t)}: ${snippet(t.text)}`,
            replacements: [
              { start: s.start, end: s.end, text: reindent(t.text, t.indent, s.indent) },
              { start: t.start, end: t.end, text: reindent(s.text, s.indent, t.indent) },
            ],
          })),
        ),
      );
    }

    // Insert a statement from elsewhere in the file before or after this one. A donor equal to
    // a statement already in this block adds nothing a copy would not (or redeclares a name).
    // Insertions whose names are all bound where they land come first: the plausible ones.
    const present = new Set(statements.filter((t) => t.blockId === s.blockId).map((t) => normalized(t.text)));
    const donors = statements.filter((d) => d !== s && !present.has(normalized(d.text)));
    const placements = donors.flatMap((donor) =>
      [false, true].map((after) => ({ donor, after, fits: donor.freeNames.every((name) => s.boundAt(after ? s.end : s.start, name)) })),
    );
    const ordered = [...placements.filter((p) => p.fits), ...placements.filter((p) => !p.fits)];
    if (ordered.length > 0) {
      out.push(
        site(
          'statement-insert',
          s.node,
          {
            size: ordered.length,
            make: (i) => {
              const { donor, after } = ordered[i] as (typeof ordered)[number];
              const text = reindent(donor.text, donor.indent, s.indent);
              const replacement: Replacement = s.ownLine
                ? after
                  ? { start: s.end, end: s.end, text: `\n${s.indent}${text}` }
                  : { start: s.lineStart, end: s.lineStart, text: `${s.indent}${text}\n` }
                : after
                  ? { start: s.end, end: s.end, text: `${joiner}${donor.text}` }
                  : { start: s.start, end: s.start, text: `${donor.text}${joiner}` };
              return {
                operator: 'statement-insert' as const,
                line: lineOf(s),
                before: snippet(s.text),
                after: `${after ? 'after' : 'before'} it: ${snippet(donor.text)} (from line ${lineOf(donor)})`,
                replacements: [replacement],
              };
            },
          },
          placements.filter((p) => p.fits).length,
        ),
      );
    }
  }
  return out;
}

const normalized = (text: string): string => text.replace(/\s+/g, ' ').trim();

const TERMINAL_STATEMENTS = new Set(['return_statement', 'throw_statement', 'raise_statement']);
const NO_RETURN_METHODS = new Set(['constructor', '__init__']);

/**
 * Missing return: a function whose body can run off its end gets `return <name>` appended,
 * for each local name bound there. The names written in the function come first, the last
 * written first (the accumulator, the running best): that is what a forgotten return most
 * often meant to hand back. Parameters follow.
 */
function returnInsertSites(root: Node, source: string, language: MutateLanguage, scopes: Scopes): MutationSite[] {
  const python = isPython(language);
  const out: MutationSite[] = [];
  for (const fn of root.descendantsOfType([...FUNCTION_TYPES])) {
    const body = fn?.childForFieldName('body');
    if (!fn || !body || body.type !== (python ? 'block' : 'statement_block')) continue;
    if (NO_RETURN_METHODS.has(functionName(fn) ?? '') || fn.type.startsWith('generator')) continue;
    const statements = body.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment');
    const last = statements.at(-1);
    if (!last || TERMINAL_STATEMENTS.has(last.type)) continue;
    const writes = scopes.lastWrites(fn);
    const names = [...scopes.local(fn, last.endIndex)];
    const written = names.filter((n) => writes.has(n)).sort((a, b) => (writes.get(b) ?? 0) - (writes.get(a) ?? 0));
    const ordered = [...written, ...names.filter((n) => !writes.has(n))];
    if (ordered.length === 0) continue;
    const lineStart = lineStartOf(source, last.startIndex);
    const indent = /^[ \t]*/.exec(source.slice(lineStart))?.[0] ?? '';
    const ownLine = /^[ \t]*$/.test(source.slice(lineStart, last.startIndex));
    const line = last.endPosition.row + 1;
    out.push(
      site(
        'return-insert',
        last,
        ordered.map((name) => {
          const statement = python ? `return ${name}` : `return ${name};`;
          return {
            operator: 'return-insert' as const,
            line,
            before: snippet(`${functionName(fn) ?? 'function'} ends without a return`),
            after: statement,
            replacements: [{ start: last.endIndex, end: last.endIndex, text: ownLine ? `\n${indent}${statement}` : python ? `; ${statement}` : ` ${statement}` }],
          };
        }),
        written.length > 0 ? written.length : ordered.length,
      ),
    );
  }
  return out;
}

/** Every mutation site of a parsed tree, in a stable order (by operator, then position). */
export function sitesOfTree(root: Node, source: string, language: MutateLanguage): MutationSite[] {
  const scopes = new Scopes(root, isPython(language));
  return [
    ...binarySites(root, language),
    ...constantSites(root, language),
    ...negateSites(root, language),
    ...returnSites(root, scopes),
    ...statementSites(root, source, language, scopes),
    ...returnInsertSites(root, source, language, scopes),
  ];
}

export async function listMutationSites(source: string, language: MutateLanguage): Promise<MutationSite[]> {
  const tree = await parse(source, language);
  try {
    return sitesOfTree(tree.rootNode, source, language);
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

/** Apply one mutation and re-parse: a result with ERROR/MISSING nodes or no change is refused. */
export async function applyMutation(source: string, language: MutateLanguage, mutation: Mutation): Promise<ApplyResult> {
  const edited = spliceReplacements(source, mutation.replacements);
  if (edited === source) return { ok: false, reason: 'the edit changes nothing' };
  const tree = await parse(edited, language);
  try {
    if (tree.rootNode.hasError) return { ok: false, reason: 'the edited source does not parse' };
  } finally {
    tree.delete();
  }
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

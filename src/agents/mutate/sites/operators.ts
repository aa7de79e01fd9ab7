/**
 * Operator edits: a binary operator replaced within its class (arithmetic, bitwise, shift,
 * comparison, boolean), an augmented assignment's operator replaced (or made a plain
 * assignment), a unary operator added or removed (`not`/`!`, `-`, `~`), the operands of a
 * non-commutative operator swapped, one operand of an arithmetic operator dropped, and a
 * missing term added to an index or a recursive call's argument (or a comprehension's source
 * to the list it builds).
 */
import type { Node } from 'web-tree-sitter';
import { atomic, enclosingFunction, functionName, identifiersIn, namedChildren, replacementSite, site, snippet, unwrapParens, withPrior, type SiteContext } from './common.js';
import type { MutationSite } from './types.js';

/** Alternatives of each operator, the likeliest slip first. */
const COMPARISON: Record<string, string[]> = {
  '<': ['<=', '>', '>=', '!=', '=='],
  '<=': ['<', '>=', '>', '==', '!='],
  '>': ['>=', '<', '<=', '!=', '=='],
  '>=': ['>', '<=', '<', '==', '!='],
  '==': ['!=', '<=', '>='],
  '!=': ['==', '<', '>'],
};
const SHARED: Record<string, string[]> = {
  ...COMPARISON,
  '+': ['-', '*'],
  '-': ['+'],
  '*': ['/', '+', '**'],
  '/': ['*'],
  '%': ['/', '*'],
  '**': ['*'],
  '&': ['|', '^'],
  '|': ['&', '^'],
  '^': ['&', '|'],
  '<<': ['>>'],
  '>>': ['<<'],
};
const JS_BINARY: Record<string, string[]> = {
  ...SHARED,
  '===': ['!==', '<=', '>='],
  '!==': ['===', '<', '>'],
  '>>': ['<<', '>>>'],
  '>>>': ['>>'],
  '&&': ['||'],
  '||': ['&&', '??'],
  '??': ['||'],
};
const PY_BINARY: Record<string, string[]> = {
  ...SHARED,
  '/': ['//', '*'],
  '//': ['/', '%'],
  '%': ['//', '/'],
  and: ['or'],
  or: ['and'],
  in: ['not in'],
  'not in': ['in'],
  is: ['is not', '=='],
  'is not': ['is', '!='],
};
const AUGMENTED: Record<string, string[]> = {
  '+=': ['-=', '*=', '='],
  '-=': ['+=', '='],
  '*=': ['/=', '+=', '='],
  '/=': ['*=', '='],
  '%=': ['/=', '='],
  '**=': ['*=', '='],
  '//=': ['/=', '%=', '='],
  '&=': ['|=', '^=', '='],
  '|=': ['&=', '^=', '='],
  '^=': ['&=', '|=', '='],
  '<<=': ['>>=', '='],
  '>>=': ['<<=', '>>>=', '='],
  '>>>=': ['>>=', '='],
  '&&=': ['||=', '='],
  '||=': ['&&=', '??=', '='],
  '??=': ['||=', '='],
};
/** Operators whose operands mean something else when swapped. */
const NON_COMMUTATIVE = new Set(['-', '/', '//', '%', '**', '<<', '>>', '>>>', '<', '<=', '>', '>=', '+', 'in', 'not in']);
/** Operators an operand can be dropped from (`1 + f(x)` → `f(x)`). */
const DROPPABLE = new Set(['+', '-', '*', '/', '//', '%', '**', '&', '|', '^', '<<', '>>', '??']);

/**
 * Operator classes by how often replacing one repairs a bug, from the repair literature:
 * relational and logical operator replacement fix the most (the ROR and LCR mutation
 * operators), arithmetic ones fewer, bitwise and shift ones the fewest.
 */
type OperatorClass = 'comparison' | 'logical' | 'arithmetic' | 'bitwise';
const CLASS_PRIOR: Record<OperatorClass, number> = { comparison: 1, logical: 1, arithmetic: 0.6, bitwise: 0.4 };

function classOf(op: string): OperatorClass {
  if (['&&', '||', '??', 'and', 'or'].includes(op)) return 'logical';
  if (['+', '-', '*', '/', '//', '%', '**'].includes(op)) return 'arithmetic';
  if (['&', '|', '^', '<<', '>>', '>>>'].includes(op)) return 'bitwise';
  return 'comparison';
}

const BINARY_TYPES = { js: ['binary_expression'], py: ['binary_operator', 'comparison_operator', 'boolean_operator'] };

function operatorTokens(node: Node): Node[] {
  if (node.type === 'comparison_operator') return node.childrenForFieldName('operators').filter((t): t is Node => t !== null);
  const op = node.childForFieldName('operator');
  return op ? [op] : [];
}

export function binarySites(ctx: SiteContext): MutationSite[] {
  const table = ctx.python ? PY_BINARY : JS_BINARY;
  const out: MutationSite[] = [];
  for (const node of ctx.root.descendantsOfType(ctx.python ? BINARY_TYPES.py : BINARY_TYPES.js)) {
    if (!node) continue;
    for (const token of operatorTokens(node)) {
      const op = token.text.replace(/\s+/g, ' ');
      const alternatives = table[op];
      const s = alternatives && replacementSite('binary-operator', node, token, alternatives);
      if (s) out.push(withPrior(s, CLASS_PRIOR[classOf(op)]));
    }
  }
  return out;
}

export function augmentedSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  for (const node of ctx.root.descendantsOfType(ctx.python ? ['augmented_assignment'] : ['augmented_assignment_expression', 'update_expression'])) {
    const token = node?.childForFieldName('operator');
    if (!node || !token) continue;
    const alternatives = node.type === 'update_expression' ? (token.text === '++' ? ['--'] : ['++']) : AUGMENTED[token.text];
    const s = alternatives && replacementSite('augmented-assignment', node, token, alternatives);
    if (s) out.push(s);
  }
  return out;
}

/** `not x` / `!x` / `-x` / `~x` → `x`, and `x` → `not x` / `!x` where a boolean is read. */
export function unarySites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  const unaryTypes = ctx.python ? ['not_operator', 'unary_operator'] : ['unary_expression'];
  for (const node of ctx.root.descendantsOfType(unaryTypes)) {
    const argument = node?.childForFieldName('argument');
    const operator = node?.type === 'not_operator' ? 'not' : node?.childForFieldName('operator')?.text;
    if (!node || !argument || !operator || !['not', '!', '-', '~', '+'].includes(operator)) continue;
    const inner = unwrapParens(argument);
    const alternatives = [inner.text];
    if (operator === '-') alternatives.push(`~${atomic(argument)}`);
    if (operator === '~') alternatives.push(`-${atomic(argument)}`);
    const s = replacementSite('unary-operator', node, node, alternatives);
    if (s) out.push(s);
  }
  // Negation added to a boolean operand (`a and b` → `a and not b`) or a returned comparison.
  const boolTypes = ctx.python ? ['boolean_operator'] : ['binary_expression'];
  for (const node of ctx.root.descendantsOfType(boolTypes)) {
    if (!node) continue;
    const op = node.childForFieldName('operator')?.text;
    if (!op || !['and', 'or', '&&', '||'].includes(op)) continue;
    for (const side of [node.childForFieldName('left'), node.childForFieldName('right')]) {
      if (!side || side.type === 'not_operator' || (side.type === 'unary_expression' && side.childForFieldName('operator')?.text === '!')) continue;
      const negated = ctx.python ? `not ${atomic(side)}` : `!${atomic(side)}`;
      const s = replacementSite('unary-operator', node, side, [negated]);
      if (s) out.push(s);
    }
  }
  return out;
}

/** `a - b` → `b - a`; `f(x) + y` → `y + f(x)` (strings and lists do not commute either). */
export function operandSwapSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  for (const node of ctx.root.descendantsOfType(ctx.python ? ['binary_operator', 'comparison_operator'] : ['binary_expression'])) {
    if (!node) continue;
    const tokens = operatorTokens(node);
    if (tokens.length !== 1) continue;
    const token = tokens[0] as Node;
    const left = node.type === 'comparison_operator' ? node.namedChild(0) : node.childForFieldName('left');
    const right = node.type === 'comparison_operator' ? node.namedChild(1) : node.childForFieldName('right');
    if (!left || !right || !NON_COMMUTATIVE.has(token.text.replace(/\s+/g, ' '))) continue;
    const source = ctx.source;
    const swapped = `${right.text}${source.slice(left.endIndex, right.startIndex)}${left.text}`;
    out.push(
      site('operand-swap', node, [
        {
          operator: 'operand-swap',
          line: node.startPosition.row + 1,
          before: snippet(node.text),
          after: snippet(swapped),
          replacements: [{ start: left.startIndex, end: right.endIndex, text: swapped }],
        },
      ]),
    );
  }
  return out;
}

/** `1 + levenshtein(a, b)` → `levenshtein(a, b)`, and → `1`. */
export function operandDropSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  for (const node of ctx.root.descendantsOfType(ctx.python ? ['binary_operator'] : ['binary_expression'])) {
    if (!node) continue;
    const op = node.childForFieldName('operator')?.text;
    const left = node.childForFieldName('left');
    const right = node.childForFieldName('right');
    if (!op || !left || !right || !DROPPABLE.has(op)) continue;
    // The operand that looks like the real computation (a call, a longer expression) is kept first.
    const keep = [right, left].sort((a, b) => b.text.length - a.text.length).map((n) => atomic(n));
    const s = replacementSite('operand-drop', node, node, keep);
    if (s) out.push(s);
  }
  return out;
}

/** Locals of a function assigned a count or an arithmetic result (`num_less = len(below)`, `seen += size`), running totals first. */
function arithmeticLocals(ctx: SiteContext, fn: Node): string[] {
  const out: string[] = [];
  const types = ctx.python ? ['assignment', 'augmented_assignment'] : ['variable_declarator', 'assignment_expression', 'augmented_assignment_expression'];
  for (const node of fn.descendantsOfType(types)) {
    const target = node?.childForFieldName('left') ?? node?.childForFieldName('name');
    const value = node?.childForFieldName('right') ?? node?.childForFieldName('value');
    if (!node || target?.type !== 'identifier' || !value || enclosingFunction(node)?.id !== fn.id) continue;
    const op = value.childForFieldName('operator')?.text ?? '';
    // A running count (`seen += size`) is a computed term too.
    const running = node.type.startsWith('augmented') && ['+=', '-='].includes(node.childForFieldName('operator')?.text ?? '');
    const counted =
      running ||
      (value.type === 'call' && value.childForFieldName('function')?.text === 'len') ||
      (value.type === 'member_expression' && value.childForFieldName('property')?.text === 'length') ||
      ((value.type === 'binary_operator' || value.type === 'binary_expression') && ['+', '-', '*', '//', '/', '%', '>>'].includes(op));
    if (!counted) continue;
    // A running total is the offset a relative index or rank forgets most: it goes first.
    const at = out.indexOf(target.text);
    if (at !== -1 && running) out.splice(at, 1);
    if (running) out.unshift(target.text);
    else if (at === -1) out.push(target.text);
  }
  return out;
}

/** Names a function compares or computes with (a direct operand): numbers, not collections. */
function numericNames(ctx: SiteContext, fn: Node): Set<string> {
  const names = new Set<string>();
  for (const node of fn.descendantsOfType(ctx.python ? ['comparison_operator', 'binary_operator'] : ['binary_expression'])) {
    const op = node?.childForFieldName('operator')?.text ?? '';
    if (!node || (node.type === 'binary_expression' && ['&&', '||', '??', 'in', 'instanceof'].includes(op))) continue;
    if (node.type === 'comparison_operator' && node.childrenForFieldName('operators').some((o) => ['in', 'not in', 'is', 'is not'].includes(o?.text ?? ''))) continue;
    for (const operand of node.namedChildren) if (operand?.type === 'identifier') names.add(operand.text);
  }
  return names;
}

/** Names compared with `name` within a node (`k < n` gives n). */
function comparedWith(ctx: SiteContext, within: Node, name: string): Set<string> {
  const out = new Set<string>();
  for (const node of [within, ...within.descendantsOfType(ctx.python ? ['comparison_operator'] : ['binary_expression'])]) {
    if (!node || (node.type !== 'comparison_operator' && node.type !== 'binary_expression')) continue;
    if (node.type === 'binary_expression' && !(node.childForFieldName('operator')?.text ?? '').match(/^[<>=!]=?=?$/)) continue;
    const sides = node.namedChildren.filter((n): n is Node => n !== null);
    const at = sides.findIndex((n) => n.type === 'identifier' && n.text === name);
    if (sides.length !== 2 || at === -1) continue;
    // `n < seen + size`: every name of the other side.
    const names = new Set<string>();
    identifiersIn(sides[1 - at] as Node, names);
    for (const v of names) if (v !== name) out.add(v);
  }
  return out;
}

/**
 * A missing arithmetic term (QuixBugs' "missing arithmetic expression"), the inverse of
 * operand-drop: an index or an argument of a recursive call, `e`, made `e - v` or `e + v` with
 * v a local the function computed as a count or a sum (`kth(above, k)` → `kth(above, k - num_lessoreq)`).
 */
export function operandAddSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  const positions: Node[] = [];
  for (const node of ctx.root.descendantsOfType(ctx.python ? ['call', 'subscript'] : ['call_expression', 'subscript_expression'])) {
    const fn = node ? enclosingFunction(node) : null;
    if (!node || !fn) continue;
    if (node.type === 'subscript') positions.push(...node.childrenForFieldName('subscript').filter((n): n is Node => n?.type === 'identifier'));
    else if (node.type === 'subscript_expression') positions.push(...[node.childForFieldName('index')].filter((n): n is Node => n?.type === 'identifier'));
    else if (node.childForFieldName('function')?.text === functionName(fn)) {
      positions.push(...namedChildren(node.childForFieldName('arguments')).filter((a) => a.type === 'identifier'));
    }
  }
  out.push(...keptSourceSites(ctx));
  // What a function computes with, walked once per function rather than once per position in it.
  const facts = new Map<number, { numeric: Set<string>; locals: string[] }>();
  for (const e of positions) {
    const fn = enclosingFunction(e) as Node;
    let known = facts.get(fn.id);
    if (known === undefined) facts.set(fn.id, (known = { numeric: numericNames(ctx, fn), locals: arithmeticLocals(ctx, fn) }));
    if (!known.numeric.has(e.text)) continue;
    const visible = new Set(ctx.scopes.values(e));
    // A term compared with e in the branch's own condition (`elif k >= n_upto:`) is the likeliest
    // one it forgot, then one compared with e anywhere in the function.
    const guard = new Set<string>();
    for (let n = e.parent; n && n.id !== fn.id; n = n.parent) {
      const condition = n.childForFieldName('condition');
      if (condition && ['if_statement', 'elif_clause', 'while_statement'].includes(n.type)) for (const v of comparedWith(ctx, condition, e.text)) guard.add(v);
      if (n.type === 'else_clause' || n.type === 'elif_clause') break;
    }
    const compared = comparedWith(ctx, fn, e.text);
    const rank = (v: string): number => (guard.has(v) ? 0 : compared.has(v) ? 1 : 2);
    const terms = known.locals
      .filter((v) => v !== e.text && visible.has(v))
      .sort((a, b) => rank(a) - rank(b))
      .slice(0, 4);
    const s = replacementSite('operand-add', e.parent ?? e, e, terms.flatMap((v) => [`${e.text} - ${v}`, `${e.text} + ${v}`]));
    if (s) out.push(s);
  }
  return out;
}

/**
 * QuixBugs' "variable prepend": a list built from a collection where the collection itself had
 * to be kept too (`return [[first] + s for s in rest]` → `return rest + [[first] + s for s in rest]`).
 * Python comprehensions over a local, returned or assigned.
 */
function keptSourceSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  if (!ctx.python) return out;
  for (const comp of ctx.root.descendantsOfType('list_comprehension')) {
    const source = comp?.descendantsOfType('for_in_clause')[0]?.childForFieldName('right');
    if (!comp || source?.type !== 'identifier' || !['return_statement', 'assignment'].includes(comp.parent?.type ?? '') || !ctx.scopes.values(comp).includes(source.text)) continue;
    const s = replacementSite('operand-add', comp.parent ?? comp, comp, [`${source.text} + ${comp.text}`, `${comp.text} + ${source.text}`]);
    if (s) out.push(s);
  }
  return out;
}

/**
 * Condition edits on `if`, `elif`, `while`, `do`, `for` and conditional expressions: negation;
 * a literal condition (`while True`, `if (1)`) replaced by an in-scope collection or a
 * condition of the same function; a conjunct or disjunct dropped (any boolean operator); and
 * one added from the function's other conditions (as a guard before, or a clause after).
 */
import type { Node } from 'web-tree-sitter';
import { atomic, enclosingFunction, replacementSite, site, snippet, unwrapParens, withPrior, type SiteContext } from './common.js';
import type { MutationSite } from './types.js';

const MAX_DONORS = 8;

/** The condition expressions of a file with their owners, parentheses of `if (…)` unwrapped. */
function conditions(ctx: SiteContext): { owner: Node; condition: Node }[] {
  const types = ctx.python
    ? ['if_statement', 'elif_clause', 'while_statement', 'conditional_expression', 'if_clause']
    : ['if_statement', 'while_statement', 'do_statement', 'for_statement', 'ternary_expression'];
  const out: { owner: Node; condition: Node }[] = [];
  for (const owner of ctx.root.descendantsOfType(types)) {
    if (!owner) continue;
    let condition: Node | null;
    if (owner.type === 'conditional_expression') condition = owner.namedChild(1);
    else if (owner.type === 'if_clause') condition = owner.namedChild(0);
    else condition = owner.childForFieldName('condition');
    // A JS `for (;;)` has `;` as its condition; `if (…)` keeps its parentheses: edit inside them.
    if (!condition || !condition.isNamed) continue;
    out.push({ owner, condition: ctx.python ? condition : unwrapParens(condition) });
  }
  return out;
}

const isLiteral = (n: Node): boolean => ['true', 'false', 'integer', 'number', 'none', 'null'].includes(n.type);

export function negateSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  for (const { condition } of conditions(ctx)) {
    let negated: string;
    const inner = unwrapParens(condition);
    if (ctx.python) negated = inner.type === 'not_operator' ? (inner.childForFieldName('argument')?.text ?? '') : `not ${atomic(condition)}`;
    else negated = inner.type === 'unary_expression' && inner.childForFieldName('operator')?.text === '!' ? unwrapParens(inner.childForFieldName('argument') as Node).text : `!${atomic(condition)}`;
    if (!negated) continue;
    out.push(
      site('negate-condition', condition, [
        { operator: 'negate-condition', line: condition.startPosition.row + 1, before: snippet(condition.text), after: snippet(negated), replacements: [{ start: condition.startIndex, end: condition.endIndex, text: negated }] },
      ]),
    );
  }
  return out;
}

/** The function's other conditions, nearest first, one of each text. */
function donorNodes(all: { owner: Node; condition: Node }[], at: Node): Node[] {
  const fn = enclosingFunction(at);
  return all
    .filter((c) => c.condition.id !== at.id && enclosingFunction(c.condition)?.id === fn?.id && !isLiteral(c.condition))
    .sort((a, b) => Math.abs(a.condition.startIndex - at.startIndex) - Math.abs(b.condition.startIndex - at.startIndex))
    .map((c) => c.condition)
    .filter((n, i, list) => list.findIndex((m) => m.text === n.text) === i && n.text !== at.text)
    .slice(0, MAX_DONORS);
}

function donorConditions(all: { owner: Node; condition: Node }[], at: Node): string[] {
  return donorNodes(all, at).map((n) => n.text);
}

const LOGICAL = new Set(['and', 'or', '&&', '||', '??']);

/**
 * A condition as an operand of `and`/`or`: bare when it binds tighter (a comparison, a call, a
 * negation, the same operator again), so the edit reads as a person would write it.
 */
function operandOf(node: Node, op: string): string {
  const inner = unwrapParens(node);
  const innerOp = inner.childForFieldName('operator')?.text;
  if (inner.type === 'boolean_operator' || (inner.type === 'binary_expression' && LOGICAL.has(innerOp ?? ''))) return innerOp === op ? inner.text : `(${inner.text})`;
  const tighter = ['comparison_operator', 'not_operator', 'binary_operator', 'binary_expression', 'unary_expression', 'await', 'await_expression'];
  return tighter.includes(inner.type) ? inner.text : atomic(inner);
}

/** Receivers the condition dereferences (`hare` of `hare.successor is None`), for a missing null guard. */
function dereferenced(condition: Node, python: boolean): string[] {
  const out: string[] = [];
  for (const m of condition.descendantsOfType(python ? 'attribute' : 'member_expression')) {
    const object = m?.childForFieldName('object');
    if (object?.type === 'identifier' && !out.includes(object.text)) out.push(object.text);
  }
  return out.slice(0, 2);
}

/** `while True:` → `while queue:`: a literal condition replaced by a local value or another condition. */
export function conditionReplaceSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  const all = conditions(ctx);
  for (const { owner, condition } of all) {
    if (!isLiteral(condition) || !enclosingFunction(condition)) continue;
    const values = ctx.scopes.values(condition);
    const negatedValues = values.map((v) => (ctx.python ? `not ${v}` : `!${v}`));
    const alternatives = [...values, ...donorConditions(all, condition), ...negatedValues];
    const s = replacementSite('condition-replace', owner.type.endsWith('statement') ? condition : owner, condition, alternatives, values.length);
    if (s) out.push(s);
  }
  return out;
}

/** `a && b` → `a` / `b`, on any boolean operator. */
export function conjunctDropSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  for (const node of ctx.root.descendantsOfType(ctx.python ? ['boolean_operator'] : ['binary_expression'])) {
    const op = node?.childForFieldName('operator')?.text;
    const left = node?.childForFieldName('left');
    const right = node?.childForFieldName('right');
    if (!node || !left || !right || !op || !['and', 'or', '&&', '||', '??'].includes(op)) continue;
    const s = replacementSite('conjunct-drop', node, node, [atomic(left), atomic(right)]);
    if (s) out.push(s);
  }
  return out;
}

/** `c` → `c and d`, `c or d`, `d or c`, `d and c`, with d a condition of the same function. */
export function conjunctAddSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  const all = conditions(ctx);
  const [and, or] = ctx.python ? ['and', 'or'] : ['&&', '||'];
  for (const { condition } of all) {
    if (isLiteral(condition) || !enclosingFunction(condition)) continue;
    const [cAnd, cOr] = [operandOf(condition, and), operandOf(condition, or)];
    const donors = donorNodes(all, condition).map((d) => [operandOf(d, and), operandOf(d, or)] as const);
    // A guard for a collection parameter (`if total < 0` → `if total < 0 or not coins`).
    const guards = ctx.scopes.values(condition).slice(0, 4).map((v) => (ctx.python ? `not ${v}` : `!${v}`));
    // A missing null check before a dereference (`hare.successor is None` → `hare is None or hare.successor is None`).
    const locals = new Set(ctx.scopes.values(condition));
    const nullChecks = dereferenced(condition, ctx.python)
      .filter((x) => locals.has(x))
      .flatMap((x) => (ctx.python ? [`${x} is None ${or} ${cOr}`, `${x} is not None ${and} ${cAnd}`] : [`${x} == null ${or} ${cOr}`, `${x} != null ${and} ${cAnd}`]));
    const alternatives = [
      ...donors.flatMap(([dAnd, dOr]) => [`${cAnd} ${and} ${dAnd}`, `${cOr} ${or} ${dOr}`, `${dOr} ${or} ${cOr}`, `${dAnd} ${and} ${cAnd}`]),
      ...nullChecks,
      ...guards.flatMap((g) => [`${cOr} ${or} ${g}`, `${g} ${or} ${cOr}`]),
    ];
    const s = replacementSite('conjunct-add', condition, condition, alternatives, donors.length * 4 + nullChecks.length);
    if (s) out.push(withPrior(s, 0.7));
  }
  return out;
}

export function conditionSites(ctx: SiteContext): MutationSite[] {
  return [...negateSites(ctx), ...conditionReplaceSites(ctx), ...conjunctDropSites(ctx), ...conjunctAddSites(ctx)];
}

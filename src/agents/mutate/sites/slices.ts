/**
 * Slice edits: a collection read whole where a part was meant (`for x in arr` → `arr[k:]`,
 * with the bounds the function already uses first), and a slice dropped or one of its
 * bounds dropped (`arr[k:]` → `arr`, `a[i:j]` → `a[i:]`). JavaScript spells slices
 * `x.slice(a, b)`.
 */
import type { Node } from 'web-tree-sitter';
import { enclosingFunction, namedChildren, replacementSite, statementOf, withPrior, type SiteContext } from './common.js';
import type { MutationSite } from './types.js';

const MAX_ALTERNATIVES = 10;

/** Names used as collections in the file: subscripted, sliced, measured or iterated. */
function collectionNames(ctx: SiteContext): Set<string> {
  const names = new Set<string>();
  const add = (n: Node | null) => n?.type === 'identifier' && names.add(n.text);
  for (const n of ctx.root.descendantsOfType(ctx.python ? ['subscript', 'for_statement', 'for_in_clause', 'call'] : ['subscript_expression', 'for_in_statement', 'member_expression'])) {
    if (!n) continue;
    if (n.type === 'subscript') add(n.childForFieldName('value'));
    else if (n.type === 'subscript_expression') add(n.childForFieldName('object'));
    else if (n.type === 'for_statement' || n.type === 'for_in_clause' || n.type === 'for_in_statement') add(n.childForFieldName('right'));
    else if (n.type === 'call' && n.childForFieldName('function')?.text === 'len') add(namedChildren(n.childForFieldName('arguments'))[0] ?? null);
    else if (n.type === 'member_expression' && ['length', 'slice'].includes(n.childForFieldName('property')?.text ?? '')) add(n.childForFieldName('object'));
  }
  return names;
}

/** Slice bounds the function writes (`k` of `arr[:k]`), and the whole slices (`[1:]`), JS `.slice(...)` argument lists for JS. */
function slicesIn(ctx: SiteContext, fn: Node): { bounds: string[]; whole: string[] } {
  const bounds = new Set<string>();
  const whole = new Set<string>();
  if (ctx.python) {
    for (const s of fn.descendantsOfType('slice')) {
      if (!s) continue;
      whole.add(s.text);
      for (const b of s.namedChildren) if (b && b.type !== 'comment') bounds.add(b.text);
    }
  } else {
    for (const m of fn.descendantsOfType('member_expression')) {
      const call = m?.parent;
      if (!m || m.childForFieldName('property')?.text !== 'slice' || call?.type !== 'call_expression') continue;
      const args = namedChildren(call.childForFieldName('arguments'));
      whole.add(args.map((a) => a.text).join(', '));
      for (const a of args) bounds.add(a.text);
    }
  }
  return { bounds: [...bounds], whole: [...whole] };
}

function isReadPosition(node: Node): boolean {
  const parent = node.parent;
  if (!parent) return false;
  // A receiver (`xs.append`), an already subscripted name, or a binding is no read of the whole.
  if (['attribute', 'member_expression', 'subscript', 'subscript_expression'].includes(parent.type) && (parent.childForFieldName('object') ?? parent.childForFieldName('value'))?.id === node.id) return false;
  if (['assignment', 'for_statement', 'for_in_clause', 'for_in_statement', 'variable_declarator'].includes(parent.type) && (parent.childForFieldName('left') ?? parent.childForFieldName('name'))?.id === node.id) return false;
  if (parent.type === 'keyword_argument' && parent.childForFieldName('name')?.id === node.id) return false;
  return !['parameters', 'formal_parameters', 'pattern_list', 'lambda_parameters', 'augmented_assignment', 'augmented_assignment_expression'].includes(parent.type);
}

export function sliceAddSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  const collections = collectionNames(ctx);
  for (const node of ctx.root.descendantsOfType('identifier')) {
    const fn = node ? enclosingFunction(node) : null;
    if (!node || !fn || !collections.has(node.text) || !isReadPosition(node) || !ctx.scopes.values(node).includes(node.text)) continue;
    const { bounds, whole } = slicesIn(ctx, fn);
    const x = node.text;
    let alternatives: string[];
    let preferred: number;
    if (ctx.python) {
      const seen = whole.map((w) => `${x}[${w}]`);
      const complements = bounds.flatMap((b) => [`${x}[${b}:]`, `${x}[:${b}]`]);
      alternatives = [...seen, ...complements, `${x}[1:]`, `${x}[:-1]`];
      preferred = seen.length + complements.length;
    } else {
      const seen = whole.map((w) => `${x}.slice(${w})`);
      const complements = bounds.flatMap((b) => [`${x}.slice(${b})`, `${x}.slice(0, ${b})`]);
      alternatives = [...seen, ...complements, `${x}.slice(1)`, `${x}.slice(0, -1)`];
      preferred = seen.length + complements.length;
    }
    const context = statementOf(node).text.length < 120 ? statementOf(node) : (node.parent ?? node);
    const s = replacementSite('slice-add', context, node, alternatives.slice(0, MAX_ALTERNATIVES), preferred);
    if (s) out.push(withPrior(s, preferred > 0 ? 1 : 0.4));
  }
  return out;
}

export function sliceDropSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  if (ctx.python) {
    for (const sub of ctx.root.descendantsOfType('subscript')) {
      const value = sub?.childForFieldName('value');
      const slice = sub?.childForFieldName('subscript');
      if (!sub || !value || slice?.type !== 'slice' || !enclosingFunction(sub)) continue;
      const parts = slice.text.split(':');
      const alternatives = [value.text, ...(parts.length === 2 && parts[0] && parts[1] ? [`${value.text}[${parts[0]}:]`, `${value.text}[:${parts[1]}]`] : [])];
      const s = replacementSite('slice-drop', sub.parent ?? sub, sub, alternatives);
      if (s) out.push(s);
    }
  } else {
    for (const call of ctx.root.descendantsOfType('call_expression')) {
      const callee = call?.childForFieldName('function');
      if (!call || callee?.type !== 'member_expression' || callee.childForFieldName('property')?.text !== 'slice' || !enclosingFunction(call)) continue;
      const object = callee.childForFieldName('object');
      const args = namedChildren(call.childForFieldName('arguments'));
      if (!object) continue;
      const alternatives = [object.text, ...(args.length === 2 ? [`${object.text}.slice(${args[0]!.text})`] : [])];
      const s = replacementSite('slice-drop', call.parent ?? call, call, alternatives);
      if (s) out.push(s);
    }
  }
  return out;
}

export function sliceSites(ctx: SiteContext): MutationSite[] {
  return [...sliceAddSites(ctx), ...sliceDropSites(ctx)];
}


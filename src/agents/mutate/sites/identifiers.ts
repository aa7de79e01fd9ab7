/**
 * Wrong-name edits: a variable read (or written) replaced by another local value in scope
 * (parameter, variable, loop variable; never a function, class or import), a method call's
 * receiver replaced (or given a default when it is a lookup that may miss), and a field
 * replaced by another field the file uses.
 */
import type { Node } from 'web-tree-sitter';
import { enclosingFunction, replacementSite, statementOf, withPrior, type SiteContext } from './common.js';
import type { MutationSite } from './types.js';

/** Most alternatives per site (the likeliest first). */
const MAX_ALTERNATIVES = 12;

function fieldOf(node: Node): string | null {
  const parent = node.parent;
  if (!parent) return null;
  for (let i = 0; i < parent.childCount; i++) if (parent.child(i)?.id === node.id) return parent.fieldNameForChild(i);
  return null;
}

/** Binding and naming positions: the identifier there is no value read. */
function isBinding(node: Node): boolean {
  const parent = node.parent;
  if (!parent) return true;
  const field = fieldOf(node);
  switch (parent.type) {
    case 'parameters':
    case 'lambda_parameters':
    case 'formal_parameters':
    case 'default_parameter':
    case 'typed_parameter':
    case 'typed_default_parameter':
    case 'required_parameter':
    case 'optional_parameter':
    case 'import_statement':
    case 'import_from_statement':
    case 'aliased_import':
    case 'dotted_name':
    case 'global_statement':
    case 'nonlocal_statement':
    case 'pattern_list':
    case 'tuple_pattern':
    case 'array_pattern':
    case 'object_pattern':
      return true;
    case 'keyword_argument':
    case 'function_definition':
    case 'function_declaration':
    case 'class_definition':
    case 'class_declaration':
    case 'method_definition':
      return field === 'name';
    case 'variable_declarator':
      return field === 'name';
    case 'for_statement':
    case 'for_in_statement':
    case 'for_in_clause':
      return field === 'left';
    case 'attribute':
    case 'member_expression':
      return field === 'attribute' || field === 'property';
    case 'arrow_function':
      return field === 'parameter';
    default:
      return false;
  }
}

function isCallee(node: Node): boolean {
  return (node.parent?.type === 'call' || node.parent?.type === 'call_expression') && fieldOf(node) === 'function';
}

/** Is the node the receiver of a method call (`xs` in `xs.append(x)`)? */
function isReceiver(node: Node): boolean {
  const parent = node.parent;
  return (parent?.type === 'attribute' || parent?.type === 'member_expression') && fieldOf(node) === 'object' && parent !== null && isCallee(parent);
}

function isWrite(node: Node): boolean {
  const field = fieldOf(node);
  return (['assignment', 'assignment_expression', 'augmented_assignment', 'augmented_assignment_expression'].includes(node.parent?.type ?? '') && field === 'left') || node.parent?.type === 'update_expression';
}

/** Other local values at the node, those the same statement names first. */
function alternativesAt(ctx: SiteContext, node: Node, statement: Node, nearbyOf: Map<number, Set<string>>): string[] {
  const values = ctx.scopes.values(node).filter((n) => n !== node.text);
  let nearby = nearbyOf.get(statement.id);
  if (!nearby) {
    nearby = new Set<string>();
    for (const id of statement.descendantsOfType('identifier')) if (id) nearby.add(id.text);
    nearbyOf.set(statement.id, nearby);
  }
  const near = nearby;
  return [...values.filter((n) => near.has(n)), ...values.filter((n) => !near.has(n))].slice(0, MAX_ALTERNATIVES);
}

export function identifierSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  const nearbyOf = new Map<number, Set<string>>();
  for (const node of ctx.root.descendantsOfType('identifier')) {
    if (!node || !enclosingFunction(node)) continue;
    // Only a local value is swapped for another (a builtin, a function or an import is not).
    if (!ctx.scopes.values(node).includes(node.text) || isBinding(node) || isCallee(node)) continue;
    const receiver = isReceiver(node);
    const statement = statementOf(node);
    const alternatives = alternativesAt(ctx, node, statement, nearbyOf);
    const context = receiver ? (node.parent?.parent ?? node) : statement.text.length < 120 ? statement : (node.parent ?? node);
    const s = replacementSite(receiver ? 'receiver' : 'identifier', context, node, alternatives, Math.min(alternatives.length, 4));
    if (s) out.push(isWrite(node) ? withPrior(s, 0.5) : s);
  }
  return out;
}

/** `node.outgoing` → `node.incoming`: another field name the file reads, on the same object first. */
export function fieldSites(ctx: SiteContext): MutationSite[] {
  const accessType = ctx.python ? 'attribute' : 'member_expression';
  const nameField = ctx.python ? 'attribute' : 'property';
  const accesses = ctx.root.descendantsOfType(accessType).filter((n): n is Node => n !== null && !isCallee(n));
  const fieldsByObject = new Map<string, Set<string>>();
  const all = new Set<string>();
  for (const a of accesses) {
    const name = a.childForFieldName(nameField)?.text;
    const object = a.childForFieldName('object')?.text ?? '';
    if (!name || name.startsWith('_') && !ctx.python) continue;
    all.add(name);
    const set = fieldsByObject.get(object) ?? new Set<string>();
    set.add(name);
    fieldsByObject.set(object, set);
  }
  const out: MutationSite[] = [];
  for (const a of accesses) {
    const nameNode = a.childForFieldName(nameField);
    if (!nameNode || !enclosingFunction(a)) continue;
    const same = [...(fieldsByObject.get(a.childForFieldName('object')?.text ?? '') ?? [])];
    const alternatives = [...same, ...[...all].filter((f) => !same.includes(f))].filter((f) => f !== nameNode.text).slice(0, MAX_ALTERNATIVES);
    const s = replacementSite('field', a, nameNode, alternatives, same.length - 1);
    if (s) out.push(s);
  }
  return out;
}

/** Array methods whose receiver, looked up by key, may be missing. */
const ARRAY_METHODS = new Set(['push', 'concat', 'forEach', 'map', 'filter', 'indexOf', 'includes', 'slice', 'join', 'some', 'every']);

/**
 * A looked-up collection that may be missing, given a default where its method is called
 * (`opts[type].push(k)` → `(opts[type] || []).push(k)`): the missing null/default check class
 * of the bug-fix studies. JavaScript; a receiver that is a computed lookup (`a[k]`).
 */
export function receiverDefaultSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  if (ctx.python) return out;
  for (const call of ctx.root.descendantsOfType('call_expression')) {
    const callee = call?.childForFieldName('function');
    const object = callee?.type === 'member_expression' ? callee.childForFieldName('object') : null;
    if (!call || !object || object.type !== 'subscript_expression' || !ARRAY_METHODS.has(callee?.childForFieldName('property')?.text ?? '') || !enclosingFunction(call)) continue;
    const s = replacementSite('receiver', call, object, [`(${object.text} || [])`]);
    if (s) out.push(withPrior(s, 0.5));
  }
  return out;
}

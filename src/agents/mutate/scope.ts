/**
 * Which local names are bound at a given point of a function, and where each is last written.
 * An inserted statement that reads a name not bound where it lands is almost always a wasted
 * candidate (a ReferenceError, a NameError, a let in its temporal dead zone), so the search
 * favours insertions whose names pass this check. Pure: a syntax tree in, an index out.
 *
 * JavaScript/TypeScript: parameters, var and function declarations are visible in the whole
 * function; let, const, class, for-loop heads and catch parameters only in their block, after
 * their declaration. Python: every binding is function-wide, from the point it is made on
 * (a loop that assigns a name later is ignored: a heuristic, not an interpreter).
 */
import type { Node } from 'web-tree-sitter';

export interface Binding {
  name: string;
  /** Source index from which the name is bound. */
  from: number;
  /** Source range [scopeStart, scopeEnd) in which the binding is visible. */
  scopeStart: number;
  scopeEnd: number;
}

export interface ScopeIndex {
  bindings: Binding[];
  /** Last source index at which each local name is written (bound, assigned, updated). */
  lastWrite: Map<string, number>;
}

/** Tree-sitter node types that open a function scope in JavaScript and TypeScript. */
export const JS_FUNCTIONS: ReadonlySet<string> = new Set([
  'function_declaration',
  'function_expression',
  'function',
  'arrow_function',
  'method_definition',
  'generator_function_declaration',
  'generator_function',
]);

/** Identifiers a binding target names; attribute and subscript targets bind nothing. */
function targetNames(node: Node | null, into: string[]): void {
  if (!node) return;
  switch (node.type) {
    case 'identifier':
    case 'shorthand_property_identifier_pattern':
      into.push(node.text);
      return;
    case 'attribute':
    case 'subscript':
    case 'member_expression':
    case 'subscript_expression':
      return;
    case 'assignment_pattern':
      // `{a = 1}` / `(a = 1)`: the default value binds nothing.
      targetNames(node.childForFieldName('left'), into);
      return;
    case 'pair_pattern':
      targetNames(node.childForFieldName('value'), into);
      return;
    default:
      for (const child of node.namedChildren) if (child) targetNames(child, into);
  }
}

function parameterNames(params: Node | null): string[] {
  const names: string[] = [];
  if (!params) return names;
  if (params.type === 'identifier') return [params.text];
  for (const p of params.namedChildren) {
    if (!p) continue;
    switch (p.type) {
      case 'default_parameter':
      case 'typed_default_parameter':
        targetNames(p.childForFieldName('name'), names);
        break;
      case 'typed_parameter':
        targetNames(p.namedChildren.find((c) => c?.type === 'identifier') ?? null, names);
        break;
      case 'required_parameter':
      case 'optional_parameter':
        // TypeScript: `x: T` / `x?: T`; the pattern is the binding.
        targetNames(p.childForFieldName('pattern'), names);
        break;
      default:
        targetNames(p, names);
    }
  }
  return names;
}

/** The innermost node that bounds a JS lexical declaration: its block or loop head. */
function lexicalScope(node: Node, fnBody: Node): Node {
  for (let n = node.parent; n; n = n.parent) {
    if (n.id === fnBody.id) return n;
    if (['statement_block', 'for_statement', 'for_in_statement', 'switch_body', 'class_body', 'program'].includes(n.type)) return n;
  }
  return fnBody;
}

export function indexScope(fn: Node, python: boolean): ScopeIndex {
  const bindings: Binding[] = [];
  const lastWrite = new Map<string, number>();
  const body = fn.childForFieldName('body');
  if (!body) return { bindings, lastWrite };
  const fnStart = fn.startIndex;
  const fnEnd = fn.endIndex;
  const bind = (names: readonly string[], from: number, scope?: Node): void => {
    for (const name of names) {
      // A Python function ends where its last statement does: code appended there is still inside.
      bindings.push({ name, from, scopeStart: scope?.startIndex ?? fnStart, scopeEnd: scope?.endIndex ?? fnEnd + 1 });
      if (from > fnStart) lastWrite.set(name, Math.max(lastWrite.get(name) ?? 0, from));
    }
  };
  const wrote = (name: string, at: number): void => {
    lastWrite.set(name, Math.max(lastWrite.get(name) ?? 0, at));
  };
  const write = (target: Node | null, at: number): void => {
    if (target?.type === 'identifier') wrote(target.text, at);
  };

  bind(parameterNames(fn.childForFieldName('parameters') ?? fn.childForFieldName('parameter')), fnStart);
  const stack: Node[] = [body];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    const names: string[] = [];
    if (python) {
      switch (n.type) {
        case 'assignment':
          targetNames(n.childForFieldName('left'), names);
          bind(names, n.endIndex);
          break;
        case 'for_statement':
          // The loop variable is bound in the body and, in Python, after the loop too.
          targetNames(n.childForFieldName('left'), names);
          bind(names, n.childForFieldName('left')?.endIndex ?? n.startIndex);
          break;
        case 'augmented_assignment':
          write(n.childForFieldName('left'), n.startIndex);
          break;
        case 'as_pattern_target':
        case 'named_expression':
          targetNames(n.type === 'named_expression' ? n.childForFieldName('name') : n, names);
          bind(names, n.endIndex);
          break;
        case 'aliased_import':
          targetNames(n.childForFieldName('alias'), names);
          bind(names, n.endIndex);
          break;
        case 'import_statement':
        case 'import_from_statement':
          for (const name of n.childrenForFieldName('name')) {
            if (name?.type === 'dotted_name') targetNames(name.namedChild(0), names);
          }
          bind(names, n.endIndex);
          break;
        case 'function_definition':
        case 'class_definition':
          if (n.id !== fn.id) {
            bind([n.childForFieldName('name')?.text ?? ''].filter(Boolean), n.endIndex);
            continue;
          }
          break;
        case 'lambda':
          continue;
        default:
          break;
      }
    } else {
      switch (n.type) {
        case 'variable_declaration':
          for (const d of n.namedChildren) if (d?.type === 'variable_declarator') targetNames(d.childForFieldName('name'), names);
          // var is hoisted to the whole function.
          bind(names, fnStart);
          for (const name of names) wrote(name, n.endIndex);
          break;
        case 'lexical_declaration':
          for (const d of n.namedChildren) if (d?.type === 'variable_declarator') targetNames(d.childForFieldName('name'), names);
          bind(names, n.endIndex, lexicalScope(n, body));
          break;
        case 'for_in_statement': {
          const kind = n.childForFieldName('kind')?.text;
          const left = n.childForFieldName('left');
          targetNames(left, names);
          if (kind === 'var') bind(names, fnStart);
          else if (kind) bind(names, left?.endIndex ?? n.startIndex, n);
          else for (const name of names) wrote(name, left?.endIndex ?? n.startIndex);
          break;
        }
        case 'catch_clause': {
          const parameter = n.childForFieldName('parameter');
          targetNames(parameter, names);
          bind(names, parameter?.endIndex ?? n.startIndex, n);
          break;
        }
        case 'class_declaration':
          targetNames(n.childForFieldName('name'), names);
          bind(names, n.endIndex, lexicalScope(n, body));
          break;
        case 'assignment_expression':
        case 'augmented_assignment_expression':
          write(n.childForFieldName('left'), n.startIndex);
          break;
        case 'update_expression':
          write(n.childForFieldName('argument'), n.startIndex);
          break;
        default:
          break;
      }
      if (n.id !== fn.id && JS_FUNCTIONS.has(n.type)) {
        // A nested function declaration is hoisted in its block; its insides are another scope.
        if (n.type === 'function_declaration' || n.type === 'generator_function_declaration') {
          const scope = lexicalScope(n, body);
          bind([n.childForFieldName('name')?.text ?? ''].filter(Boolean), scope.startIndex, scope);
        }
        continue;
      }
    }
    for (const child of n.namedChildren) if (child) stack.push(child);
  }
  return { bindings, lastWrite };
}

/** Local names bound at source index `at`. */
export function visibleAt(index: ScopeIndex, at: number): Set<string> {
  const names = new Set<string>();
  for (const b of index.bindings) if (b.from <= at && b.scopeStart <= at && at < b.scopeEnd) names.add(b.name);
  return names;
}

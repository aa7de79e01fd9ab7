/**
 * Call edits: two arguments swapped (tuple and subscript elements too), an argument added or
 * dropped where another call of the same function (or its definition) has that arity, the
 * called function replaced by a confusable one or another of the same arity the file calls
 * (or the call by a local value), a one-argument call unwrapped, a computed value wrapped
 * in min/max, and a value wrapped in a one-argument function the file calls elsewhere.
 */
import type { Node } from 'web-tree-sitter';
import { enclosingFunction, namedChildren, replacementSite, site, snippet, withPrior, type SiteContext } from './common.js';
import type { MutationSite } from './types.js';

/** Names that are easily confused with each other (either way). */
const CONFUSABLE: readonly (readonly string[])[] = [
  ['min', 'max'],
  ['floor', 'ceil', 'round', 'trunc'],
  ['append', 'extend', 'insert'],
  ['push', 'unshift', 'concat'],
  ['pop', 'shift'],
  ['startswith', 'endswith'],
  ['startsWith', 'endsWith', 'includes'],
  ['any', 'all'],
  ['some', 'every'],
  ['find', 'rfind', 'index', 'rindex'],
  ['indexOf', 'lastIndexOf'],
  ['lstrip', 'rstrip', 'strip'],
  ['trimStart', 'trimEnd', 'trim'],
  ['upper', 'lower'],
  ['toUpperCase', 'toLowerCase'],
  ['add', 'discard', 'remove'],
  ['keys', 'values', 'items'],
  ['slice', 'splice', 'substring'],
  ['parseInt', 'parseFloat', 'Number'],
  ['int', 'float', 'round'],
  ['sorted', 'reversed'],
  ['filter', 'find', 'map'],
  ['get', 'pop', 'setdefault'],
  ['update', 'union', 'intersection'],
  ['heappush', 'heappushpop', 'heapreplace'],
];

function calleeName(call: Node): { name: string; node: Node } | null {
  const callee = call.childForFieldName('function');
  if (!callee) return null;
  if (callee.type === 'identifier') return { name: callee.text, node: callee };
  const prop = callee.childForFieldName(callee.type === 'attribute' ? 'attribute' : 'property');
  return prop ? { name: prop.text, node: prop } : null;
}

const argsOf = (call: Node): Node[] => namedChildren(call.childForFieldName('arguments')).filter((a) => a.type !== 'keyword_argument');

interface CallIndex {
  calls: Node[];
  /** Arities seen per callee name (calls and definitions). */
  arities: Map<string, Set<number>>;
  /** Argument texts seen per callee name and position. */
  argTexts: Map<string, string[][]>;
  /** Callee names per arity, functions and methods apart. */
  byArity: Map<string, Set<string>>;
}

function indexCalls(ctx: SiteContext): CallIndex {
  const calls = ctx.root.descendantsOfType(ctx.python ? 'call' : 'call_expression').filter((c): c is Node => c !== null && c.childForFieldName('arguments')?.type !== 'template_string');
  const arities = new Map<string, Set<number>>();
  const argTexts = new Map<string, string[][]>();
  const byArity = new Map<string, Set<string>>();
  const note = (name: string, n: number) => (arities.get(name) ?? arities.set(name, new Set()).get(name)!).add(n);
  for (const call of calls) {
    const callee = calleeName(call);
    if (!callee) continue;
    const args = argsOf(call);
    note(callee.name, args.length);
    (argTexts.get(callee.name) ?? argTexts.set(callee.name, []).get(callee.name)!).push(args.map((a) => a.text));
    const key = `${callee.node.parent?.type === 'call' || callee.node.parent?.type === 'call_expression' ? 'f' : 'm'}${args.length}`;
    (byArity.get(key) ?? byArity.set(key, new Set()).get(key)!).add(callee.name);
  }
  for (const fn of ctx.root.descendantsOfType(['function_definition', 'function_declaration', 'method_definition'])) {
    const name = fn?.childForFieldName('name')?.text;
    const params = namedChildren(fn?.childForFieldName('parameters') ?? null).filter((p) => !['self', 'cls'].includes(p.text));
    if (name) note(name, params.length);
  }
  return { calls, arities, argTexts, byArity };
}

/** Swap two elements of an argument list, a tuple or a multi-index subscript. */
export function argumentSwapSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  const lists = ctx.root.descendantsOfType(ctx.python ? ['argument_list', 'tuple', 'expression_list', 'subscript'] : ['arguments', 'array']);
  for (const list of lists) {
    if (!list || !enclosingFunction(list) || (list.type !== 'subscript' && (list.parent?.type === 'assignment' || list.parent?.type === 'for_statement'))) continue;
    // `d[j, k]`: a multi-index subscript's indices are its own children, not a tuple's.
    const elements = list.type === 'subscript' ? list.childrenForFieldName('subscript').filter((n): n is Node => n !== null && n.type !== 'slice') : namedChildren(list);
    if (list.type === 'subscript' && elements.length !== list.childrenForFieldName('subscript').length) continue;
    const items = elements.filter((a) => a.type !== 'keyword_argument' && a.type !== 'list_splat' && a.type !== 'spread_element');
    if (items.length < 2 || items.length > 6) continue;
    const pairs: [Node, Node][] = [];
    for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) if (items[i]!.text !== items[j]!.text) pairs.push([items[i]!, items[j]!]);
    if (pairs.length === 0) continue;
    const context = list.type === 'subscript' ? list : (list.parent ?? list);
    out.push(
      site(
        'argument-swap',
        list,
        pairs.map(([a, b]) => ({
          operator: 'argument-swap' as const,
          line: a.startPosition.row + 1,
          before: snippet(context.text),
          after: snippet(context.text.slice(0, a.startIndex - context.startIndex) + b.text + context.text.slice(a.endIndex - context.startIndex, b.startIndex - context.startIndex) + a.text + context.text.slice(b.endIndex - context.startIndex)),
          replacements: [
            { start: a.startIndex, end: a.endIndex, text: b.text },
            { start: b.startIndex, end: b.endIndex, text: a.text },
          ],
        })),
      ),
    );
  }
  return out;
}

/** Arguments added (from another call's extra arguments) or dropped, to an arity seen elsewhere. */
export function argumentAritySites(ctx: SiteContext, index = indexCalls(ctx)): MutationSite[] {
  const out: MutationSite[] = [];
  for (const call of index.calls) {
    const callee = calleeName(call);
    const list = call.childForFieldName('arguments');
    if (!callee || !list || !enclosingFunction(call)) continue;
    const args = argsOf(call);
    const arities = index.arities.get(callee.name) ?? new Set();
    if ([...arities].some((n) => n < args.length) && args.length > 0) {
      const drops = args.map((arg, i) => {
        const next = args[i + 1];
        const prev = args[i - 1];
        return { start: next ? arg.startIndex : prev ? prev.endIndex : arg.startIndex, end: next ? next.startIndex : arg.endIndex, text: '' };
      });
      out.push(site('argument-drop', call, drops.map((r, i) => ({ operator: 'argument-drop' as const, line: call.startPosition.row + 1, before: snippet(call.text), after: snippet(`without ${args[i]!.text}`), replacements: [r] }))));
    }
    const longer = (index.argTexts.get(callee.name) ?? []).filter((texts) => texts.length === args.length + 1);
    const extras = [...new Set(longer.flatMap((texts) => texts.map((t, i) => `${i}\0${t}`)))].map((k) => k.split('\0') as [string, string]);
    if (extras.length > 0) {
      const adds = extras.slice(0, 12).map(([at, text]) => {
        const i = Number(at);
        const anchor = args[i];
        const r = anchor ? { start: anchor.startIndex, end: anchor.startIndex, text: `${text}, ` } : args.length ? { start: args.at(-1)!.endIndex, end: args.at(-1)!.endIndex, text: `, ${text}` } : { start: list.startIndex + 1, end: list.startIndex + 1, text };
        return { operator: 'argument-add' as const, line: call.startPosition.row + 1, before: snippet(call.text), after: snippet(`with ${text} as argument ${i + 1}`), replacements: [r] };
      });
      out.push(site('argument-add', call, adds));
    }
  }
  return out;
}

/** The called name replaced: confusable names first, then names called with the same arity in the file, then local values. */
export function callReplaceSites(ctx: SiteContext, index = indexCalls(ctx)): MutationSite[] {
  const out: MutationSite[] = [];
  for (const call of index.calls) {
    const callee = calleeName(call);
    if (!callee || !enclosingFunction(call)) continue;
    const method = callee.node.parent?.type !== 'call' && callee.node.parent?.type !== 'call_expression';
    const args = argsOf(call);
    const confusable = CONFUSABLE.filter((group) => group.includes(callee.name)).flat();
    const sameArity = [...(index.byArity.get(`${method ? 'm' : 'f'}${args.length}`) ?? [])].sort();
    const names = [...confusable, ...sameArity].filter((n) => n !== callee.name);
    const renamed = replacementSite('call-replace', call, callee.node, names, confusable.length);
    if (renamed) out.push(renamed);
    // A call where a local value was meant (`get(nodes, n) + w` → `distance + w`): unlikelier.
    const values = ctx.scopes.values(call).slice(0, 8);
    const byValue = replacementSite('call-replace', call, call, values);
    if (byValue) out.push(withPrior(byValue, 0.3));
  }
  return out;
}

/** `yield flatten(x)` → `yield x`: a one-argument call replaced by its argument. */
export function callUnwrapSites(ctx: SiteContext, index = indexCalls(ctx)): MutationSite[] {
  const out: MutationSite[] = [];
  for (const call of index.calls) {
    const args = argsOf(call);
    if (args.length !== 1 || !enclosingFunction(call) || call.parent?.type === 'expression_statement') continue;
    const s = replacementSite('call-unwrap', call.parent ?? call, call, [args[0]!.text]);
    if (s) out.push(s);
  }
  return out;
}

/** `best = length + 1` → `best = max(best, length + 1)`: an assigned or returned value clamped. */
export function callWrapSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  const [min, max] = ctx.python ? ['min', 'max'] : ['Math.min', 'Math.max'];
  const types = ctx.python ? ['assignment', 'return_statement'] : ['assignment_expression', 'variable_declarator', 'return_statement'];
  for (const node of ctx.root.descendantsOfType(types)) {
    if (!node || !enclosingFunction(node)) continue;
    const value = node.type === 'return_statement' ? namedChildren(node)[0] : (node.childForFieldName('right') ?? node.childForFieldName('value'));
    const target = node.type === 'return_statement' ? null : (node.childForFieldName('left') ?? node.childForFieldName('name'));
    if (!value || !['binary_operator', 'binary_expression', 'identifier', 'call', 'call_expression', 'subscript', 'subscript_expression'].includes(value.type)) continue;
    // Only numbers are clamped: a comparison or a boolean operator makes no sense in max().
    if ((value.type === 'binary_operator' || value.type === 'binary_expression') && !['+', '-', '*', '/', '//', '%', '**'].includes(value.childForFieldName('operator')?.text ?? '')) continue;
    const others = [...(target?.type === 'identifier' && node.type !== 'variable_declarator' ? [target.text] : []), '0'];
    const alternatives = others.flatMap((o) => [`${max}(${o}, ${value.text})`, `${min}(${o}, ${value.text})`]);
    const s = replacementSite('call-wrap', node, value, alternatives);
    if (s) out.push(withPrior(s, value.type === 'binary_operator' || value.type === 'binary_expression' ? 1 : 0.5));
  }
  return out;
}

/** Functions whose value is no transformation of their argument. */
const NO_WRAPPERS = new Set(['print', 'require', 'super', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'Error', 'TypeError', 'RangeError', 'ValueError', 'KeyError', 'IndexError', 'Exception']);
const WRAPPABLE = new Set(['identifier', 'member_expression', 'attribute', 'subscript', 'subscript_expression', 'call', 'call_expression']);
const MAX_WRAPPERS = 4;

/**
 * A missing function call (QuixBugs' class; `k = tmp.shift()` → `k = decodeURIComponent(tmp.shift())`,
 * `tmp.set(key, …)` → `tmp.set(klona(key), …)`): an assigned value or a call argument wrapped
 * in a function the file calls elsewhere with one argument, the nearest such calls first.
 */
export function unaryWrapSites(ctx: SiteContext, index = indexCalls(ctx)): MutationSite[] {
  const unary = index.calls.filter((c) => c.childForFieldName('function')?.type === 'identifier' && argsOf(c).length === 1 && !NO_WRAPPERS.has(c.childForFieldName('function')!.text));
  if (unary.length === 0) return [];
  const values: Node[] = [];
  for (const node of ctx.root.descendantsOfType(ctx.python ? ['assignment'] : ['assignment_expression', 'variable_declarator'])) {
    const value = node?.childForFieldName('right') ?? node?.childForFieldName('value');
    if (value && enclosingFunction(value)) values.push(value);
  }
  for (const call of index.calls) if (enclosingFunction(call)) values.push(...argsOf(call));
  const out: MutationSite[] = [];
  for (const value of values) {
    if (!WRAPPABLE.has(value.type)) continue;
    const owner = value.parent?.type === 'argument_list' || value.parent?.type === 'arguments' ? value.parent.parent : null;
    const ownName = (n: Node | null | undefined) => (n && (n.type === 'call' || n.type === 'call_expression') ? n.childForFieldName('function')?.text : undefined);
    const near = [...unary].sort((a, b) => Math.abs(a.startIndex - value.startIndex) - Math.abs(b.startIndex - value.startIndex));
    const names = [...new Set(near.map((c) => c.childForFieldName('function')!.text))]
      // f(f(x)) is no fix of f(x); a value is not wrapped in the call it is the argument of.
      .filter((f) => f !== ownName(value) && f !== ownName(owner))
      .slice(0, MAX_WRAPPERS);
    const s = replacementSite('call-wrap', value.parent ?? value, value, names.map((f) => `${f}(${value.text})`));
    if (s) out.push(withPrior(s, 0.5));
  }
  return out;
}

export function callSites(ctx: SiteContext): MutationSite[] {
  const index = indexCalls(ctx);
  return [...argumentSwapSites(ctx), ...argumentAritySites(ctx, index), ...callReplaceSites(ctx, index), ...callUnwrapSites(ctx, index), ...callWrapSites(ctx), ...unaryWrapSites(ctx, index)];
}


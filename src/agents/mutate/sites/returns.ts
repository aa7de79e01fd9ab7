/**
 * Return edits: a returned expression replaced (a constant by an in-scope expression such as a
 * comparison of the function with any comparison operator, `return True` → `return depth == 0`;
 * a returned variable by another local; a value ±1), and a missing `return <local>` appended
 * to a function that can run off its end.
 */
import type { Node } from 'web-tree-sitter';
import { enclosingFunction, functionName, lineStartOf, namedChildren, replacementSite, site, snippet, type SiteContext } from './common.js';
import type { MutationSite } from './types.js';

const COMPARISON_OPS = ['==', '!=', '<', '<=', '>', '>='];
const MAX_ALTERNATIVES = 24;

/** Comparisons written in a function, each also with every other comparison operator. */
function comparisonVariants(ctx: SiteContext, fn: Node): string[] {
  const out: string[] = [];
  for (const node of fn.descendantsOfType(ctx.python ? 'comparison_operator' : 'binary_expression')) {
    if (!node) continue;
    const left = ctx.python ? node.namedChild(0) : node.childForFieldName('left');
    const right = ctx.python ? node.namedChild(1) : node.childForFieldName('right');
    const op = ctx.python ? node.childrenForFieldName('operators')[0]?.text : node.childForFieldName('operator')?.text;
    if (!left || !right || !op || node.namedChildCount !== 2 || !(COMPARISON_OPS.includes(op) || op === '===' || op === '!==')) continue;
    const ops = ctx.python ? COMPARISON_OPS : COMPARISON_OPS.map((o) => (o === '==' ? '===' : o === '!=' ? '!==' : o));
    out.push(node.text, ...ops.filter((o) => o !== op).map((o) => `${left.text} ${o} ${right.text}`));
  }
  return [...new Set(out)];
}

/** The plain parameter names of a function (no defaults, no splats, no self). */
function parameters(fn: Node): string[] {
  return namedChildren(fn.childForFieldName('parameters'))
    .filter((p) => p.type === 'identifier' && p.text !== 'self' && p.text !== 'cls')
    .map((p) => p.text);
}

const CONSTANT = new Set(['true', 'false', 'integer', 'number', 'float', 'none', 'null', 'undefined', 'string', 'list', 'array']);

export function returnValueSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  for (const ret of ctx.root.descendantsOfType('return_statement')) {
    const value = ret ? namedChildren(ret)[0] : undefined;
    const fn = ret ? enclosingFunction(ret) : null;
    if (!ret || !value || !fn) continue;
    const locals = ctx.scopes.values(ret).filter((n) => n !== value.text);
    const shifted = ['identifier', 'call', 'call_expression', 'subscript', 'subscript_expression', 'attribute', 'member_expression'].includes(value.type) ? value.text : `(${value.text})`;
    let alternatives: string[];
    let preferred: number;
    if (value.type === 'true' || value.type === 'false') {
      const comparisons = comparisonVariants(ctx, fn);
      alternatives = [...comparisons, ...locals, ...locals.map((n) => (ctx.python ? `not ${n}` : `!${n}`))];
      preferred = comparisons.length;
    } else if ((value.type === 'list' || value.type === 'array') && value.namedChildCount === 0) {
      // The wrong data-structure constant (QuixBugs' class): the base case returns the empty
      // collection where it meant the collection of one empty one, or of the parameter.
      const structures = ['[[]]', ...parameters(fn).map((p) => `[${p}]`)];
      alternatives = [...structures, ...locals];
      preferred = structures.length + locals.length;
    } else if (CONSTANT.has(value.type)) {
      alternatives = [...locals, ...comparisonVariants(ctx, fn)];
      preferred = locals.length;
    } else {
      alternatives = [...locals, `${shifted} + 1`, `${shifted} - 1`];
      preferred = locals.length;
    }
    const s = replacementSite('return-value', ret, value, alternatives.slice(0, MAX_ALTERNATIVES), Math.min(preferred, 8));
    if (s) out.push(s);
  }
  return out;
}

const TERMINAL_STATEMENTS = new Set(['return_statement', 'throw_statement', 'raise_statement']);
const NO_RETURN_METHODS = new Set(['constructor', '__init__']);

/**
 * Missing return: a function whose body can run off its end gets `return <name>` appended,
 * for each local name bound there. The names written in the function come first, the last
 * written first (the accumulator, the running best): that is what a forgotten return most
 * often meant to hand back. Parameters follow.
 */
export function returnInsertSites(ctx: SiteContext): MutationSite[] {
  const { python, source, scopes } = ctx;
  const out: MutationSite[] = [];
  for (const fn of ctx.root.descendantsOfType(['function_definition', 'function_declaration', 'function_expression', 'function', 'arrow_function', 'method_definition'])) {
    const body = fn?.childForFieldName('body');
    if (!fn || !body || body.type !== (python ? 'block' : 'statement_block')) continue;
    if (NO_RETURN_METHODS.has(functionName(fn) ?? '') || body.descendantsOfType(['yield', 'yield_expression']).length > 0) continue;
    const statements = namedChildren(body);
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

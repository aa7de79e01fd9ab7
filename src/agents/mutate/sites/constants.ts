/**
 * Constant and off-by-one edits: a number literal ±1 or set to 0/1, a boolean flipped; and any
 * integer-looking expression `e` where an off-by-one hides (an index, a slice bound, a range
 * bound, a comparison operand, a call argument, an arithmetic operand) made `e + 1` or `e - 1`.
 */
import type { Node } from 'web-tree-sitter';
import { replaceIn, replacementSite, site, snippet, withPrior, type SiteContext } from './common.js';
import type { MutationSite } from './types.js';

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1e9) / 1e9);
}

export function constantSites(ctx: SiteContext): MutationSite[] {
  const numberTypes = ctx.python ? ['integer', 'float'] : ['number'];
  const [trueText, falseText] = ctx.python ? ['True', 'False'] : ['true', 'false'];
  const out: MutationSite[] = [];
  for (const node of ctx.root.descendantsOfType([...numberTypes, 'true', 'false'])) {
    if (!node) continue;
    let alternatives: string[];
    if (node.type === 'true') alternatives = [falseText];
    else if (node.type === 'false') alternatives = [trueText];
    else {
      // Only plain decimals: hex, octal, exponents and separators keep their meaning hard to ±1.
      if (!/^\d+(\.\d+)?$/.test(node.text)) continue;
      const value = Number(node.text);
      alternatives = [...new Set([value + 1, value - 1, 0, 1].map(formatNumber))].filter((alt) => alt !== node.text && !alt.startsWith('-'));
    }
    const context = node.parent ?? node;
    out.push(
      site(
        'constant',
        node,
        alternatives.map((alt) => ({
          operator: 'constant' as const,
          line: node.startPosition.row + 1,
          before: snippet(context.text),
          after: snippet(replaceIn(context, node, alt)),
          replacements: [{ start: node.startIndex, end: node.endIndex, text: alt }],
        })),
      ),
    );
  }
  return out;
}

/** Expressions that can hold an integer (literals are the constant operator's). */
const INTEGER_LIKE = new Set(['identifier', 'call', 'call_expression', 'attribute', 'member_expression', 'subscript', 'subscript_expression', 'binary_operator', 'binary_expression', 'parenthesized_expression']);
const COMPARISONS = new Set(['<', '<=', '>', '>=', '==', '!=', '===', '!==']);
const ARITHMETIC = new Set(['+', '-', '*', '/', '//', '%', '**']);

/** Where an operand sits, and how plausible an off-by-one is there. */
interface Spot {
  node: Node;
  /** Relative weight of the site (an index or bound is likelier than a call argument). */
  prior: number;
  /** Parentheses needed around `e ± 1` (an operand of a tighter operator). */
  wrap: boolean;
}

function isIntegerLike(node: Node): boolean {
  if (!INTEGER_LIKE.has(node.type)) return false;
  // `n - 1` is already an offset: the constant operator moves it (to `n`, `n - 2`).
  if ((node.type === 'binary_operator' || node.type === 'binary_expression') && ['number', 'integer'].includes(node.childForFieldName('right')?.type ?? '')) return false;
  if (node.type === 'binary_operator' || node.type === 'binary_expression') return ARITHMETIC.has(node.childForFieldName('operator')?.text ?? '');
  return true;
}

/** Against a literal (`x % 2 === 0`), moving the literal is the constant operator's: the other side's ±1 is unlikelier. */
function comparedTo(other: Node | null): number {
  return other && ['number', 'integer', 'float'].includes(other.type) ? 0.3 : 1;
}

function spots(ctx: SiteContext): Spot[] {
  const out: Spot[] = [];
  const add = (node: Node | null, prior: number, wrap = false): void => {
    if (node && isIntegerLike(node)) out.push({ node, prior, wrap });
  };
  for (const node of ctx.root.descendantsOfType(ctx.python ? ['subscript', 'slice', 'comparison_operator', 'call', 'binary_operator'] : ['subscript_expression', 'binary_expression', 'call_expression'])) {
    if (!node) continue;
    switch (node.type) {
      case 'subscript':
        for (const index of node.childrenForFieldName('subscript')) {
          if (index?.type === 'expression_list') for (const part of index.namedChildren) add(part, 1);
          else if (index?.type !== 'slice') add(index, 1);
        }
        break;
      case 'subscript_expression':
        add(node.childForFieldName('index'), 1);
        break;
      case 'slice':
        for (const bound of node.namedChildren) add(bound, 1);
        break;
      case 'comparison_operator':
        if (node.namedChildCount === 2) for (const [i, side] of node.namedChildren.entries()) add(side, comparedTo(node.namedChild(1 - i)));
        break;
      case 'call':
      case 'call_expression': {
        const callee = node.childForFieldName('function');
        const name = callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : callee?.type === 'member_expression' ? callee.childForFieldName('property')?.text : callee?.text;
        const bound = ['range', 'slice', 'substring', 'substr', 'splice', 'insert', 'pop'].includes(name ?? '');
        for (const arg of node.childForFieldName('arguments')?.namedChildren ?? []) if (arg) add(arg, bound ? 1 : 0.4);
        break;
      }
      default: {
        const op = node.childForFieldName('operator')?.text ?? '';
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (COMPARISONS.has(op)) {
          add(left, comparedTo(right));
          add(right, comparedTo(left));
        } else if (ARITHMETIC.has(op)) for (const side of [left, right]) add(side, 0.25, true);
      }
    }
  }
  return out;
}

export function offByOneSites(ctx: SiteContext): MutationSite[] {
  const out: MutationSite[] = [];
  const seen = new Set<number>();
  for (const { node, prior, wrap } of spots(ctx)) {
    if (seen.has(node.id)) continue;
    seen.add(node.id);
    // `(len(xs)) * [0]` → `(len(xs) - 1) * [0]`: inside parentheses the offset goes inside them.
    const inner = node.type === 'parenthesized_expression' && node.namedChildCount === 1 ? node.namedChild(0) : null;
    const target = inner && isIntegerLike(inner) ? inner : node;
    const e = target === node && (node.type === 'binary_operator' || node.type === 'binary_expression') ? `(${node.text})` : target.text;
    const alternatives = [`${e} + 1`, `${e} - 1`].map((a) => (wrap && target === node ? `(${a})` : a));
    const s = replacementSite('off-by-one', node.parent ?? node, target, alternatives);
    if (s) out.push(withPrior(s, prior));
  }
  return out;
}

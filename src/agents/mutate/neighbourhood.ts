/**
 * The one-edit neighbourhood of a node, in the order children are drawn from it. Every
 * concrete edit of every site is a candidate, weighted by how suspicious its line is (cubed:
 * the most suspicious lines go first), the operator's prior (times how its children fared in
 * this archive), the site's own plausibility, and its rank among the site's alternatives. The order is a weighted draw without replacement
 * (Efraimidis–Spirakis keys from the seed), so two agents expanding the same node at once
 * rarely make the same child, and a node's children, skipping what the archive already holds,
 * never repeat one another. Pure.
 */
import { createRandom } from './random.js';
import type { MutateLanguage } from './parser.js';
import type { MutationOperator, MutationSite } from './sites/index.js';

/**
 * How much each operator's site is worth, all its alternatives together: roughly the share of
 * one-line bug fixes of its class in the simple-bug taxonomies (ManySStuBs4J, PySStuBs), per
 * site. Moving statements around fixes few real bugs and is tried last.
 */
export const OPERATOR_PRIOR: Record<MutationOperator, number> = {
  'binary-operator': 3,
  'augmented-assignment': 2.5,
  'unary-operator': 1.5,
  'operand-swap': 1,
  'operand-drop': 0.8,
  'operand-add': 0.8,
  constant: 2,
  'off-by-one': 2,
  identifier: 1.5,
  receiver: 1,
  field: 1,
  'argument-swap': 1.2,
  'argument-add': 1,
  'argument-drop': 1,
  'call-replace': 1.2,
  'call-unwrap': 0.6,
  'call-wrap': 0.6,
  'negate-condition': 1.2,
  'condition-replace': 2,
  'conjunct-drop': 1,
  'conjunct-add': 0.8,
  'return-value': 1.5,
  'return-insert': 2,
  'slice-add': 1,
  'slice-drop': 1,
  'statement-delete': 0.8,
  'statement-copy': 0.3,
  'statement-swap': 0.4,
  'statement-insert': 0.8,
  'collection-insert': 1,
  'jump-replace': 1,
};

/** Suspiciousness counts cubed: a line twice as suspicious is drawn first eight times as often. */
const SHARPNESS = 3;
/** A site's alternatives past its plausible ones weigh this much less. */
const IMPLAUSIBLE = 0.2;
/** Most alternatives of one site that are candidates (the likeliest ones). */
const MAX_PER_SITE = 48;

export interface FileSites {
  path: string;
  language: MutateLanguage;
  source: string;
  sites: MutationSite[];
}

export interface Candidate {
  file: FileSites;
  site: MutationSite;
  /** Which of the site's alternatives. */
  index: number;
  /** Suspiciousness of the site's line, in [0, 1]. */
  suspicion: number;
  weight: number;
}

/** Suspiciousness of a line range of a file, in [0, 1] (0: not suspicious at all). */
export type Suspicion = (file: string, line: number, endLine: number) => number;

function harmonic(n: number): number {
  let h = 0;
  for (let i = 1; i <= n; i++) h += 1 / i;
  return h;
}

/**
 * Every candidate edit with its weight (0 for lines with no suspicion: never drawn). A line's
 * candidates share a mass proportional to its suspiciousness (sharpened), split among them by
 * operator prior, site plausibility and rank within the site: a line with many sites is not
 * drawn more often than an equally suspicious line with few.
 */
export function neighbourhood(files: readonly FileSites[], suspicion: Suspicion, operatorWeights?: ReadonlyMap<MutationOperator, number>): Candidate[] {
  const byLine = new Map<string, Candidate[]>();
  for (const file of files) {
    for (const site of file.sites) {
      if (site.size === 0) continue;
      const s = suspicion(file.path, site.line, site.endLine);
      if (s <= 0) continue;
      const n = Math.min(site.size, MAX_PER_SITE);
      const h = harmonic(n);
      const base = OPERATOR_PRIOR[site.operator] * (operatorWeights?.get(site.operator) ?? 1) * (site.prior ?? 1);
      const key = `${file.path}:${site.line}`;
      const line = byLine.get(key) ?? byLine.set(key, []).get(key)!;
      for (let i = 0; i < n; i++) line.push({ file, site, index: i, suspicion: s, weight: (base * (i < site.preferred ? 1 : IMPLAUSIBLE)) / (i + 1) / h });
    }
  }
  const out: Candidate[] = [];
  for (const line of byLine.values()) {
    const total = line.reduce((sum, c) => sum + c.weight, 0);
    const mass = Math.max(...line.map((c) => c.suspicion)) ** SHARPNESS;
    for (const c of line) out.push({ ...c, weight: (mass * c.weight) / total });
  }
  return out;
}

/** The candidates in the order a seed draws them, without replacement, heavier ones likelier first. */
export function drawOrder(candidates: readonly Candidate[], seed: number): Candidate[] {
  const random = createRandom(seed);
  // Efraimidis–Spirakis: key = u^(1/w); sorting by log(u)/w descending is the same order.
  const keyed = candidates.map((c) => ({ c, key: Math.log(Math.max(random.next(), Number.MIN_VALUE)) / c.weight }));
  keyed.sort((a, b) => b.key - a.key);
  return keyed.map((k) => k.c);
}

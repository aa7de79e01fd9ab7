/**
 * The schedule for cheap children: which node to expand when each node has one or a few tasks.
 *
 * With few tasks a node's evaluation is its whole score (nothing is left to sample), children
 * come from an offline agent at almost no cost, and most of them are worse than their parent.
 * HGM's Thompson draw over clade counts then wanders: every neutral or destructive child gets
 * its turn, the tree grows deep chains of edits, and the one-edit fix of the best node waits
 * behind them (bench/scorer, "cheap children"). So, when tasks are few:
 *
 * 1. A node strictly worse than its parent is not expanded, unless its clade earned it (some
 *    descendant beats that parent).
 * 2. Breadth around the best: among the nodes with the best own pass rate, the one whose
 *    neighbourhood has been tried least, counting `breadth` children for every step it lies
 *    below its last strict improvement. The best node thus gets its first `breadth` children
 *    (its one-edit neighbourhood, drawn without replacement by the agent) before an equally
 *    good child of it gets any: one-edit fixes before two-edit chains.
 * 3. Now and then (EXPLORE of the expansions) HGM's own draw among the allowed nodes, so a
 *    neighbourhood the agent cannot extend any more (it returns no edit) never holds the
 *    search, and other clades keep a chance.
 *
 * With many tasks the policy is HGM's, unchanged.
 */
import type { Situation } from './policy.js';
import { randomInt } from './random.js';

/** At most this many tasks count as few (`scorer.schedule: auto`, with evidence per test case). */
export const FEW_TASKS = 3;
/** Share of breadth-schedule expansions that use HGM's draw instead. */
export const EXPLORE = 0.1;
/** Default children of a node before its equally good children are expanded. */
export const DEFAULT_BREADTH = 50;

/** Whether the breadth schedule applies to this decision. */
export function breadthApplies(s: Situation): boolean {
  const schedule = s.input.config.schedule ?? 'auto';
  if (schedule === 'hgm') return false;
  if (schedule === 'breadth') return true;
  // Per test case, one run grades a node finely; per task run (DGM mode, benchmark suites),
  // one or two runs say little and children are not cheap: HGM's rule.
  return (s.input.evidence ?? 'tests') === 'tests' && s.input.tasks.length > 0 && s.input.tasks.length <= FEW_TASKS;
}

/** Own pass rate, or NaN without evidence. */
function rate(s: Situation, i: number): number {
  const total = s.ev.ns[i]! + s.ev.nf[i]!;
  return total > 0 ? s.ev.ns[i]! / total : Number.NaN;
}

export interface BreadthView {
  /** May be expanded under rule 1. */
  allowed: Uint8Array;
  /** Steps below the last strict improvement along first parents (the root: 0). */
  plateau: Int32Array;
}

/** Rule 1 and the plateau depths, from the own pass rates (index order is parent-first). */
export function breadthView(s: Situation): BreadthView {
  const { index } = s;
  const n = index.ids.length;
  // Best own rate among each node's strict descendants (-1: none with evidence).
  const below = new Float64Array(n).fill(-1);
  for (let v = n - 1; v >= 0; v--) {
    const r = rate(s, v);
    const best = Math.max(below[v]!, Number.isNaN(r) ? -1 : r);
    for (let k = index.parentStart[v]!; k < index.parentStart[v + 1]!; k++) {
      const p = index.parentList[k]!;
      if (best > below[p]!) below[p] = best;
    }
  }
  const allowed = new Uint8Array(n);
  const plateau = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = index.firstParent[i]!;
    const r = rate(s, i);
    if (p < 0 || i === index.rootIndex) {
      allowed[i] = 1;
      plateau[i] = 0;
      continue;
    }
    const rp = rate(s, p);
    // Without evidence on either side nothing says it is worse.
    const worse = !Number.isNaN(r) && !Number.isNaN(rp) && r < rp;
    allowed[i] = !worse || below[i]! > rp ? 1 : 0;
    plateau[i] = !Number.isNaN(r) && (Number.isNaN(rp) || r > rp) ? 0 : plateau[p]! + 1;
  }
  return { allowed, plateau };
}

/**
 * The node to expand under the breadth schedule, among `candidates` (choosable, expandable);
 * `hgm` is HGM's own draw over a candidate list (rule 3). -1 when none is allowed.
 */
export function breadthExpand(s: Situation, candidates: number[], hgm: (candidates: number[]) => number): number {
  const view = breadthView(s);
  const allowed = candidates.filter((i) => view.allowed[i]);
  if (allowed.length === 0) return -1;
  // Until the root is graded there is no level to keep to: HGM decides (as it does for the
  // odd exploratory draw).
  if (Number.isNaN(rate(s, s.index.rootIndex)) || s.rng.next() < EXPLORE) return hgm(allowed);
  let bestRate = -1;
  for (const i of allowed) {
    const r = rate(s, i);
    if (!Number.isNaN(r) && r > bestRate) bestRate = r;
  }
  if (bestRate < 0) return hgm(allowed);
  const breadth = s.input.config.breadth ?? DEFAULT_BREADTH;
  const { childStart } = s.index;
  let pick = -1;
  let bestKey = Infinity;
  let ties = 0;
  for (const i of allowed) {
    if (rate(s, i) !== bestRate) continue;
    const key = childStart[i + 1]! - childStart[i]! + (s.pendingExpand.get(i) ?? 0) + breadth * view.plateau[i]!;
    if (key < bestKey) {
      bestKey = key;
      pick = i;
      ties = 1;
    } else if (key === bestKey && randomInt(s.rng, ++ties) === 0) {
      pick = i;
    }
  }
  return pick;
}

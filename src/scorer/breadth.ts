/**
 * The schedule for cheap children: what to do when each node has one or a few tasks.
 *
 * With few tasks a node's evaluation is its whole score (nothing is left to sample), children
 * come from an offline agent at almost no cost, and most of them are worse than their parent.
 * HGM's Thompson draw over clade counts then wanders: every neutral or destructive child gets
 * its turn, the tree grows deep chains of edits, and the one-edit fix of the best node waits
 * behind them (bench/scorer, "cheap children"). So, when tasks are few:
 *
 * 1. A node is graded on its parent's failing tasks first, the ones its edit aimed at first
 *    (Evogit-Targets); the tasks it has not run are taken to score as its nearest ancestor's
 *    (an edit of one module rarely moves another's tests). Only a node that beats its parent
 *    that way runs the rest, so a child that fixes nothing costs one run, not one per task.
 * 2. A node strictly worse than its parent is not expanded, unless its clade earned it (some
 *    descendant beats that parent).
 * 3. Breadth around the best: among the nodes with the best rate, the one whose
 *    neighbourhood has been tried least, counting `breadth` children for every step it lies
 *    below its last strict improvement. The best node thus gets its first `breadth` children
 *    (its one-edit neighbourhood, drawn without replacement by the agent) before an equally
 *    good child of it gets any: one-edit fixes before two-edit chains.
 * 4. A partial improvement is often not the fix (one more test passing for a wrong reason):
 *    LOWER of the expansions go to the lower levels of rate, one drawn uniformly, so the
 *    root's one-edit neighbourhood keeps being covered after a child beat it.
 * 5. Now and then (EXPLORE of the expansions) HGM's own draw among the allowed nodes, so a
 *    neighbourhood the agent cannot extend any more (it returns no edit) never holds the
 *    search, and other clades keep a chance.
 *
 * With many tasks the policy is HGM's, unchanged.
 */
import { expectedTests, gradedCounts } from './evidence.js';
import type { Situation } from './policy.js';
import { randomInt } from './random.js';

/** At most this many tasks count as few (`scorer.schedule: auto`, with evidence per test case). */
export const FEW_TASKS = 3;
/** Share of breadth-schedule expansions that use HGM's draw instead. */
export const EXPLORE = 0.1;
/** Share of breadth-schedule expansions that go to a level of rate below the best. */
export const LOWER = 0.2;
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

/**
 * Each node's pass rate over every task, the tasks it has not run scored as its nearest
 * ancestor's (rule 1); NaN for a node with no graded run of its own. Memoised per situation.
 */
const ratesCache = new WeakMap<Situation, Float64Array>();
export function imputedRates(s: Situation): Float64Array {
  const cached = ratesCache.get(s);
  if (cached) return cached;
  const { index } = s;
  const n = index.ids.length;
  const tasks = s.input.tasks;
  const slot = new Map(tasks.map((t, k) => [t, k]));
  const expected = expectedTests(index.snapshot);
  // Per node and task: passed and failed tests, -1 passed when the node never ran the task.
  const ns = new Float64Array(n * tasks.length).fill(-1);
  const nf = new Float64Array(n * tasks.length);
  const rates = new Float64Array(n).fill(Number.NaN);
  for (let i = 0; i < n; i++) {
    let own = false;
    for (const line of index.snapshot.evaluations.get(index.ids[i]!) ?? []) {
      const k = slot.get(line.task);
      const c = k === undefined ? null : gradedCounts(line, s.input.evidence ?? 'tests', expected);
      if (k === undefined || !c) continue;
      own = true;
      const at = i * tasks.length + k;
      ns[at] = Math.max(ns[at]!, 0) + c.ns;
      nf[at]! += c.nf;
    }
    const p = index.firstParent[i]!;
    let pass = 0;
    let total = 0;
    for (let k = 0; k < tasks.length; k++) {
      const at = i * tasks.length + k;
      if (ns[at]! < 0 && p >= 0) {
        ns[at] = ns[p * tasks.length + k]!;
        nf[at] = nf[p * tasks.length + k]!;
      }
      if (ns[at]! >= 0) {
        pass += ns[at]!;
        total += ns[at]! + nf[at]!;
      }
    }
    if (own && total > 0) rates[i] = pass / total;
  }
  ratesCache.set(s, rates);
  return rates;
}

function rate(s: Situation, i: number): number {
  return imputedRates(s)[i]!;
}

/**
 * Rule 1's second half: a node graded on some tasks whose rate beats its parent's (or the root,
 * which sets the level) runs its other tasks.
 */
export function worthCompleting(s: Situation, i: number): boolean {
  const p = s.index.firstParent[i]!;
  if (p < 0 || i === s.index.rootIndex) return true;
  const r = rate(s, i);
  const rp = rate(s, p);
  return !Number.isNaN(r) && (Number.isNaN(rp) || r > rp);
}

export interface BreadthView {
  /** May be expanded under rule 2. */
  allowed: Uint8Array;
  /** Steps below the last strict improvement along first parents (the root: 0). */
  plateau: Int32Array;
}

/** Rule 2 and the plateau depths, from the rates (index order is parent-first). */
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
 * `hgm` is HGM's own draw over a candidate list (rule 5). -1 when none is allowed.
 */
export function breadthExpand(s: Situation, candidates: number[], hgm: (candidates: number[]) => number): number {
  const view = breadthView(s);
  const allowed = candidates.filter((i) => view.allowed[i]);
  if (allowed.length === 0) return -1;
  // Until the root is graded there is no level to keep to: HGM decides (as it does for the
  // odd exploratory draw).
  if (Number.isNaN(rate(s, s.index.rootIndex)) || s.rng.next() < EXPLORE) return hgm(allowed);
  const levels = [...new Set(allowed.map((i) => rate(s, i)).filter((r) => !Number.isNaN(r)))].sort((a, b) => b - a);
  if (levels.length === 0) return hgm(allowed);
  // Rule 4: now and then a lower level, so a partial improvement does not end the root's turn.
  const level = levels.length > 1 && s.rng.next() < LOWER ? levels[1 + randomInt(s.rng, levels.length - 1)]! : levels[0]!;
  const breadth = s.input.config.breadth ?? DEFAULT_BREADTH;
  const { childStart } = s.index;
  let pick = -1;
  let bestKey = Infinity;
  let ties = 0;
  for (const i of allowed) {
    if (rate(s, i) !== level) continue;
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

/**
 * Policies: archive snapshot + random source in, one decision out.
 *
 * Every policy shares the same schedule (when to expand, when to evaluate, when to stop) and
 * differs in which node it picks:
 * - hgm (default): the Huxley-Gödel Machine. Expand by Thompson sampling over clade counts,
 *   evaluate by Thompson sampling over own counts.
 * - dgm: the Darwin-Gödel Machine's parent choice, p ∝ sigmoid(10·(acc − 0.5)) / (1 + children);
 *   evaluates the least-evaluated node first, as DGM grades every child alike.
 * - greedy: expand the best own pass rate; evaluate the least-evaluated node.
 * - random: uniform over the nodes that can be expanded / evaluated.
 *
 * The schedule:
 * 1. `done` when the evaluation budget is spent.
 * 2. Expand when N_evals^α ≥ (nodes − 1) + pending expansions (other agents' unexpired expand
 *    claims), unless the expansion budget is reached or no node can be expanded.
 * 3. Otherwise evaluate a node that has a task left (not run, not claimed by another agent).
 * 4. Nothing left to evaluate (every node has run every task): expand instead, even if the
 *    rule in 2 said evaluate — new nodes are the only way to get new evidence.
 * 5. Nothing to expand and nothing to evaluate: `done`.
 */
import type { z } from 'zod';
import type { ArchiveSnapshot } from '../archive/types.js';
import type { ScorerSchema } from '../config/schema.js';
import {
  MAX_ERROR_RETRIES,
  cladeSums,
  computeEvidence,
  type EvidenceArrays,
  type EvidenceMode,
} from './evidence.js';
import { indexSnapshot, type ArchiveIndex } from './archive-index.js';
import { breadthApplies, breadthExpand, worthCompleting } from './breadth.js';
import { beta, createRng, hashString, randomInt, type Rng } from './random.js';

export type ScorerConfig = z.infer<typeof ScorerSchema>;
export type PolicyName = ScorerConfig['policy'];

export interface Budget {
  /** Total graded task runs at which the scorer says `done`. */
  evaluations?: number;
  /** Total nodes at which the scorer stops expanding. */
  expansions?: number;
  /** Task runs spent so far; defaults to the graded runs in the snapshot. */
  spentEvaluations?: number;
}

export interface ScorerInput {
  snapshot: ArchiveSnapshot;
  /** Ids of every task a node can be evaluated on. */
  tasks: string[];
  /** Epoch milliseconds; claims with `expires <= now` are ignored. */
  now: number;
  budget: Budget;
  config: ScorerConfig;
  /** Random source; defaults to `decisionRng(config.seed, snapshot, writer)`. */
  rng?: Rng;
  /** Who is deciding: its own claims are not counted as other agents' pending work. */
  writer?: string;
  /** Count evidence per test case (default) or per task run. */
  evidence?: EvidenceMode;
  /** Ask for a crossover mate when the decision is to expand. */
  crossover?: boolean;
}

export type Decision =
  | { kind: 'expand'; node: string; mate?: string }
  | { kind: 'evaluate'; node: string; task: string }
  | { kind: 'done'; reason: string };

export interface Policy {
  readonly name: PolicyName;
  decide(input: ScorerInput): Decision;
}

/**
 * The default random source of one decision: the configured seed mixed with what identifies
 * the archive's state and the writer, so a fresh clone reproduces the same decision and two
 * agents on the same archive do not draw the same numbers.
 */
export function decisionRng(seed: number | undefined, snapshot: ArchiveSnapshot, writer = ''): Rng {
  let lines = 0;
  for (const ls of snapshot.evaluations.values()) lines += ls.length;
  return rngFor(seed, snapshot, writer, lines);
}

/** decisionRng with the line count already known (the evidence pass counts it). */
function rngFor(seed: number | undefined, snapshot: ArchiveSnapshot, writer: string, lines: number): Rng {
  let h = hashString(snapshot.root);
  h = hashString(snapshot.nodes[snapshot.nodes.length - 1]?.id ?? '', h);
  h = hashString(`${snapshot.nodes.length}:${lines}:${writer}`, h);
  return createRng(((seed ?? 0) * 0x9e3779b1 + h) % 2 ** 52);
}

/** Everything a chooser needs, computed once per decision. */
export interface Situation {
  input: ScorerInput;
  index: ArchiveIndex;
  ev: EvidenceArrays;
  rng: Rng;
  /** Temperature after cooling. */
  tau: number;
  /** Not pruned and not tampered. */
  choosable: Uint8Array;
  /** Unexpired expand claims of other agents, per node index. */
  pendingExpand: Map<number, number>;
  pendingExpandTotal: number;
  /** Tasks claimed by other agents' unexpired evaluate claims, per node index. */
  claimedTasks: Map<number, Set<string>>;
}

function situation(input: ScorerInput): Situation {
  const index = indexSnapshot(input.snapshot);
  const ev = computeEvidence(index, input.evidence ?? 'tests');
  const rng = input.rng ?? rngFor(input.config.seed, input.snapshot, input.writer ?? '', ev.allLines);
  const n = index.ids.length;
  const choosable = new Uint8Array(n);
  for (let i = 0; i < n; i++) choosable[i] = index.pruned[i] || ev.tampered[i] ? 0 : 1;
  const pendingExpand = new Map<number, number>();
  const claimedTasks = new Map<number, Set<string>>();
  let pendingExpandTotal = 0;
  for (const claim of input.snapshot.claims) {
    if (claim.expires <= input.now) continue;
    if (input.writer !== undefined && claim.writer === input.writer) continue;
    const i = index.byId.get(claim.node);
    if (claim.kind === 'expand') {
      // A pending expansion counts toward the tree size even if its node is unknown here.
      pendingExpandTotal++;
      if (i !== undefined) pendingExpand.set(i, (pendingExpand.get(i) ?? 0) + 1);
    } else if (i !== undefined) {
      let set = claimedTasks.get(i);
      if (!set) claimedTasks.set(i, (set = new Set()));
      // An evaluate claim that names no task still takes one slot.
      set.add(claim.task ?? `\0unnamed:${claim.writer}:${claim.expires}`);
    }
  }
  const cfg = input.config;
  let tau = cfg.tau;
  const total = input.budget.evaluations;
  if (cfg.cooling > 0 && total !== undefined && total > 0) {
    const spent = Math.min(input.budget.spentEvaluations ?? ev.totalRuns, total - 1);
    tau *= Math.pow(total / (total - spent), cfg.cooling);
  }
  return { input, index, ev, rng, tau, choosable, pendingExpand, pendingExpandTotal, claimedTasks };
}

/** Tasks node i has not run yet (no graded line, fewer than MAX_ERROR_RETRIES errors) and nobody claimed. */
export function tasksLeft(s: Situation, i: number): string[] {
  const lines = s.index.snapshot.evaluations.get(s.index.ids[i]!) ?? [];
  const claimed = s.claimedTasks.get(i);
  if (lines.length === 0 && !claimed) return s.input.tasks.slice();
  const done = new Set<string>();
  const errors = new Map<string, number>();
  for (const line of lines) {
    if (line.outcome === 'error' && !line.tampered) {
      const e = (errors.get(line.task) ?? 0) + 1;
      errors.set(line.task, e);
      if (e >= MAX_ERROR_RETRIES) done.add(line.task);
    } else {
      done.add(line.task);
    }
  }
  return s.input.tasks.filter((t) => !done.has(t) && !claimed?.has(t));
}

/**
 * The tasks to run a node on first: those its edit aimed at (Evogit-Targets), else those its
 * first parent failed, when some are left. A child that fixes nothing is then known to be no
 * better than its parent after one cheap run.
 */
function firstTasks(s: Situation, i: number, left: string[]): string[] {
  const parent = s.index.firstParent[i]!;
  if (parent < 0 || left.length < 2) return left;
  const targets = s.index.snapshot.nodes[i]!.targets;
  const aimed = targets ? left.filter((t) => targets.includes(t)) : [];
  if (aimed.length > 0) return aimed;
  const lines = s.index.snapshot.evaluations.get(s.index.ids[parent]!);
  if (!lines) return left;
  const failed = new Set<string>();
  for (const line of lines) if (line.outcome === 'fail' && !line.tampered) failed.add(line.task);
  const first = left.filter((t) => failed.has(t));
  return first.length > 0 ? first : left;
}

function hasTasksLeft(s: Situation, i: number): boolean {
  const claimed = s.claimedTasks.size === 0 ? 0 : (s.claimedTasks.get(i)?.size ?? 0);
  // Each line finishes at most one task, so few lines means tasks are certainly left.
  if (s.ev.lines[i]! + claimed < s.input.tasks.length) return true;
  return tasksLeft(s, i).length > 0;
}

/** A policy's choices; the shared schedule decides which one is asked. */
interface Chooser {
  name: PolicyName;
  /** Among `candidates` (choosable, expandable), the node to expand, or -1. */
  expand(s: Situation, candidates: number[]): number;
  /** Among `candidates` (choosable, with tasks left), the node to evaluate. */
  evaluate(s: Situation, candidates: number[]): number;
  /** Which nodes may be expanded at all. */
  expandable(s: Situation, i: number): boolean;
}

function scheduledPolicy(chooser: Chooser): Policy {
  return {
    name: chooser.name,
    decide(input: ScorerInput): Decision {
      const s = situation(input);
      const n = s.index.ids.length;
      if (n === 0) return { kind: 'done', reason: 'the archive has no nodes' };
      const spent = input.budget.spentEvaluations ?? s.ev.totalRuns;
      if (input.budget.evaluations !== undefined && spent >= input.budget.evaluations) {
        return { kind: 'done', reason: `evaluation budget spent (${spent}/${input.budget.evaluations})` };
      }
      const expansionsOpen = input.budget.expansions === undefined || n + s.pendingExpandTotal < input.budget.expansions;
      const wantExpand = Math.pow(s.ev.totalRuns, input.config.alpha) >= n - 1 + s.pendingExpandTotal;

      const tryExpand = (): Decision | null => {
        if (!expansionsOpen) return null;
        const candidates: number[] = [];
        for (let i = 0; i < n; i++) if (s.choosable[i] && chooser.expandable(s, i)) candidates.push(i);
        if (candidates.length === 0) return null;
        const pick = chooser.expand(s, candidates);
        if (pick < 0) return null;
        const node = s.index.ids[pick]!;
        if (input.crossover) {
          const mate = mateFor(s, pick);
          if (mate >= 0) return { kind: 'expand', node, mate: s.index.ids[mate]! };
        }
        return { kind: 'expand', node };
      };
      const tryEvaluate = (among: (i: number) => boolean = () => true): Decision | null => {
        if (input.tasks.length === 0) return null;
        const candidates: number[] = [];
        for (let i = 0; i < n; i++) if (s.choosable[i] && among(i) && hasTasksLeft(s, i)) candidates.push(i);
        if (candidates.length === 0) return null;
        const pick = chooser.evaluate(s, candidates);
        const left = firstTasks(s, pick, tasksLeft(s, pick));
        return { kind: 'evaluate', node: s.index.ids[pick]!, task: left[randomInt(s.rng, left.length)]! };
      };

      // Cheap children (breadth.ts, rule 1): grade every new node once, finish the ones that
      // beat their parent, else grow; the rest of a node's tasks only when nothing can grow.
      const fresh = (i: number): boolean => s.ev.runs[i] === 0 && !s.claimedTasks.has(i);
      const decision =
        chooser.name === 'hgm' && breadthApplies(s)
          ? (tryEvaluate(fresh) ?? tryEvaluate((i) => worthCompleting(s, i)) ?? tryExpand() ?? tryEvaluate())
          : wantExpand
            ? (tryExpand() ?? tryEvaluate())
            : (tryEvaluate() ?? tryExpand());
      if (decision) return decision;
      return { kind: 'done', reason: 'nothing left to choose: every node is pruned, fully evaluated or past the expansion budget' };
    },
  };
}

/** Thompson sampling: the argmax of one Beta draw per candidate. */
function thompson(s: Situation, candidates: number[], alpha: (i: number) => number, betaParam: (i: number) => number): number {
  let best = -1;
  let bestTheta = -1;
  for (const i of candidates) {
    const theta = beta(s.rng, s.tau * alpha(i), s.tau * betaParam(i));
    if (theta > bestTheta) {
      bestTheta = theta;
      best = i;
    }
  }
  return best;
}

/** Uniform over the candidates that maximise `score` (ties broken by the rng). */
function argmaxRandomTie(s: Situation, candidates: number[], score: (i: number) => number): number {
  let best = -1;
  let bestScore = -Infinity;
  let ties = 0;
  for (const i of candidates) {
    const v = score(i);
    if (v > bestScore) {
      bestScore = v;
      best = i;
      ties = 1;
    } else if (v === bestScore && randomInt(s.rng, ++ties) === 0) {
      best = i;
    }
  }
  return best;
}

function promotedBoost(s: Situation, i: number): number {
  return s.index.snapshot.nodes[i]!.promoted ? s.input.config.promotedBoost : 0;
}

/** Baselines grade every node alike: the node with the fewest graded runs first. */
function leastEvaluated(s: Situation, candidates: number[]): number {
  return argmaxRandomTie(s, candidates, (i) => -s.ev.runs[i]!);
}

/** Baselines, like DGM, only grow nodes that have been graded; the root when none has. */
function gradedOrRoot(s: Situation, i: number): boolean {
  return s.ev.runs[i]! > 0 || i === s.index.rootIndex;
}

/** Clade counts plus a virtual failure for each pending expansion in the clade (as in parallel MCTS). */
function cladeWithPending(s: Situation): { ns: Float64Array; nf: Float64Array } {
  const clade = cladeSums(s.index, s.ev.ns, s.ev.nf);
  if (s.pendingExpand.size === 0) return clade;
  const seen = new Int32Array(s.index.ids.length).fill(-1);
  for (const [node, count] of s.pendingExpand) {
    const stack = [node];
    seen[node] = node;
    while (stack.length > 0) {
      const x = stack.pop()!;
      clade.nf[x]! += count;
      for (let k = s.index.parentStart[x]!; k < s.index.parentStart[x + 1]!; k++) {
        const p = s.index.parentList[k]!;
        if (seen[p] === node) continue;
        seen[p] = node;
        stack.push(p);
      }
    }
  }
  return clade;
}

const hgmChooser: Chooser = {
  name: 'hgm',
  expandable(s, i) {
    // A node with no evidence anywhere in its clade says nothing yet; the root is the exception.
    return i === s.index.rootIndex || s.ev.ns[i]! + s.ev.nf[i]! > 0 || hasCladeEvidence(s, i);
  },
  expand(s, candidates) {
    const clade = cladeWithPending(s);
    const cfg = s.input.config;
    const draw = (among: number[]): number =>
      thompson(
        s,
        among,
        (i) => 1 + clade.ns[i]! + promotedBoost(s, i) + (i === s.index.rootIndex ? cfg.rootPrior : 0),
        (i) => 1 + clade.nf[i]!,
      );
    // One or a few tasks per node: breadth around the best nodes (breadth.ts).
    return breadthApplies(s) ? breadthExpand(s, candidates, draw) : draw(candidates);
  },
  evaluate(s, candidates) {
    return thompson(
      s,
      candidates,
      (i) => 1 + s.ev.ns[i]! + promotedBoost(s, i),
      (i) => 1 + s.ev.nf[i]!,
    );
  },
};

/** Whether some descendant of i has evidence; memoised per situation. */
const cladeEvidenceCache = new WeakMap<Situation, Uint8Array>();
function hasCladeEvidence(s: Situation, i: number): boolean {
  let has = cladeEvidenceCache.get(s);
  if (!has) {
    const n = s.index.ids.length;
    has = new Uint8Array(n);
    for (let v = n - 1; v >= 0; v--) {
      if (s.ev.ns[v]! + s.ev.nf[v]! > 0) has[v] = 1;
      if (has[v]) for (let k = s.index.parentStart[v]!; k < s.index.parentStart[v + 1]!; k++) has[s.index.parentList[k]!] = 1;
    }
    cladeEvidenceCache.set(s, has);
  }
  return has[i] === 1;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

const dgmChooser: Chooser = {
  name: 'dgm',
  expandable: gradedOrRoot,
  expand(s, candidates) {
    const { childStart } = s.index;
    const weights = candidates.map((i) => {
      const total = s.ev.ns[i]! + s.ev.nf[i]!;
      const acc = total > 0 ? s.ev.ns[i]! / total : 0;
      return sigmoid(10 * (acc - 0.5)) / (1 + childStart[i + 1]! - childStart[i]!);
    });
    const sum = weights.reduce((a, b) => a + b, 0);
    let r = s.rng.next() * sum;
    for (let k = 0; k < candidates.length; k++) {
      r -= weights[k]!;
      if (r < 0) return candidates[k]!;
    }
    return candidates[candidates.length - 1]!;
  },
  evaluate: leastEvaluated,
};

const greedyChooser: Chooser = {
  name: 'greedy',
  expandable: gradedOrRoot,
  expand(s, candidates) {
    return argmaxRandomTie(s, candidates, (i) => {
      const total = s.ev.ns[i]! + s.ev.nf[i]!;
      return total > 0 ? s.ev.ns[i]! / total : 0;
    });
  },
  evaluate: leastEvaluated,
};

const randomChooser: Chooser = {
  name: 'random',
  expandable: () => true,
  expand: (s, candidates) => candidates[randomInt(s.rng, candidates.length)]!,
  evaluate: (s, candidates) => candidates[randomInt(s.rng, candidates.length)]!,
};

const POLICIES: Record<PolicyName, Policy> = {
  hgm: scheduledPolicy(hgmChooser),
  dgm: scheduledPolicy(dgmChooser),
  greedy: scheduledPolicy(greedyChooser),
  random: scheduledPolicy(randomChooser),
};

export const POLICY_NAMES = Object.keys(POLICIES) as PolicyName[];

export function policyFor(name: PolicyName): Policy {
  const policy = POLICIES[name];
  if (!policy) throw new RangeError(`unknown scorer policy "${String(name)}" (expected one of ${POLICY_NAMES.join(', ')})`);
  return policy;
}

/** Decide with the configured policy. */
export function decide(input: ScorerInput): Decision {
  return policyFor(input.config.policy).decide(input);
}

/**
 * Nodes reachable from i along parent links (ancestors) or child links (descendants),
 * including i: merging i with any of them is a fast-forward or a no-op.
 */
function relatives(index: ArchiveIndex, i: number): Uint8Array {
  const mark = new Uint8Array(index.ids.length);
  mark[i] = 1;
  const up = [i];
  while (up.length > 0) {
    const x = up.pop()!;
    for (let k = index.parentStart[x]!; k < index.parentStart[x + 1]!; k++) {
      const p = index.parentList[k]!;
      if (!mark[p]) {
        mark[p] = 1;
        up.push(p);
      }
    }
  }
  const down = [i];
  const seen = new Uint8Array(index.ids.length);
  while (down.length > 0) {
    const x = down.pop()!;
    for (let k = index.childStart[x]!; k < index.childStart[x + 1]!; k++) {
      const c = index.childList[k]!;
      if (!seen[c]) {
        seen[c] = 1;
        mark[c] = 1;
        down.push(c);
      }
    }
  }
  return mark;
}

function mateFor(s: Situation, i: number): number {
  const related = relatives(s.index, i);
  const candidates: number[] = [];
  for (let j = 0; j < s.index.ids.length; j++) if (s.choosable[j] && !related[j]) candidates.push(j);
  if (candidates.length === 0) return -1;
  return thompson(
    s,
    candidates,
    (j) => 1 + s.ev.ns[j]! + promotedBoost(s, j),
    (j) => 1 + s.ev.nf[j]!,
  );
}

/**
 * A crossover partner for `node`: Thompson sampling on the own posteriors of the other
 * unpruned, untampered nodes that are neither its ancestors nor its descendants. Undefined
 * when there is none.
 */
export function chooseMate(
  snapshot: ArchiveSnapshot,
  node: string,
  rng: Rng,
  opts: { config?: Partial<ScorerConfig>; evidence?: EvidenceMode } = {},
): string | undefined {
  const config: ScorerConfig = { policy: 'hgm', alpha: 0.6, tau: 1, cooling: 0, epsilon: 0.05, rootPrior: 1, promotedBoost: 2, ...opts.config };
  const s = situation({ snapshot, tasks: [], now: 0, budget: {}, config, rng, evidence: opts.evidence ?? 'tests' });
  const i = s.index.byId.get(node);
  if (i === undefined) throw new RangeError(`node ${node} is not in the archive`);
  const mate = mateFor(s, i);
  return mate < 0 ? undefined : s.index.ids[mate];
}

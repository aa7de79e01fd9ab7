/**
 * The PR rule, pure. A node earns a pull request when its pass rate is credibly better than
 * the base's: the node's ε-quantile of Beta(1+pass, 1+fail) must beat the root's posterior
 * MEAN by the margin, with at least `minEvaluations` graded runs on the node.
 *
 * Why the root's mean and not the root's ε-quantile: the ε-quantile is a lower bound, so
 * comparing against the root's lower bound would make the rule easier the less we know
 * about the root (a root with two runs has a very low ε-quantile). The caution belongs on
 * the node's side only; the root is the reference, and its mean is our best estimate of it.
 */
import type { ArchiveNode } from '../archive/types.js';

/** Inverse CDF of Beta(a, b) at p. The scorer's implementation is wired in by the caller. */
export type BetaQuantile = (a: number, b: number, p: number) => number;

export interface PassFail {
  pass: number;
  fail: number;
}

export interface PrRuleInput {
  node: ArchiveNode;
  root: ArchiveNode;
  nodeCounts: PassFail;
  rootCounts: PassFail;
  /** The node (or its lineage since the root) changed a protected path, or a run flagged it as tampered. */
  touchedProtected: boolean;
  epsilon: number;
  rule: { margin: number; minEvaluations: number };
  quantile: BetaQuantile;
}

export interface PrRuleResult {
  ok: boolean;
  /** Why it passed or failed, one short sentence each, for `evogit pr` and the logs. */
  reasons: string[];
  /** The node's ε-quantile and the root's mean that were compared (NaN when not computed). */
  nodeLower: number;
  rootMean: number;
}

export function betaMean(c: PassFail): number {
  return (1 + c.pass) / (2 + c.pass + c.fail);
}

export function checkPrRule(input: PrRuleInput): PrRuleResult {
  const { node, root, nodeCounts, rootCounts, epsilon, rule, quantile } = input;
  const reasons: string[] = [];
  let ok = true;

  if (node.id === root.id) {
    return { ok: false, reasons: ['the node is the root itself: nothing to propose'], nodeLower: NaN, rootMean: NaN };
  }
  // Never overridden, not even by a promotion: a change to the evaluator cannot be reviewed by its own score.
  if (input.touchedProtected) {
    ok = false;
    reasons.push('the node changes a protected path (tests or evaluator config): never proposed');
  }
  if (node.pruned) {
    ok = false;
    reasons.push('the node was pruned (its branch was deleted)');
  }

  const lower = quantile(1 + nodeCounts.pass, 1 + nodeCounts.fail, epsilon);
  const rootMean = betaMean(rootCounts);
  const evaluations = nodeCounts.pass + nodeCounts.fail;
  const scoreReasons: string[] = [];
  let scoreOk = true;
  if (evaluations < rule.minEvaluations) {
    scoreOk = false;
    scoreReasons.push(`only ${evaluations} graded runs on the node, ${rule.minEvaluations} needed`);
  }
  if (rootCounts.pass + rootCounts.fail === 0) {
    scoreOk = false;
    scoreReasons.push('the root has no graded runs yet: nothing to compare against');
  }
  const needed = rootMean + rule.margin;
  if (lower < needed) {
    scoreOk = false;
    scoreReasons.push(
      `the node's ${fmt(epsilon)}-quantile pass rate ${fmt(lower)} does not beat the root's mean ${fmt(rootMean)} + margin ${fmt(rule.margin)}`,
    );
  } else {
    scoreReasons.push(
      `the node's ${fmt(epsilon)}-quantile pass rate ${fmt(lower)} beats the root's mean ${fmt(rootMean)} + margin ${fmt(rule.margin)}`,
    );
  }

  if (node.promoted) {
    reasons.push('promoted by a person: the score part of the rule is waived');
  } else {
    if (!scoreOk) ok = false;
    reasons.push(...scoreReasons);
  }
  return { ok, reasons, nodeLower: lower, rootMean };
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : String(x);
}

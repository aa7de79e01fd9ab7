/**
 * What the mutate agent reads of the archive around the node it expands: the node's lineage
 * and children with their runs, every node's tree (no child may repeat one), and how often
 * each operator's children have helped so far in this archive. Pure: a snapshot in.
 */
import type { ArchiveNode, ArchiveSnapshot, Evaluation } from '../../archive/types.js';
import type { HelpfulNode } from './helpful.js';
import { MUTATION_OPERATORS, type MutationOperator } from './sites/index.js';

export interface NodeRuns {
  node: ArchiveNode;
  evaluations: Evaluation[];
}

export interface ArchiveContext {
  /** The parent and its first-parent ancestors, nearest first. */
  lineage: NodeRuns[];
  /** The parent's children so far. */
  children: NodeRuns[];
  /** Every node's tree. */
  trees: ReadonlySet<string>;
  /** A factor per operator from how its children fared in this archive (1 with no evidence). */
  operatorWeights: ReadonlyMap<MutationOperator, number>;
  /** Every node of the archive that made some of its parent's failing tests pass. */
  helpful: HelpfulNode[];
  /** Every mutate node whose runs, compared with its parent's, made no failing test pass. */
  unhelpful: ArchiveNode[];
}

const LINEAGE = 16;

export function archiveContext(snapshot: ArchiveSnapshot, parent: string): ArchiveContext {
  const byId = new Map(snapshot.nodes.map((n) => [n.id, n]));
  const runs = (node: ArchiveNode): NodeRuns => ({ node, evaluations: snapshot.evaluations.get(node.id) ?? [] });
  const lineage: NodeRuns[] = [];
  for (let n = byId.get(parent); n && lineage.length < LINEAGE; n = byId.get(n.parents[0] ?? '')) lineage.push(runs(n));
  const children = snapshot.nodes.filter((n) => n.parents[0] === parent).map(runs);
  const { weights, helpful, unhelpful } = learn(snapshot);
  return { lineage, children, trees: new Set(snapshot.nodes.map((n) => n.tree)), operatorWeights: weights, helpful, unhelpful };
}

/** Test outcome per `task\0test` from each task's latest run (`task\0*` when the runner named no test). */
export function testOutcomes(evaluations: readonly Evaluation[]): Map<string, 'pass' | 'fail'> {
  const latest = new Map<string, Evaluation>();
  for (const e of evaluations) if (e.outcome !== 'error' && !e.tampered) latest.set(e.task, e);
  const out = new Map<string, 'pass' | 'fail'>();
  for (const [task, e] of latest) {
    const results = Object.entries(e.testResults ?? {}).filter(([, r]) => r !== 'skip');
    if (results.length === 0) out.set(`${task}\0*`, e.outcome === 'pass' ? 'pass' : 'fail');
    for (const [test, r] of results) out.set(`${task}\0${test}`, r === 'pass' ? 'pass' : 'fail');
  }
  return out;
}

/** Tests a child made pass that its parent failed, and the other way round, on the tasks both ran. */
export function changes(parent: readonly Evaluation[], child: readonly Evaluation[]): { helped: Set<string>; broke: Set<string>; compared: number } {
  const before = testOutcomes(parent);
  const helped = new Set<string>();
  const broke = new Set<string>();
  let compared = 0;
  for (const [test, r] of testOutcomes(child)) {
    const was = before.get(test);
    if (was === undefined) continue;
    compared++;
    if (was === 'fail' && r === 'pass') helped.add(test);
    if (was === 'pass' && r === 'fail') broke.add(test);
  }
  return { helped, broke, compared };
}

const SUBJECT = /^mutate: (\S+) at \S+:\d+$/;
/** Pseudo-children behind each operator's prior share of helpful children. */
const PSEUDO = 8;
/** The share of children that help, before any evidence. */
const BASE_RATE = 0.05;
/** The factor stays within these bounds, however lopsided the evidence. */
const [LOW, HIGH] = [0.25, 4];

/**
 * What the archive teaches. Adaptive operator selection: an operator whose one-edit children
 * made failing tests pass more often than the others in this archive is drawn more often (its helpful share over the
 * pooled one, each shrunk towards the pooled rate by PSEUDO pseudo-children). A project's bugs
 * tend to come in kinds; an operator that has not been tried keeps factor 1. And the helpful
 * nodes, whose edits are combined and carried over (helpful.ts).
 */
function learn(snapshot: ArchiveSnapshot): { weights: Map<MutationOperator, number>; helpful: HelpfulNode[]; unhelpful: ArchiveNode[] } {
  const tried = new Map<string, number>();
  const helpedBy = new Map<string, number>();
  const helpful: HelpfulNode[] = [];
  const unhelpful: ArchiveNode[] = [];
  for (const node of snapshot.nodes) {
    const parent = node.parents[0];
    if (!parent || node.pruned) continue;
    const c = changes(snapshot.evaluations.get(parent) ?? [], snapshot.evaluations.get(node.id) ?? []);
    if (c.compared === 0) continue;
    if (c.helped.size > 0) helpful.push({ node, parent, helped: c.helped, broke: c.broke });
    else if (node.operator === 'mutate') unhelpful.push(node);
    const op = node.operator === 'mutate' ? SUBJECT.exec(node.subject)?.[1] : undefined;
    if (!op) continue;
    tried.set(op, (tried.get(op) ?? 0) + 1);
    if (c.helped.size > 0) helpedBy.set(op, (helpedBy.get(op) ?? 0) + 1);
  }
  const total = [...tried.values()].reduce((a, b) => a + b, 0);
  const good = [...helpedBy.values()].reduce((a, b) => a + b, 0);
  const pooled = (good + PSEUDO * BASE_RATE) / (total + PSEUDO);
  const weights = new Map<MutationOperator, number>();
  for (const op of MUTATION_OPERATORS) {
    const rate = ((helpedBy.get(op) ?? 0) + PSEUDO * pooled) / ((tried.get(op) ?? 0) + PSEUDO);
    weights.set(op, Math.min(HIGH, Math.max(LOW, rate / pooled)));
  }
  // The most helpful first, then the most recent.
  helpful.sort((a, b) => b.helped.size - b.broke.size - (a.helped.size - a.broke.size) || b.node.time - a.node.time);
  return { weights, helpful, unhelpful };
}

export function operatorWeights(snapshot: ArchiveSnapshot): Map<MutationOperator, number> {
  return learn(snapshot).weights;
}

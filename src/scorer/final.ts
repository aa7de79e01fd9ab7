/**
 * Reading the archive's evidence back out: the final answer, posterior intervals and the
 * clade-metaproductivity estimate that `evogit status` and `evogit show` display.
 */
import type { ArchiveSnapshot } from '../archive/types.js';
import { betaQuantile } from './beta.js';
import { indexSnapshot } from './archive-index.js';
import { FEW_TASKS } from './breadth.js';
import { cladeSums, computeEvidence, type Counts, type EvidenceMode } from './evidence.js';

export interface FinalAnswer {
  node: string;
  /** The score the rule ranked by: the ε-quantile (or the mean, for rule "mean"). */
  quantile: number;
  /** The rule in words, for reports. */
  rule: string;
  ns: number;
  nf: number;
}

export interface FinalAnswerConfig {
  epsilon: number;
  evidence?: EvidenceMode;
  /**
   * "quantile" (default): highest ε-quantile of Beta(1+n_s, 1+n_f), a lower confidence bound,
   * so a node that got lucky on two runs does not beat one that passed 95 of 100.
   * "mean": highest observed pass rate, the baselines' natural rule, kept for comparison.
   */
  rule?: 'quantile' | 'mean';
}

/** Distinct tasks with a graded run, per node. */
function gradedTasks(snapshot: ArchiveSnapshot, id: string): number {
  const tasks = new Set<string>();
  for (const e of snapshot.evaluations.get(id) ?? []) if (e.outcome !== 'error' && !e.tampered) tasks.add(e.task);
  return tasks.size;
}

/**
 * The node to hand to a person. Pruned and tampered nodes never win; unevaluated nodes never
 * beat evaluated ones (with no evaluated node at all, the root is the answer). With few tasks
 * graded per test case (the breadth schedule, where a child that beat nothing stops after its
 * first task), a node graded on fewer tasks than the root never beats one graded on as many:
 * five of five tests of one file say less than twelve of fifteen of three. Ties go to the
 * earlier node, so the answer is stable.
 */
export function finalAnswer(snapshot: ArchiveSnapshot, cfg: FinalAnswerConfig): FinalAnswer {
  const index = indexSnapshot(snapshot);
  const ev = computeEvidence(index, cfg.evidence ?? 'tests');
  const rule = cfg.rule ?? 'quantile';
  const rootTasks = (cfg.evidence ?? 'tests') === 'tests' ? gradedTasks(snapshot, index.ids[index.rootIndex] ?? snapshot.root) : 0;
  const partial = new Uint8Array(index.ids.length);
  let complete = 0;
  if (rootTasks > 1 && rootTasks <= FEW_TASKS) {
    for (let i = 0; i < index.ids.length; i++) {
      if (ev.runs[i]! === 0) continue;
      if (gradedTasks(snapshot, index.ids[i]!) < rootTasks) partial[i] = 1;
      else if (!index.pruned[i] && !ev.tampered[i]) complete++;
    }
  }
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < index.ids.length; i++) {
    if (index.pruned[i] || ev.tampered[i] || ev.ns[i]! + ev.nf[i]! === 0 || (complete > 0 && partial[i])) continue;
    const score = rule === 'mean' ? ev.ns[i]! / (ev.ns[i]! + ev.nf[i]!) : betaQuantile(cfg.epsilon, 1 + ev.ns[i]!, 1 + ev.nf[i]!);
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  const words =
    rule === 'mean'
      ? 'highest observed pass rate n_s/(n_s+n_f)'
      : `highest ${cfg.epsilon}-quantile of Beta(1+n_s, 1+n_f)`;
  if (best < 0) {
    const root = index.rootIndex;
    return {
      node: index.ids[root] ?? snapshot.root,
      quantile: rule === 'mean' ? 0 : betaQuantile(cfg.epsilon, 1, 1),
      rule: `${words}; no node is evaluated yet, so the root`,
      ns: 0,
      nf: 0,
    };
  }
  return { node: index.ids[best]!, quantile: bestScore, rule: words, ns: ev.ns[best]!, nf: ev.nf[best]! };
}

export interface Posterior {
  /** Posterior mean (1+n_s)/(2+n_s+n_f) under the uniform prior. */
  mean: number;
  lo: number;
  hi: number;
}

/** The Beta(1+n_s, 1+n_f) posterior of a pass rate: mean and central credible interval. */
export function posterior(ns: number, nf: number, level = 0.95): Posterior {
  if (!(level > 0 && level < 1)) throw new RangeError(`credible level must be in (0, 1), got ${level}`);
  const a = 1 + ns;
  const b = 1 + nf;
  return { mean: a / (a + b), lo: betaQuantile((1 - level) / 2, a, b), hi: betaQuantile((1 + level) / 2, a, b) };
}

/** Clade-metaproductivity estimate Σ n_s / Σ (n_s + n_f) over a clade; null without evidence. */
export function cmp(clade: Counts): number | null {
  const total = clade.ns + clade.nf;
  return total > 0 ? clade.ns / total : null;
}

export interface NodeScore {
  own: Counts;
  clade: Counts;
  cmp: number | null;
  posterior: Posterior;
}

/** Everything `evogit status` shows per node, in one pass over the snapshot. */
export function nodeScores(snapshot: ArchiveSnapshot, opts: { mode?: EvidenceMode; level?: number } = {}): Map<string, NodeScore> {
  const index = indexSnapshot(snapshot);
  const ev = computeEvidence(index, opts.mode ?? 'tests');
  const clade = cladeSums(index, ev.ns, ev.nf);
  const out = new Map<string, NodeScore>();
  for (let i = 0; i < index.ids.length; i++) {
    const cladeCounts = { ns: clade.ns[i]!, nf: clade.nf[i]! };
    out.set(index.ids[i]!, {
      own: { ns: ev.ns[i]!, nf: ev.nf[i]! },
      clade: cladeCounts,
      cmp: cmp(cladeCounts),
      posterior: posterior(ev.ns[i]!, ev.nf[i]!, opts.level),
    });
  }
  return out;
}

/** The run's budget: what the archive says has been spent, and the limits from the config and the command line. */
import type { ArchiveSnapshot } from '../archive/index.js';
import { parseDuration, type Config } from '../config/index.js';
import type { Budget } from './types.js';

/** What the archive says has been spent, all writers together. */
export function spent(snapshot: ArchiveSnapshot): { evaluations: number; expansions: number; cost: number } {
  // Every graded run in the notes counts, a pruned node's too: pruning never gives budget back.
  let evaluations = snapshot.gradedRuns ?? 0;
  if (snapshot.gradedRuns === undefined) for (const lines of snapshot.evaluations.values()) for (const e of lines) if (e.outcome !== 'error') evaluations++;
  let cost = 0;
  // An untrusted node (screen.ts) spends nothing: forged trailers never move the budget.
  for (const n of snapshot.nodes) if (n.untrusted === undefined) cost += n.cost ?? 0;
  return { evaluations, expansions: snapshot.nodes.length - 1, cost };
}

export function budgetFromConfig(config: Config, overrides: Partial<Budget> = {}): Budget {
  return {
    evaluations: overrides.evaluations ?? config.budget.evaluations,
    expansions: overrides.expansions ?? config.budget.expansions,
    timeMs: overrides.timeMs ?? (config.budget.time !== undefined ? parseDuration(config.budget.time) : undefined),
    costUsd: overrides.costUsd ?? config.budget.cost,
  };
}

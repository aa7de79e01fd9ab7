/**
 * The forge: promising nodes become GitHub pull requests carrying their evidence.
 * `evogit pr <node> [--dry-run]` calls `openPr` (or `planPr`); the run loop calls `openPr`
 * when `forge.auto` is set and catches InfraError, so a GitHub outage never stops a run.
 */
export { checkPrRule, betaMean, type BetaQuantile, type PassFail, type PrRuleInput, type PrRuleResult } from './rule.js';
export {
  gatherEvidence,
  countRuns,
  summarize,
  lineageOf,
  fixedTasks,
  globToRegExp,
  protectedHits,
  type PrEvidence,
  type ScoreSummary,
  type LineageStep,
  type FixedTask,
  type CountEvidence,
  type GatherOptions,
  type EvaluationLogs,
} from './evidence.js';
export { renderPrBody, renderPrTitle, renderMarker, parseMarker, type PrMarker } from './body.js';
export { openPr, planPr, type PrOptions, type PrResult, type PrPlan, type PrAction, type ForgeConfig } from './pr.js';
export { createClient, scrub, toForgeError, type ClientTuning, type RecordedRequest } from './github.js';
export type { DiffStatEntry } from './git.js';
export { minimizePatch, ddmin, splitPatch, joinPatch, type MinimizeOptions, type MinimizeResult, type PatchUnit } from './minimize.js';

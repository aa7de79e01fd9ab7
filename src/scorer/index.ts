/**
 * The scorer: which node to expand or evaluate next, and which node is the answer.
 * Pure: an archive snapshot and a seeded random source in, a decision out. It knows nothing
 * of git, Docker or HTTP.
 */
export { SeededRng, createRng, hashString, randomInt, normal, gamma, beta as sampleBeta, type Rng } from './random.js';
export { betaCdf, betaQuantile, lnBeta, lnGamma } from './beta.js';
export {
  MAX_ERROR_RETRIES,
  cladeCounts,
  evidence,
  lineCounts,
  type Counts,
  type EvidenceMode,
} from './evidence.js';
export {
  POLICY_NAMES,
  chooseMate,
  decide,
  decisionRng,
  policyFor,
  type Budget,
  type Decision,
  type Policy,
  type PolicyName,
  type ScorerConfig,
  type ScorerInput,
} from './policy.js';
export {
  cmp,
  finalAnswer,
  nodeScores,
  posterior,
  type FinalAnswer,
  type FinalAnswerConfig,
  type NodeScore,
  type Posterior,
} from './final.js';

/**
 * The built-in offline `mutate` agent (no LLM): the one-edit neighbourhood of the lines a
 * node's failing tests point to, on tree-sitter syntax trees of JavaScript, TypeScript and
 * Python, drawn without replacement; and two-edit children from helpful siblings.
 */
export { createMutateAgent, commitMessage, describeEdit, type MutateTranscript } from './agent.js';
export { chooseChild, type Choice } from './choose.js';
export { archiveContext, changes, operatorWeights, testOutcomes, type ArchiveContext, type NodeRuns } from './context.js';
export { isEditable, globToRegExp, listRepoFiles, TEST_FILE_GLOBS, type EditableRules } from './files.js';
export { hotspotLines, lineageSpectra, suspicionOf } from './localize.js';
export { drawOrder, neighbourhood, OPERATOR_PRIOR, type Candidate, type FileSites, type Suspicion } from './neighbourhood.js';
export { applyEdit, changedRegion, complementaryPairs, readEdit, type HelpfulNode, type NodeEdit, type RegionEdit } from './helpful.js';
export { languageOfPath, type MutateLanguage } from './parser.js';
export { createRandom, type Random } from './random.js';
export { searchEdits, type EditRecord, type SearchOptions, type SearchResult, type SourceFile } from './search.js';
export {
  applyMutation,
  functionSpansOfTree,
  listMutationSites,
  parsesCleanly,
  spliceReplacements,
  MUTATION_OPERATORS,
  OPERATOR_FAMILIES,
  type ApplyResult,
  type FunctionSpan,
  type Mutation,
  type MutationOperator,
  type MutationSite,
  type Replacement,
} from './sites/index.js';
export { findHotspots, heat, parseLogLocations, resolveLogPath, type Hotspot, type LogLocation } from './targeting.js';
export { TreeHasher } from './trees.js';

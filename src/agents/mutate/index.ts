/**
 * The built-in offline `mutate` agent (no LLM): genetic-improvement edits on tree-sitter
 * syntax trees of JavaScript, TypeScript and Python, aimed at what failing tests reach.
 */
export { createMutateAgent, commitMessage, describeEdit, type MutateTranscript } from './agent.js';
export { isEditable, globToRegExp, listRepoFiles, TEST_FILE_GLOBS, type EditableRules } from './files.js';
export { languageOfPath, type MutateLanguage } from './parser.js';
export { createRandom, type Random } from './random.js';
export { searchEdits, OPERATOR_WEIGHT, type EditRecord, type SearchOptions, type SearchResult, type SourceFile } from './search.js';
export {
  applyMutation,
  listMutationSites,
  spliceReplacements,
  MUTATION_OPERATORS,
  type ApplyResult,
  type FunctionSpan,
  type Mutation,
  type MutationOperator,
  type MutationSite,
  type Replacement,
} from './sites.js';
export { findHotspots, heat, parseLogLocations, resolveLogPath, type Hotspot, type LogLocation } from './targeting.js';

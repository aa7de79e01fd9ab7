/** Task suites: SWE-bench and Polyglot benchmarks imported into the evolving repository. */
export type { SuiteFormat, Split, SplitFractions, SuiteTest, TaskBase, SuiteTask, SuiteManifest } from './types.js';
export { SPLITS, DEFAULT_FRACTIONS, SUITES_DIR, SUITE_REFS } from './types.js';
export { splitOf, unitHash, parseFractions, checkFractions } from './split.js';
export { parseSweJsonl, parseSweConfig, sweTestFor, patchPaths, type SweRecord, type SweSuiteConfig } from './swe.js';
export { scanPolyglot, type Exercise } from './polyglot.js';
export { polyglotTest, enableAllTests, referenceTargets, POLYGLOT_LANGUAGES, LANGUAGE_IMAGES, type PolyglotLanguage, type ExerciseRun } from './languages.js';
export { importSuite, loadSuite, listSuites, tasksOf, evaluationTaskId, detectFormat, SUITE_IMPORTS, type ImportOptions, type ImportResult, type SuiteSummary, type TaskProblem } from './store.js';
export { taskBaseTree, treeWithout, treeWithChanges, treeWithPatch, gradedTree, treeDiff, parseLsFilesStage, parseLsTreeEntries, type FileChange } from './tree.js';
export { toTaskSpec } from './spec.js';

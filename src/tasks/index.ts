/** Tasks: discovery, runner commands, result parsers, grading, protected paths. */
export type { TaskSpec, Grading, ResultFormat } from './types.js';
export {
  RESULTS_TOKEN,
  HARNESS_DIR,
  HARNESS_ENV,
  TIMEOUT_MS_TOKEN,
  TIMEOUT_S_TOKEN,
  FILES_TOKEN,
  REPORT_FLAGS,
  shellWords,
  fillCommand,
  runnerHasTimeout,
  DEFAULT_PATTERNS,
  runnerOf,
  formatOf,
  testCommand,
  selectTestFiles,
  tasksFromFiles,
  discoverTasks,
  detectProject,
  testCommandHint,
  type Runner,
  type DetectedProject,
} from './discover.js';
export { MANIFEST_PATTERNS, manifestFiles } from './manifests.js';
export { parseJUnit, parseTap, parseJestJson, parsePytest, parseGoJson, parseLibtestJson, parseResults, extractMetrics, countsOf, type ParsedResults, type TestStatus } from './parsers.js';
export { grade, lookupTest, normalizeTestId, runnerCrash, completedCounts, type Grade, type GradeInput, type Objective } from './grade.js';
export { protectedPatterns, tamperedPaths, CI_PATHS } from './protect.js';
export { globToRegExp, matchesAny } from './glob.js';
export { findSupport, packageTestFields, testRoot, jsImports, pyImports, RUNNER_CONFIGS, type Support } from './support.js';
export { unpackableReason, unsafePaths } from './unpack.js';
export { taskTimeout, measuredRunMs, runTimeOf, killGraceMs, type TaskTimeout } from './timeout.js';

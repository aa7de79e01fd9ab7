/**
 * A task is one unit of evidence with a binary outcome, SWE-bench/Polyglot style.
 */

export type Grading =
  /** Pass when the command exits 0 and the parsed results show no failed test. */
  | { kind: 'exit-code' }
  /** Pass when every FAIL_TO_PASS test passes and every PASS_TO_PASS test still passes. */
  | { kind: 'tests'; failToPass: string[]; passToPass: string[] };

/** Which machine-readable output the command produces, for parsing per-test results. */
/** go-json: `go test -json` events; libtest-json: Rust's libtest `--format json` events. */
export type ResultFormat = 'junit' | 'tap' | 'vitest-json' | 'jest-json' | 'pytest' | 'go-json' | 'libtest-json' | 'none';

export interface TaskSpec {
  id: string;
  /** Shell lines run before the command (inside the sandbox), e.g. building. */
  setup?: string[];
  /**
   * Hidden files copied fresh into the work dir for every run, from the evaluator's copy
   * (base commit or protected path) — never from the candidate. Paths relative to the repo.
   */
  hiddenFiles: string[];
  /** Globs nobody may add files to either: paths that would shadow a hidden support file (tasks/support.ts). */
  supportGlobs?: string[];
  /** The command, as an argument array run in the work dir. */
  command: string[];
  /** Where the runner writes its machine-readable results (relative to the work dir), if not stdout. */
  resultFile?: string;
  resultFormat: ResultFormat;
  grading: Grading;
  timeoutMs?: number;
  /** The problem statement, for benchmark tasks (given to agents; never the hidden tests). */
  problem?: string;
  /** Benchmark tasks: the upstream repository (SWE-bench `repo`). */
  repo?: string;
  /** Benchmark tasks: the commit the agent starts from (SWE-bench `base_commit`). */
  baseCommit?: string;
  /** Benchmark tasks: the diff adding the hidden tests, applied only after the agent ran. */
  testPatch?: string;
  /** Benchmark tasks: which set of the suite the task is in. */
  split?: 'search' | 'selection' | 'heldout';
}

/**
 * Task suites: benchmark tasks (SWE-bench instances, Polyglot exercises) stored in the
 * evolving repository under `.evogit/suites/<name>/`, each graded like a TaskSpec.
 */
import type { Grading, ResultFormat } from '../tasks/types.js';

export type SuiteFormat = 'swe' | 'polyglot';

/** search: what the scorer sees; selection: for choosing among finalists; heldout: only the final report. */
export type Split = 'search' | 'selection' | 'heldout';
export const SPLITS: readonly Split[] = ['search', 'selection', 'heldout'];

export interface SplitFractions {
  search: number;
  selection: number;
  heldout: number;
}

export const DEFAULT_FRACTIONS: SplitFractions = { search: 0.6, selection: 0.2, heldout: 0.2 };

/** How a task's hidden tests run in the grading container. */
export interface SuiteTest {
  /** Argument array; `{results}` and `{work}` are replaced as in TaskSpec.command. */
  command: string[];
  format: ResultFormat;
  /** Where the runner writes its results (`{results}` = a fresh path), when not stdout. */
  resultFile?: string;
  setup?: string[];
  /**
   * Commands that install the task's dependencies from the graded tree's manifests, run once
   * per manifest content into a cached environment image (with the network as
   * sandbox.installNetwork says); the tests run in that image, without network.
   */
  install?: string[];
  timeoutMs?: number;
  /** The sandbox image the tests run in (a language's toolchain); else sandbox.image. */
  image?: string;
}

/** Where the tree the agent starts from comes from. */
export type TaskBase =
  /** A commit of the task's repository, kept in the evolving repo under `ref`. */
  | { kind: 'commit'; ref: string; commit: string }
  /** A directory of the suite (a Polyglot exercise) minus the hidden and reference files. */
  | { kind: 'dir'; path: string; exclude: string[] };

export interface SuiteTask {
  id: string;
  split: Split;
  /** The problem statement the agent is given. */
  problem: string;
  /** SWE: the upstream repository (owner/name). */
  repo?: string;
  /** Polyglot: the exercise's language. */
  language?: string;
  base: TaskBase;
  /** SWE: the diff that adds the hidden tests, applied after the agent ran. */
  testPatch?: string;
  /** Polyglot: the hidden test files, relative to the exercise directory. */
  testFiles?: string[];
  /**
   * Polyglot: the files the exercise asks to edit (files.solution). Every other file of the
   * exercise (build files, helpers) is put back from the suite for grading, like the tests.
   */
  solutionFiles?: string[];
  test: SuiteTest;
  grading: Grading;
}

export interface SuiteManifest {
  version: 1;
  name: string;
  format: SuiteFormat;
  seed: number;
  fractions: SplitFractions;
  tasks: SuiteTask[];
  /** Set by loadSuite, never stored: the commit the suite was read from (its files are read there). */
  commit?: string;
}

/** Where suites live in the evolving repository (committed, protected). */
export const SUITES_DIR = '.evogit/suites';
/** Where the base commits of SWE tasks are kept, so `git archive` works from the evolving repo. */
export const SUITE_REFS = 'refs/evogit/suites';

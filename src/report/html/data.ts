/**
 * What an HTML report carries: the archive as `evogit report` read it, embedded in the page and
 * read by the viewer. Shared by the collector (Node) and the viewer (browser), so it imports
 * only types: plain data, JSON all the way.
 */
import type { NodeIdentity } from '../node.js';

export const REPORT_FORMAT = 1;

export interface ReportEvaluation {
  task: string;
  outcome: 'pass' | 'fail' | 'error';
  tests?: { passed: number; failed: number; skipped: number; total: number };
  /** Names of the tests the run failed, when the runner reported them (at most FAILED_TESTS_KEPT). */
  failedTests?: string[];
  durationMs: number;
  harness: string;
  writer: string;
  /** ISO time the run finished. */
  time: string;
  reason?: string;
  tampered?: boolean;
  /** The log tail kept in the note. */
  log?: string;
}

/** A node as `evogit status --json` has it (NodeIdentity), and what the page shows of it besides. */
export interface ReportNode extends NodeIdentity {
  model?: string;
  cost?: number;
  /** Commit time, seconds since the epoch. */
  time: number;
  /** The whole commit message. */
  message: string;
  /** Some run found it touching protected paths: rejected, never chosen. */
  tampered: boolean;
  /** Task runs: passed, failed, infrastructure errors. */
  runs: { pass: number; fail: number; error: number };
  /** Own evidence in the scorer's units, its 95% interval and ε-quantile (the final answer's rule). */
  own: { pass: number; fail: number; lo: number; hi: number; quantile: number };
  /** Clade evidence, the CMP estimate (null without evidence) and its 95% interval. */
  clade: { pass: number; fail: number; cmp: number | null; lo: number; hi: number };
  /** `git diff` against the first parent (unified, as git prints it); empty for the root. */
  patch: string;
  /** Set when the patch was too large to carry: its size and the paths it changes. */
  patchOmitted?: { bytes: number; paths: string[] };
  evaluations: ReportEvaluation[];
}

/** The run over time, sampled at `at` (counts of evaluation lines, in the order they finished). */
export interface ReportTimeline {
  at: number[];
  /** Epoch ms when the at[i]-th line finished. */
  time: number[];
  /** The final answer's ε-quantile, and the best observed pass rate, with the evidence up to at[i]. */
  bestQuantile: (number | null)[];
  bestMean: (number | null)[];
  /** Which node was the final answer then (index into nodes), -1 for none. */
  bestNode: number[];
  /** Nodes in the archive then, the root included. */
  nodes: number[];
  /** USD spent then (Evogit-Cost of the nodes made so far). */
  cost: number[];
  /** Infrastructure errors so far. */
  errors: number[];
  /** Evaluation lines so far, per writer that ran them and per agent that made the node. */
  byWriter: Record<string, number[]>;
  byAgent: Record<string, number[]>;
}

export interface ReportData {
  format: typeof REPORT_FORMAT;
  /** ISO time the report was written. */
  generatedAt: string;
  /** The repository's directory name, for the title. */
  repository: string;
  prefix: string;
  root: string;
  epsilon: number;
  alpha: number;
  evidence: 'tests' | 'tasks';
  budget: { evaluations: number };
  /** The final answer (`evogit best`). */
  best: { node: string; rule: string; quantile: number } | null;
  /** Every task id some run used, sorted. */
  tasks: string[];
  /** Every node, parents before children. */
  nodes: ReportNode[];
  /** The root's text of every file some node's patch touches; a path missing here and from `unreadable` did not exist at the root. */
  rootFiles: Record<string, string>;
  /** Touched paths whose root text is binary or too large to carry. */
  unreadable: string[];
  /** Work in progress when the report was written. */
  claims: { writer: string; node: string; kind: string; task?: string }[];
  timeline: ReportTimeline;
  /**
   * In the page, log tails travel apart from the rest, in gzipped chunks of this many nodes
   * (`#evogit-logs-<k>`: per node, per evaluation, the tail or null), read when a log is opened:
   * they are most of the bytes, and the tree needs none of them.
   */
  logChunk?: number;
}

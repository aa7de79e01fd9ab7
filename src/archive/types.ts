/**
 * The archive's data model. The archive is the git repository itself: a node is a commit on
 * a branch under the prefix, an evaluation is one JSON line in a git note under
 * refs/notes/evogit/<writer>. These types are what every other domain reads.
 */
import type { Ignored } from './screen.js';

/** How a node was made; recorded in the commit's `Evogit-Operator` trailer. */
export type Operator = 'root' | 'mutate' | 'llm' | 'command' | 'self' | 'crossover' | 'manual';

export interface ArchiveNode {
  /** Full commit SHA. */
  id: string;
  /** Full SHAs of the git parents (two for a crossover). */
  parents: string[];
  /** Tree SHA: two nodes with the same tree are the same candidate (dedup). */
  tree: string;
  /** Short branch name without refs/heads/, e.g. `evo/a1/17`; null when the branch was deleted. */
  branch: string | null;
  /** Who wrote the node (the writer namespace its branch lives in). */
  writer: string;
  /** `Evogit-Agent` trailer: which agent configuration produced it. */
  agent: string;
  operator: Operator;
  model?: string;
  /** `Evogit-Cost` trailer, in USD. */
  cost?: number;
  /**
   * `Evogit-Targets` trailer: the tasks the edit is aimed at (its parent's failing tasks whose
   * coverage names a changed file). The scorer runs them first; a node that helps none of
   * them is known to be no better than its parent after one run.
   */
  targets?: string[];
  /** Commit time, seconds since the epoch. */
  time: number;
  subject: string;
  /** Deleted with `git branch -D` (or pruned by `evogit prune`): never expanded again. */
  pruned: boolean;
  /** Tagged by `evogit promote` (on this machine, or by a writer trust.promoters lists). */
  promoted: boolean;
  /**
   * Why the node's own trailers cannot be believed (a negative cost, an unknown operator, a
   * writer trailer naming another writer than its branch): never chosen, its runs not counted.
   */
  untrusted?: string;
}

export type Outcome = 'pass' | 'fail' | 'error';

export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
  total: number;
}

/** One line of a note: one task run on one node. Append-only; never edited. */
export interface Evaluation {
  /** Full SHA of the node the run graded. */
  node: string;
  task: string;
  outcome: Outcome;
  /** Parsed per-test counts when the runner reported them. */
  tests?: TestCounts;
  /** Per-test outcomes when known (test id → pass/fail), used for FAIL_TO_PASS grading and per-test evidence. */
  testResults?: Record<string, 'pass' | 'fail' | 'skip'>;
  metrics?: Record<string, number>;
  durationMs: number;
  /** How long the command itself ran in the sandbox (what test.timeout "auto" scales). */
  runMs?: number;
  /** The limit the run had, in milliseconds. */
  timeoutMs?: number;
  /** Which harness ran it: `docker` | `local`. */
  harness: string;
  /** Image digest (docker) or a description of the local environment. */
  image?: string;
  writer: string;
  /** ISO-8601 time the run finished. */
  time: string;
  /**
   * Short tail of the log; the full log stays under .git/evogit/logs. Every note line carries
   * it, but snapshots (and the cache file) do not: read it with `Archive.evaluationLogs(node)`.
   */
  log?: string;
  /** Why an `error` or a rejection happened, in one line. */
  reason?: string;
  /** Set when the candidate touched protected paths: rejected, not graded. */
  tampered?: boolean;
  /** Where the run's failing tests point (per-test coverage), for agents that localize faults. */
  spectrum?: Spectrum;
}

/**
 * A run's coverage spectrum, bounded: how many of its tests with coverage failed and passed,
 * and for the source lines failing tests ran (the most suspicious first, at most a few dozen)
 * `[line, ef, ep, frames]`: failing and passing tests that ran the line, and how often a
 * failure's stack trace named it. Lines per repository-relative file.
 */
export interface Spectrum {
  failed: number;
  passed: number;
  lines: Record<string, Array<[line: number, ef: number, ep: number, frames: number]>>;
}

/** A claim: an agent says it is working on a node (expanding or evaluating), until `expires`. */
export interface Claim {
  writer: string;
  node: string;
  kind: 'expand' | 'evaluate';
  task?: string;
  /** Epoch milliseconds. */
  expires: number;
  /**
   * The machine and process that wrote it (set by Archive.putClaim): a claim of a process
   * that died on this machine is released by the next agent that starts here, whatever its
   * writer name, instead of blocking others until it expires.
   */
  host?: string;
  pid?: number;
  /** The ref that holds it (set when read from the archive), for releasing it. */
  ref?: string;
}

/** A consistent read of the whole archive, what the scorer and `status` work from. */
export interface ArchiveSnapshot {
  root: string;
  /** Every node, parents before children (topological order). */
  nodes: ArchiveNode[];
  /** Evaluation lines grouped by node id. */
  evaluations: Map<string, Evaluation[]>;
  claims: Claim[];
  /**
   * Graded (non-error) task runs in every note, those of nodes no longer in the archive
   * included: what the evaluation budget counts, so pruning a node never gives budget back.
   */
  gradedRuns?: number;
  /** What was read and not counted (malformed or foreign note lines, untrusted nodes and tags, odd refs), each once. */
  ignored?: Ignored[];
}

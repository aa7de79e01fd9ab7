/**
 * The agent contract. An agent turns a parent node plus context into an edited worktree.
 * The loop commits; an agent never touches refs.
 */
import type { ArchiveNode, ArchiveSnapshot, Operator } from '../archive/types.js';
import type { Config } from '../config/index.js';

export interface AgentInput {
  /** A git worktree checked out (detached) at the parent; the agent edits files here. */
  worktree: string;
  parent: ArchiveNode;
  /** For crossover: the second parent, chosen by the scorer's posterior. */
  mate?: ArchiveNode;
  goal: string;
  /** Logs of the parent's failed task runs (tails), most useful first. */
  failingLogs: { task: string; log: string }[];
  /** Short notes of what siblings and ancestors tried and how it scored. */
  lineage: { node: string; operator: Operator; summary: string; passRate: number | null }[];
  budget: { maxCostUsd?: number; maxTokens?: number };
  /**
   * Pass rates known to the scorer, by node id (crossover takes each conflicting hunk from
   * the better of parent and mate). Missing: looked up in `lineage`, else the parent wins.
   */
  passRates?: Record<string, number | null>;
  /** The archive as the scorer saw it when it chose to expand (no log tails), for agents that reuse its evidence (mutate). */
  archive?: ArchiveSnapshot;
  /** Every random choice derives from this seed. */
  seed: number;
  config: Config;
  /** Directory for the transcript and other files kept beside the node (under .git/evogit/). */
  transcriptDir: string;
  signal?: AbortSignal;
}

export type AgentOutcome =
  /** The worktree holds an edit worth committing. */
  | 'edited'
  /** The agent produced nothing (no applicable edit, refused, empty reply after retries). */
  | 'no-edit'
  /** The agent failed (API error, timeout, budget): recorded, nothing committed. */
  | 'failed';

export interface AgentOutput {
  outcome: AgentOutcome;
  operator: Operator;
  /** Commit subject and body; the loop adds the Evogit-* trailers. */
  message: string;
  /** USD spent on this proposal. */
  cost: number;
  model?: string;
  tokens?: { input: number; output: number };
  /** Extra git parents beyond the node's parent (crossover: the mate). */
  extraParents?: string[];
  /** Path of the transcript file written under transcriptDir. */
  transcript?: string;
  /** One line on why, for no-edit and failed. */
  reason?: string;
}

export interface Agent {
  readonly kind: Operator;
  propose(input: AgentInput): Promise<AgentOutput>;
}

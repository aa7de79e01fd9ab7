/** What a caller gives one agent's loop, and what it gets back. */
import type { Config } from '../config/index.js';
import type { Sandbox } from '../sandbox/index.js';
import type { EventSink } from './events.js';

export interface Budget {
  evaluations: number;
  expansions?: number;
  timeMs?: number;
  costUsd?: number;
}

export interface AgentLoopOptions {
  repoDir: string;
  config: Config;
  writer: string;
  budget: Budget;
  emit: EventSink;
  seed?: number;
  /** Share the archive through this git remote (many machines). */
  remote?: string;
  signal?: AbortSignal;
  /** Override the configured agent kind. */
  agentKind?: Config['agents']['kind'];
  /**
   * How long a claim lives before other agents ignore it (a dead agent's claim). A live agent
   * renews its claim every third of this while it works, so a short TTL is safe.
   */
  claimTtlMs?: number;
  sandbox?: Sandbox;
}

export interface AgentLoopResult {
  writer: string;
  expansions: number;
  evaluations: number;
  rejected: number;
  reason: string;
}

/**
 * What a running agent reports, as a typed union. The terminal renderer shows progress;
 * the JSON renderer writes one event per line (`evogit agent --json`, `evogit run --json`).
 */
import type { Outcome } from '../archive/types.js';

export type LoopEvent = (
  | { type: 'start'; writer: string; agent: string; sandbox: string; tasks: number; time: string }
  | { type: 'decision'; writer: string; kind: 'expand' | 'evaluate'; node: string; task?: string; mate?: string }
  /** The rest of the budget is others' work in flight: said once per change of what is awaited. */
  | { type: 'waiting'; writer: string; for: { writer: string; node: string; task?: string }[] }
  /** A step still running after a while, and how long so far (every HEARTBEAT_MS). */
  | { type: 'heartbeat'; writer: string; kind: 'expand' | 'evaluate'; node: string; task?: string; elapsedMs: number }
  | { type: 'expanded'; writer: string; node: string; branch: string; parents: string[]; operator: string; cost: number; summary: string; agentMs?: number }
  | { type: 'rejected'; writer: string; parent: string; reason: string; detail?: string; agentMs?: number }
  | { type: 'evaluated'; writer: string; node: string; task: string; outcome: Outcome; durationMs: number; tests?: { passed: number; total: number } }
  | { type: 'budget'; writer: string; evaluations: number; maxEvaluations: number; expansions: number; cost: number; elapsedMs: number }
  | { type: 'best'; writer: string; node: string; branch: string | null; passRate: number; quantile: number }
  | { type: 'sync'; writer: string; remote: string; ok: boolean; detail?: string }
  | { type: 'warning'; writer: string; message: string }
  | { type: 'pr'; writer: string; node: string; action: string; number?: number; url?: string }
  | { type: 'done'; writer: string; reason: string }
) & {
  /** Epoch milliseconds when the agent emitted it (set by the loop). */
  at?: number;
};

export type EventSink = (event: LoopEvent) => void;

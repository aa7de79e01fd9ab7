/**
 * What the archive accepts from a writer. Every writer on a shared remote can push whatever it
 * likes into its own refs (and, without the remote's hook, into anybody's), so what is read is
 * checked before it counts: a note line must be a well-formed evaluation, in its own writer's
 * notes ref, naming the node it is attached to; a node's trailers must be sane. What fails is
 * left out and reported once per writer and node (an `Ignored` entry), never a crash.
 * Pure functions; load.ts applies them as it reads.
 */
import type { Evaluation } from './types.js';

/** Something the archive read and did not count, and why: shown by status, best and the report. */
export interface Ignored {
  /** The writer whose ref held it (for a ref: the writer its name claims, or ''). */
  writer: string;
  /** The node (full SHA) it was about, when there is one. */
  node?: string;
  /** A ref name, for refs that are not part of the archive's layout. */
  ref?: string;
  /** How many lines (or items) were left out. */
  count: number;
  reason: string;
}

const OUTCOMES = new Set(['pass', 'fail', 'error']);
const STATUSES = new Set(['pass', 'fail', 'skip']);
const ID = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

const count = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const nonNegative = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const optionalString = (v: unknown): boolean => v === undefined || typeof v === 'string';

/**
 * Why a parsed note line is not an evaluation `writer` may have written about `node`, or null
 * when it is one: known outcome, counts that are non-negative integers adding up, finite
 * metrics and durations, the line's writer and node those of the ref and note it is in.
 */
export function evaluationProblem(v: unknown, writer: string, node: string): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const e = v as Record<string, unknown>;
  if (typeof e.node !== 'string' || !ID.test(e.node)) return 'no node SHA';
  if (e.node !== node) return `names node ${e.node.slice(0, 12)} but is attached to ${node.slice(0, 12)}`;
  if (typeof e.task !== 'string' || e.task === '') return 'no task';
  if (typeof e.outcome !== 'string' || !OUTCOMES.has(e.outcome)) return `unknown outcome ${JSON.stringify(e.outcome)}`;
  if (e.writer !== writer) return `writer field ${JSON.stringify(e.writer)} in ${writer}'s notes`;
  if (e.tests !== undefined) {
    const t = e.tests as Record<string, unknown> | null;
    if (typeof t !== 'object' || t === null || !count(t.passed) || !count(t.failed) || !count(t.skipped) || !count(t.total)) return 'test counts are not non-negative integers';
    if ((t.passed as number) + (t.failed as number) + (t.skipped as number) > (t.total as number)) return 'test counts exceed their total';
  }
  if (e.testResults !== undefined) {
    const r = e.testResults as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'testResults is not an object';
    for (const k in r) if (!STATUSES.has(r[k] as string)) return `unknown test status ${JSON.stringify(r[k])}`;
  }
  if (e.metrics !== undefined) {
    const m = e.metrics as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'metrics is not an object';
    for (const k in m) if (typeof m[k] !== 'number' || !Number.isFinite(m[k])) return `metric ${k} is not a finite number`;
  }
  for (const k of ['durationMs', 'runMs', 'timeoutMs'] as const) if (e[k] !== undefined && !nonNegative(e[k])) return `${k} is not a non-negative number`;
  if (e.tampered !== undefined && typeof e.tampered !== 'boolean') return 'tampered is not a boolean';
  for (const k of ['harness', 'image', 'time', 'log', 'reason'] as const) if (!optionalString(e[k])) return `${k} is not a string`;
  return null;
}

/** The lines of one note that count, and what was left out (null when nothing was). `dropped` lines were not even JSON objects. */
export function screenLines(lines: unknown[], writer: string, node: string, dropped = 0): { kept: Evaluation[]; ignored: { count: number; reason: string } | null } {
  let kept: Evaluation[] | null = null;
  let ignored = dropped;
  let reason = dropped ? 'a line that is not JSON' : '';
  for (let i = 0; i < lines.length; i++) {
    const problem = evaluationProblem(lines[i], writer, node);
    if (problem === null) {
      kept?.push(lines[i] as Evaluation);
      continue;
    }
    // Copy on the first bad line only: most notes are all good and keep their array.
    kept ??= lines.slice(0, i) as Evaluation[];
    ignored++;
    reason ||= problem;
  }
  return { kept: kept ?? (lines as Evaluation[]), ignored: ignored ? { count: ignored, reason } : null };
}

const KNOWN_OPERATORS = new Set(['root', 'mutate', 'llm', 'command', 'self', 'crossover', 'manual']);

/**
 * Why a node's commit trailers cannot be taken at their word, or null: a cost that is not a
 * non-negative number (a negative one would raise the budget), an operator evogit does not
 * know, or a writer trailer naming another writer than the branch's namespace.
 */
export function trailerProblem(trailers: Record<string, string>, branchWriter: string | null): string | null {
  const cost = trailers['Evogit-Cost'];
  if (cost !== undefined && !(Number.isFinite(Number(cost)) && Number(cost) >= 0 && cost.trim() !== '')) return `Evogit-Cost ${JSON.stringify(cost)} is not a non-negative number`;
  const op = trailers['Evogit-Operator'];
  if (op !== undefined && !KNOWN_OPERATORS.has(op)) return `unknown Evogit-Operator ${JSON.stringify(op)}`;
  const w = trailers['Evogit-Writer'];
  if (w !== undefined && branchWriter !== null && w !== branchWriter) return `Evogit-Writer ${JSON.stringify(w)} on a branch of ${branchWriter}`;
  return null;
}

/** Most tasks an Evogit-Targets trailer names; past that it says nothing useful. */
const MAX_TARGETS = 64;

/** The Evogit-Targets trailer's value: the task ids as a JSON array on one line. */
export function formatTargets(tasks: readonly string[]): string | undefined {
  const kept = tasks.filter((t) => t.length > 0 && t.length <= 1000).slice(0, MAX_TARGETS);
  return kept.length > 0 ? JSON.stringify(kept) : undefined;
}

/**
 * The tasks an Evogit-Targets trailer names, or undefined when it is missing or malformed. It
 * only orders a node's first runs, so another writer's odd value is dropped, not held against it.
 */
export function parseTargets(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > MAX_TARGETS) return undefined;
  return parsed.every((t): t is string => typeof t === 'string' && t.length > 0 && t.length <= 1000) ? parsed : undefined;
}

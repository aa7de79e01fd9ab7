/**
 * How long one task run may take: pure. With `test.timeout: auto` (the default) the limit is
 * derived from the root's measured run of the same task, as mutation-testing tools derive
 * theirs (Stryker: 1.5 × the baseline + 5 s), so a candidate that loops costs seconds, not
 * the two-minute ceiling. Until the root has been measured on the task, the ceiling applies.
 */
import type { Evaluation } from '../archive/types.js';
import { parseDuration, type Config } from '../config/index.js';

export interface TaskTimeout {
  /** The limit given to the runner (its own per-test or per-file timeout, where it has one). */
  ms: number;
  /** Where the limit came from, for the run's log and a timed-out run's reason. */
  basis: string;
}

/** The time the command of a run took: the sandbox's own measure, else the whole step's. */
export function runTimeOf(e: Pick<Evaluation, 'runMs' | 'durationMs'>): number {
  return e.runMs ?? e.durationMs;
}

/**
 * The root's measured run time of a task: the longest of its graded runs (an `error` says
 * nothing of the tests' speed), or null before any.
 */
export function measuredRunMs(rootRuns: readonly Evaluation[] | undefined, task: string): number | null {
  let longest: number | null = null;
  for (const e of rootRuns ?? []) {
    if (e.task !== task || e.outcome === 'error' || e.tampered) continue;
    const ms = runTimeOf(e);
    if (Number.isFinite(ms) && ms >= 0 && (longest === null || ms > longest)) longest = ms;
  }
  return longest;
}

const seconds = (ms: number): string => `${ms < 10_000 ? (ms / 1000).toFixed(1) : Math.round(ms / 1000)} s`;

/** The limit of a run of `task`, from the config and (for `auto`) the root's measured run. */
export function taskTimeout(test: Config['test'], rootRunMs: number | null): TaskTimeout {
  if (test.timeout !== 'auto') {
    const ms = parseDuration(test.timeout);
    return { ms, basis: `test.timeout ${seconds(ms)}` };
  }
  const { factor, plus, ceiling } = test.autoTimeout;
  const ceilingMs = parseDuration(ceiling);
  if (rootRunMs === null) return { ms: ceilingMs, basis: `the ceiling, ${seconds(ceilingMs)}: the root has not run this task yet` };
  const derived = Math.round(factor * rootRunMs + parseDuration(plus));
  if (derived >= ceilingMs) return { ms: ceilingMs, basis: `the ceiling, ${seconds(ceilingMs)} (${factor} × the root's ${seconds(rootRunMs)} + ${seconds(parseDuration(plus))} is more)` };
  return { ms: derived, basis: `${seconds(derived)} = ${factor} × the root's ${seconds(rootRunMs)} + ${seconds(parseDuration(plus))}` };
}

/**
 * The sandbox's own kill comes this long after the runner's timeout, so a runner that honours
 * its timeout ends first and still writes its report (the tests it ran are graded); the kill
 * is for a runner stuck where its own timer cannot fire (a loop that never yields).
 */
export function killGraceMs(timeoutMs: number): number {
  return Math.round(Math.min(10_000, Math.max(2_000, timeoutMs * 0.1)));
}

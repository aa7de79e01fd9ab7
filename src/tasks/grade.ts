/**
 * Grading one task run: pure. The runner's parsed results must agree with its exit code, a
 * named test that did not run counts as failed, and a metric objective is gated by the tests.
 */
import type { Outcome, TestCounts } from '../archive/types.js';
import type { Grading, ResultFormat } from './types.js';
import type { ParsedResults, TestStatus } from './parsers.js';

export interface Objective {
  metric: string;
  direction: 'minimize' | 'maximize';
  margin: number;
}

export interface GradeInput {
  grading: Grading;
  format: ResultFormat;
  exitCode: number | null;
  timedOut: boolean;
  oomKilled?: boolean;
  /** null when the result file was missing or unparseable. */
  parsed: ParsedResults | null;
  metrics?: Record<string, number>;
  objective?: Objective;
  /** The root's metrics, for the objective. */
  baseline?: Record<string, number>;
}

export interface Grade {
  outcome: Exclude<Outcome, 'error'>;
  reason: string;
  tests?: TestCounts;
  testResults?: Record<string, TestStatus>;
}

/** Find a named test among the results: exact id, or an id that ends with it after a separator. */
export function lookupTest(tests: Record<string, TestStatus>, name: string): TestStatus | undefined {
  if (name in tests) return tests[name];
  const hits = Object.keys(tests).filter((id) => id.endsWith(`.${name}`) || id.endsWith(` > ${name}`) || id.endsWith(`::${name}`));
  if (hits.length === 0) return undefined;
  // Ambiguous suffixes: every match must pass.
  return hits.some((id) => tests[id] === 'fail') ? 'fail' : hits.every((id) => tests[id] === 'skip') ? 'skip' : 'pass';
}

function objectiveMet(o: Objective, metrics: Record<string, number> | undefined, baseline: Record<string, number> | undefined): { ok: boolean; why: string } {
  const value = metrics?.[o.metric];
  if (value === undefined) return { ok: false, why: `metric ${o.metric} was not reported` };
  const base = baseline?.[o.metric];
  if (base === undefined) return { ok: true, why: `metric ${o.metric}=${value} (no baseline yet)` };
  const bound = o.direction === 'minimize' ? base * (1 - o.margin) : base * (1 + o.margin);
  const ok = o.direction === 'minimize' ? value <= bound : value >= bound;
  return { ok, why: `metric ${o.metric}=${value} ${ok ? 'beats' : 'does not beat'} ${bound} (root ${base}, ${o.direction}, margin ${o.margin})` };
}

export function grade(input: GradeInput): Grade {
  const { parsed } = input;
  const base = parsed ? { tests: parsed.counts, testResults: parsed.tests } : {};
  const fail = (reason: string): Grade => ({ outcome: 'fail', reason, ...base });
  if (input.timedOut) return fail('killed at the wall-clock timeout');
  if (input.oomKilled) return fail('killed for exceeding the memory limit');
  if (input.format !== 'none' && !parsed) return fail('the runner wrote no readable result file');
  let why: string;
  if (input.grading.kind === 'exit-code') {
    if (input.exitCode !== 0) return fail(`exited with ${input.exitCode}`);
    if (parsed) {
      if (parsed.counts.failed > 0) return fail(`exit code 0 but ${parsed.counts.failed} test(s) failed in the results: they disagree`);
      if (parsed.counts.total === 0) return fail('the results list no test');
    }
    why = parsed ? `${parsed.counts.passed} test(s) passed, exit code 0` : 'exit code 0';
  } else {
    if (!parsed) return fail('test grading needs per-test results (set test.format)');
    const missing: string[] = [];
    const failed: string[] = [];
    for (const name of [...input.grading.failToPass, ...input.grading.passToPass]) {
      const status = lookupTest(parsed.tests, name);
      if (status === undefined) missing.push(name);
      else if (status !== 'pass') failed.push(name);
    }
    if (missing.length) return fail(`did not run: ${missing.slice(0, 5).join(', ')}`);
    if (failed.length) return fail(`failed: ${failed.slice(0, 5).join(', ')}`);
    // A non-zero exit with nothing failing means the runner died part-way (or was told to lie).
    if (input.exitCode !== 0 && parsed.counts.failed === 0) return fail(`exited with ${input.exitCode} while its results show no failure: they disagree`);
    why = `${input.grading.failToPass.length} FAIL_TO_PASS and ${input.grading.passToPass.length} PASS_TO_PASS test(s) pass`;
  }
  if (input.objective) {
    const o = objectiveMet(input.objective, input.metrics, input.baseline);
    if (!o.ok) return fail(o.why);
    why += `; ${o.why}`;
  }
  return { outcome: 'pass', reason: why, ...base };
}

/**
 * Grading one task run: pure. The runner's parsed results must agree with its exit code, a
 * named test that did not run counts as failed, and a metric objective is gated by the tests.
 */
import type { Outcome, TestCounts } from '../archive/types.js';
import type { Grading, ResultFormat } from './types.js';
import { countsOf, type ParsedResults, type TestStatus } from './parsers.js';

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
  /** The run's canary tests (sandbox/canary.ts): one must pass, one must fail. */
  canaries?: { pass: string; fail: string };
  /** The tests the root's run of this task named, with their outcome there: each must run here. */
  rootTests?: Record<string, TestStatus>;
  /** The task's test files (to tell a file-level result of the root's run from a test). */
  testFiles?: string[];
  /**
   * How many tests the task runs (the most the root's graded runs of it reported): a failing
   * run's counts are completed to it, the tests that did not run counted failed.
   */
  taskTests?: number;
}

export interface Grade {
  outcome: Exclude<Outcome, 'error'>;
  reason: string;
  /** The run shows signs of tampering with the grading (canaries): never chosen, like a protected-path change. */
  tampered?: boolean;
  tests?: TestCounts;
  testResults?: Record<string, TestStatus>;
}

/**
 * A test id as SWE-bench's harness writes it, in the form evogit's parsers give: Django's
 * `test_name (module.Class)` and `test_name (module.Class.test_name)` are `module.Class.test_name`.
 */
export function normalizeTestId(name: string): string {
  const django = /^(\S+) \(([\w.]+)\)$/.exec(name);
  if (!django) return name;
  const [, test, where] = django as unknown as [string, string, string];
  return where.endsWith(`.${test}`) ? where : `${where}.${test}`;
}

/**
 * Find a named test among the results: exact id (pytest node ids as SWE-bench lists them), the
 * Django form, or an id that ends with it after a separator (`.`, ` > `, `::`, or a path's `/`:
 * a node id of a run started in a subfolder); sympy's bare `test_name` is such a suffix.
 */
export function lookupTest(tests: Record<string, TestStatus>, raw: string): TestStatus | undefined {
  if (raw in tests) return tests[raw];
  const name = normalizeTestId(raw);
  if (name in tests) return tests[name];
  const hits = Object.keys(tests).filter((id) => id.endsWith(`.${name}`) || id.endsWith(` > ${name}`) || id.endsWith(`::${name}`) || id.endsWith(`/${name}`) || (name.includes('::') && name.endsWith(`/${id}`)));
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

/**
 * The canaries' verdict. The must-fail canary passing, or both missing while nothing failed
 * (the process ended early, or the report was rewritten), is tampering; missing after a
 * failure (a crash) or a broken must-pass canary is a plain failure. With both right, the
 * runner exited 1 for the must-fail canary: an exit 0 was forged, and an exit 1 with no other
 * failure is a clean exit. Returns the results without the canaries and that exit status.
 */
export function canaryRule(parsed: ParsedResults, canaries: { pass: string; fail: string }, exitCode: number | null): { verdict: Grade | null; results: ParsedResults; exitCode: number | null } {
  const pass = lookupTest(parsed.tests, canaries.pass);
  const must = lookupTest(parsed.tests, canaries.fail);
  const results = withoutCanaries(parsed, canaries);
  const base = { tests: results.counts, testResults: results.tests };
  const verdict = (reason: string, tampered = false) => ({ verdict: { outcome: 'fail' as const, reason, ...(tampered ? { tampered } : {}), ...base }, results, exitCode });
  if (must === 'pass' || must === 'skip') return verdict(`the must-fail canary test ${must === 'pass' ? 'passed' : 'was skipped'}: the assertions or the report were tampered with`, true);
  if (pass === undefined || must === undefined) {
    if (results.counts.failed === 0) return verdict('the report lacks the canary tests: the test process ended early, or its report was rewritten', true);
    return verdict('the test process ended before the canary tests ran');
  }
  if (pass !== 'pass') return verdict('the must-pass canary test failed: the assertions are broken in the test process');
  if (exitCode === 0) return verdict('the runner exited 0 although the must-fail canary test failed: the exit status was forged', true);
  return { verdict: null, results, exitCode: exitCode === 1 && results.counts.failed === 0 ? 0 : exitCode };
}

/** The results without the canary tests (they are the grader's, not evidence about the candidate). */
export function withoutCanaries(parsed: ParsedResults, canaries: { pass: string; fail: string }): ParsedResults {
  const isCanary = (id: string) => [canaries.pass, canaries.fail].some((c) => id === c || id.endsWith(`.${c}`) || id.endsWith(` > ${c}`) || id.endsWith(`::${c}`));
  const tests = Object.fromEntries(Object.entries(parsed.tests).filter(([id]) => !isCanary(id)));
  return { tests, counts: countsOf(tests) };
}

/** A result of the root's run that stands for a file, not a test (a file that did not load, a bail-out): not expected again. */
function isFileLevel(id: string, files: string[]): boolean {
  if (/\((load|import|bail out)\)$/.test(id)) return true;
  return files.some((f) => id === f || id.endsWith(`/${f}`) || id === f.replace(/\.py$/, '').split('/').join('.'));
}

/**
 * Tests the root's run named (passed or failed there) that did not run and pass here: missing
 * (a test that did not run failed) or skipped (a candidate that makes the failing tests skip
 * themselves has not fixed them). Tests the root skipped, and the root's file-level failures,
 * are not expected.
 */
export function missingRootTests(results: ParsedResults, rootTests: Record<string, TestStatus>, files: string[]): { missing: string[]; skipped: string[] } {
  const missing: string[] = [];
  const skipped: string[] = [];
  for (const [id, status] of Object.entries(rootTests)) {
    if (status === 'skip' || (status === 'fail' && isFileLevel(id, files))) continue;
    const now = lookupTest(results.tests, id);
    if (now === undefined) missing.push(id);
    else if (now === 'skip') skipped.push(id);
  }
  return { missing, skipped };
}

/**
 * Did the runner crash rather than report? Its report says so (pytest's internal error), or a
 * signal ended it (a segfault, an abort: exit 128+n). Then its results are only what provably
 * ran before the crash: the tests it reported, every other test of the task failed.
 */
export function runnerCrash(input: Pick<GradeInput, 'exitCode' | 'parsed' | 'timedOut' | 'oomKilled'>): string | null {
  if (input.parsed?.crashed) return `${input.parsed.crashed} (exit ${input.exitCode})`;
  if (!input.timedOut && !input.oomKilled && input.exitCode !== null && input.exitCode >= 128) return `the runner was killed by signal ${input.exitCode - 128} (exit ${input.exitCode})`;
  return null;
}

/**
 * A failing run's counts completed to the task's test count: tests it did not report (it
 * crashed, timed out, stopped at the first failure) are failed, so totals always equal the
 * task's test count and a run that ended early never looks better than one that ran them all.
 */
export function completedCounts(counts: TestCounts, taskTests: number | undefined): { counts: TestCounts; missing: number } {
  const missing = Math.max(0, (taskTests ?? 0) - counts.total);
  if (missing === 0) return { counts, missing };
  return { counts: { ...counts, failed: counts.failed + missing, total: counts.total + missing }, missing };
}

export function grade(input: GradeInput): Grade {
  const crash = runnerCrash(input);
  const graded = gradeRun(input, crash);
  if (graded.outcome === 'pass' || graded.tampered || !graded.tests) return graded;
  const { counts, missing } = completedCounts(graded.tests, input.taskTests);
  const ran = crash ? `; graded from what ran before the crash: ${counts.passed} of ${counts.total} test(s) passed, every other one failed` : missing ? `; ${missing} test(s) of the task's ${counts.total} did not run (counted failed)` : '';
  return { ...graded, reason: graded.reason + ran, tests: counts };
}

function gradeRun(input: GradeInput, crash: string | null): Grade {
  let parsed = input.parsed && input.canaries ? withoutCanaries(input.parsed, input.canaries) : input.parsed;
  let exitCode = input.exitCode;
  const failWith = (reason: string): Grade => ({ outcome: 'fail', reason, ...(parsed ? { tests: parsed.counts, testResults: parsed.tests } : {}) });
  if (input.timedOut) return failWith('killed at the wall-clock timeout');
  if (input.oomKilled) return failWith('killed for exceeding the memory limit');
  if (input.format !== 'none' && !parsed) return failWith('the runner wrote no readable result file');
  if (input.canaries && input.parsed) {
    const c = canaryRule(input.parsed, input.canaries, exitCode);
    // A crash that ended the process before the canaries ran is reported as the crash.
    if (c.verdict) return crash && !c.verdict.tampered ? { ...c.verdict, reason: `the runner crashed: ${crash}` } : c.verdict;
    parsed = c.results;
    exitCode = c.exitCode;
  }
  if (crash) return failWith(`the runner crashed: ${crash}`);
  if (input.rootTests && parsed) {
    const { missing, skipped } = missingRootTests(parsed, input.rootTests, input.testFiles ?? []);
    if (missing.length) return failWith(`${missing.length} test(s) the root's run named did not run: ${missing.slice(0, 5).join(', ')}`);
    if (skipped.length) return failWith(`${skipped.length} test(s) the root's run ran were skipped: ${skipped.slice(0, 5).join(', ')}`);
  }
  const base = parsed ? { tests: parsed.counts, testResults: parsed.tests } : {};
  const fail = (reason: string): Grade => ({ outcome: 'fail', reason, ...base });
  let why: string;
  if (input.grading.kind === 'exit-code') {
    if (exitCode !== 0) return fail(`exited with ${exitCode}`);
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
    if (exitCode !== 0 && parsed.counts.failed === 0) return fail(`exited with ${exitCode} while its results show no failure: they disagree`);
    why = `${input.grading.failToPass.length} FAIL_TO_PASS and ${input.grading.passToPass.length} PASS_TO_PASS test(s) pass`;
  }
  if (input.objective) {
    const o = objectiveMet(input.objective, input.metrics, input.baseline);
    if (!o.ok) return fail(o.why);
    why += `; ${o.why}`;
  }
  return { outcome: 'pass', reason: why, ...base };
}

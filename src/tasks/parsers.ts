/**
 * Parsers of test runners' machine-readable results: JUnit XML, TAP, vitest/jest JSON,
 * pytest `-rA` summaries. Pure: text in, per-test outcomes out. evogit feeds them the
 * runner's result file, never the candidate's stdout, so printed "ok"/"PASSED" lines do not count.
 */
import type { TestCounts } from '../archive/types.js';
import type { ResultFormat } from './types.js';

export type TestStatus = 'pass' | 'fail' | 'skip';

export interface ParsedResults {
  tests: Record<string, TestStatus>;
  counts: TestCounts;
}

export function countsOf(tests: Record<string, TestStatus>): TestCounts {
  const c = { passed: 0, failed: 0, skipped: 0, total: 0 };
  for (const s of Object.values(tests)) {
    c.total++;
    if (s === 'pass') c.passed++;
    else if (s === 'fail') c.failed++;
    else c.skipped++;
  }
  return c;
}

function record(tests: Record<string, TestStatus>, id: string, status: TestStatus): void {
  let key = id;
  for (let n = 2; key in tests; n++) key = `${id} #${n}`;
  tests[key] = status;
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi, (_, e: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };
    if (e in named) return named[e]!;
    return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(tag);
  return m ? unescapeXml(m[2] ?? m[3] ?? '') : undefined;
}

/** JUnit XML (pytest --junitxml, node's junit reporter, the unittest harness). Id: `classname.name`. */
export function parseJUnit(xml: string): ParsedResults {
  const tests: Record<string, TestStatus> = {};
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const open = m[1]!;
    const body = m[3] ?? '';
    const name = attr(open, 'name') ?? '(unnamed)';
    const classname = attr(open, 'classname');
    const id = classname ? `${classname}.${name}` : name;
    const status: TestStatus = /<(failure|error)\b/.test(body) ? 'fail' : /<skipped\b/.test(body) ? 'skip' : 'pass';
    record(tests, id, status);
  }
  return { tests, counts: countsOf(tests) };
}

/**
 * TAP 13/14, including node --test's nested subtests (`# Subtest: name`, 4-space indents).
 * Id: the names from the outermost suite down, joined with ` > `. Suites count only when
 * they fail without a failing child (a hook or the file itself failed).
 */
export function parseTap(text: string): ParsedResults {
  const tests: Record<string, TestStatus> = {};
  const names: string[] = [];
  const hasChildren: boolean[] = [];
  const failedChild: boolean[] = [];
  let bailed = false;
  for (const raw of text.split(/\r?\n/)) {
    const indent = /^ */.exec(raw)![0].length;
    const depth = Math.floor(indent / 4);
    const line = raw.trim();
    const sub = /^# Subtest: (.*)$/.exec(line);
    if (sub) {
      names[depth] = sub[1]!;
      names.length = depth + 1;
      hasChildren[depth] = false;
      failedChild[depth] = false;
      continue;
    }
    if (/^Bail out!/i.test(line)) bailed = true;
    const m = /^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*?)(?:\s+#\s*(SKIP|TODO)\b.*)?$/i.exec(line);
    if (!m) continue;
    const ok = m[1]!.toLowerCase() === 'ok';
    const directive = (m[4] ?? '').toUpperCase();
    const name = (m[3] ?? '').replace(/\\#/g, '#') || `test ${m[2] ?? '?'}`;
    if (names[depth] !== name) {
      names[depth] = name;
      hasChildren[depth] = false;
      failedChild[depth] = false;
    }
    names.length = depth + 1;
    if (depth > 0) {
      hasChildren[depth - 1] = true;
      if (!ok && directive !== 'TODO') failedChild[depth - 1] = true;
    }
    const status: TestStatus = directive === 'SKIP' ? 'skip' : ok || directive === 'TODO' ? 'pass' : 'fail';
    const isSuite = hasChildren[depth] === true;
    if (!isSuite || (status === 'fail' && !failedChild[depth])) record(tests, names.slice(0, depth + 1).join(' > '), status);
    if (depth > 0 && status === 'fail') failedChild[depth - 1] = true;
  }
  if (bailed) record(tests, '(bail out)', 'fail');
  return { tests, counts: countsOf(tests) };
}

interface JsonAssertion {
  fullName?: string;
  title?: string;
  ancestorTitles?: string[];
  status?: string;
}
interface JsonFile {
  name?: string;
  status?: string;
  message?: string;
  assertionResults?: JsonAssertion[];
}

/** vitest `--reporter=json` and jest `--json` (the same shape). Id: ancestor titles and title joined with ` > `. */
export function parseJestJson(text: string): ParsedResults {
  const data = JSON.parse(text) as { testResults?: JsonFile[] };
  const tests: Record<string, TestStatus> = {};
  for (const file of data.testResults ?? []) {
    const cases = file.assertionResults ?? [];
    for (const a of cases) {
      const id = a.ancestorTitles && a.title !== undefined ? [...a.ancestorTitles, a.title].join(' > ') : (a.fullName ?? a.title ?? '(unnamed)');
      const status: TestStatus = a.status === 'passed' ? 'pass' : a.status === 'failed' ? 'fail' : 'skip';
      record(tests, id, status);
    }
    // A file that failed to load has no assertions: it is a failure of its own.
    if (cases.length === 0 && file.status === 'failed') record(tests, `${file.name ?? 'file'} (load)`, 'fail');
  }
  return { tests, counts: countsOf(tests) };
}

/** pytest `-rA` short summary lines: `PASSED tests/test_x.py::test_a`. Id: the node id. */
export function parsePytest(text: string): ParsedResults {
  const tests: Record<string, TestStatus> = {};
  const start = text.search(/^=+ short test summary info =+$/m);
  const summary = start >= 0 ? text.slice(start) : '';
  for (const line of summary.split(/\r?\n/)) {
    const m = /^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\s+(\S+)/.exec(line);
    if (!m) continue;
    const word = m[1]!;
    const status: TestStatus = word === 'PASSED' || word === 'XFAIL' ? 'pass' : word === 'SKIPPED' ? 'skip' : 'fail';
    // SKIPPED lines look like `SKIPPED [1] tests/x.py:3: reason`.
    const id = word === 'SKIPPED' ? (/\]\s+(\S+?):\d+/.exec(line)?.[1] ?? m[2]!) : m[2]!;
    record(tests, id, status);
  }
  return { tests, counts: countsOf(tests) };
}

/** Parse by format; null for 'none' or an unparseable file. */
export function parseResults(format: ResultFormat, text: string): ParsedResults | null {
  try {
    switch (format) {
      case 'junit':
        return parseJUnit(text);
      case 'tap':
        return parseTap(text);
      case 'vitest-json':
      case 'jest-json':
        return parseJestJson(text);
      case 'pytest':
        return parsePytest(text);
      case 'none':
        return null;
    }
  } catch {
    // A corrupt or truncated result file grades as "no results", which fails the run.
    return null;
  }
}

/** The last `{"evogit_metrics": {...}}` object printed, numbers only. */
export function extractMetrics(output: string): Record<string, number> | undefined {
  const re = /\{\s*"evogit_metrics"\s*:\s*\{[^{}]*\}\s*\}/g;
  let found: Record<string, number> | undefined;
  for (const m of output.match(re) ?? []) {
    try {
      const parsed = JSON.parse(m) as { evogit_metrics: Record<string, unknown> };
      const metrics: Record<string, number> = {};
      for (const [k, v] of Object.entries(parsed.evogit_metrics)) if (typeof v === 'number' && Number.isFinite(v)) metrics[k] = v;
      found = metrics;
    } catch {
      // Not JSON after all (a lookalike in a log line): keep the previous match.
      continue;
    }
  }
  return found;
}

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
  /** The report itself says the runner crashed (an internal error): see grade()'s crash rule. */
  crashed?: string;
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

/**
 * pytest's node id from an xunit1 testcase (`file="tests/test_x.py" classname="tests.test_x.TestA"
 * name="test_b[1]"` → `tests/test_x.py::TestA::test_b[1]`), the id SWE-bench's lists use.
 */
function pytestNodeId(file: string, classname: string, name: string): string {
  const stem = file.replace(/\.py$/, '').split('/');
  const parts = classname ? classname.split('.') : [];
  let at = -1;
  if (stem.every((s, i) => parts[i] === s)) at = stem.length;
  else {
    const i = parts.lastIndexOf(stem[stem.length - 1]!);
    if (i >= 0) at = i + 1;
  }
  const classes = at >= 0 ? parts.slice(at) : [];
  return [file, ...classes, name].join('::');
}

/**
 * JUnit XML (pytest --junitxml, Catch, the JUnit console launcher, the unittest harness). Id:
 * `classname.name`; pytest's xunit1 report (it names each test's file) gives pytest's node id.
 * A testcase with no name, or pytest's `internal` entry, is not a test: it is the runner
 * reporting its own crash (`crashed`).
 */
export function parseJUnit(xml: string): ParsedResults {
  const tests: Record<string, TestStatus> = {};
  let crashed: string | undefined;
  // Attribute values may hold a raw '>' (Catch writes test names like "a -> b" unescaped).
  const re = /<testcase\b((?:[^>"']|"[^"]*"|'[^']*')*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const open = m[1]!;
    const body = m[3] ?? '';
    const name = attr(open, 'name');
    const classname = attr(open, 'classname');
    if (!name || (classname === 'pytest' && name === 'internal')) {
      crashed = name ? 'the runner reported an internal error' : 'the runner reported a test case with no name';
      continue;
    }
    const status: TestStatus = /<(failure|error)\b/.test(body) ? 'fail' : /<skipped\b/.test(body) ? 'skip' : 'pass';
    const file = attr(open, 'file');
    if (file?.endsWith('.py')) {
      // A node id is unique: a second entry is the same test's teardown, and a failure wins.
      const id = pytestNodeId(file, classname ?? '', name);
      if (tests[id] === undefined || status === 'fail') tests[id] = status;
      continue;
    }
    record(tests, classname ? `${classname}.${name}` : name, status);
  }
  return { tests, counts: countsOf(tests), ...(crashed ? { crashed } : {}) };
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

/** The JSON object on each line that is one; other lines (a build's own output) are passed over. */
function jsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith('{')) continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) out.push(v as Record<string, unknown>);
    } catch {
      // A line that only looks like JSON (cut at the output cap): not an event.
      continue;
    }
  }
  return out;
}

/**
 * Tests that started and never reported an outcome (the process died in them) fail; a parent
 * whose subtests reported counts only when it failed with no failing subtest (pure helper).
 */
function settle(order: string[], status: Map<string, TestStatus | 'started'>, separator: string): ParsedResults {
  const tests: Record<string, TestStatus> = {};
  const names = [...new Set(order)];
  for (const name of names) {
    const s = status.get(name);
    const st: TestStatus = s === 'started' || s === undefined ? 'fail' : s;
    const children = names.filter((n) => n.startsWith(`${name}${separator}`));
    if (children.length && (st !== 'fail' || children.some((c) => status.get(c) === 'fail' || status.get(c) === 'started'))) continue;
    tests[name] = st;
  }
  return { tests, counts: countsOf(tests) };
}

/** `go test -json` (test2json events). Id: the test name, subtests as `TestX/case`. */
export function parseGoJson(text: string): ParsedResults {
  const status = new Map<string, TestStatus | 'started'>();
  const order: string[] = [];
  const packageFailed = new Set<string>();
  const packagesWithTests = new Set<string>();
  for (const e of jsonLines(text)) {
    const action = String(e.Action ?? '');
    const pkg = String(e.Package ?? '');
    if (typeof e.Test !== 'string') {
      if (action === 'fail' && pkg) packageFailed.add(pkg);
      continue;
    }
    packagesWithTests.add(pkg);
    const name = e.Test;
    if (action === 'run') {
      order.push(name);
      if (!status.has(name)) status.set(name, 'started');
    } else if (action === 'pass' || action === 'fail' || action === 'skip') {
      order.push(name);
      status.set(name, action === 'pass' ? 'pass' : action === 'fail' ? 'fail' : 'skip');
    }
  }
  const parsed = settle(order, status, '/');
  // A package that failed before any test ran (it does not build): a failure of its own.
  for (const pkg of packageFailed) if (!packagesWithTests.has(pkg)) record(parsed.tests, `${pkg} (build)`, 'fail');
  return { tests: parsed.tests, counts: countsOf(parsed.tests) };
}

/** Rust libtest `--format json` events (cargo test, every test binary). Id: the test's path. */
export function parseLibtestJson(text: string): ParsedResults {
  const tests: Record<string, TestStatus> = {};
  let started = new Map<string, boolean>();
  const flush = (): void => {
    // The binary ended (or the next began) with tests that never finished: they died.
    for (const [name, done] of started) if (!done) record(tests, name, 'fail');
    started = new Map();
  };
  for (const e of jsonLines(text)) {
    if (e.type === 'suite' && e.event === 'started') flush();
    if (e.type !== 'test' || typeof e.name !== 'string') continue;
    if (e.event === 'started') {
      started.set(e.name, false);
      continue;
    }
    const status: TestStatus | null = e.event === 'ok' ? 'pass' : e.event === 'failed' ? 'fail' : e.event === 'ignored' ? 'skip' : null;
    if (!status) continue;
    started.set(e.name, true);
    record(tests, e.name, status);
  }
  flush();
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
      case 'go-json':
        return parseGoJson(text);
      case 'libtest-json':
        return parseLibtestJson(text);
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

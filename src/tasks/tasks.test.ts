import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/index.js';
import { extractMetrics, parseJestJson, parseJUnit, parsePytest, parseResults, parseTap } from './parsers.js';
import { grade, lookupTest } from './grade.js';
import { globToRegExp, matchesAny } from './glob.js';
import { RESULTS_TOKEN, TIMEOUT_MS_TOKEN, fillCommand, runnerHasTimeout, runnerOf, selectTestFiles, tasksFromFiles, testCommand } from './discover.js';
import { manifestFiles } from './manifests.js';
import { protectedPatterns, tamperedPaths } from './protect.js';
import { parseLsTree } from '../git/reads.js';

// Captured from node v20 `node --test --test-reporter=tap` with a nested describe and a print.
const NODE_TAP = `TAP version 13
# ok 1 - printed by the test file
# Subtest: math
    # Subtest: adds
    ok 1 - adds
      ---
      duration_ms: 0.4
      ...
    # Subtest: subtracts
    not ok 2 - subtracts
      ---
      error: 'boom'
      ...
    # Subtest: later
    ok 3 - later # SKIP not yet
    1..3
not ok 1 - math
  ---
  duration_ms: 2
  ...
# Subtest: top level
ok 2 - top level
1..2
# tests 4
`;

describe('parsers', () => {
  it('reads node TAP with nested subtests and ignores printed (commented) ok lines', () => {
    const r = parseTap(NODE_TAP);
    expect(r.tests).toEqual({ 'math > adds': 'pass', 'math > subtracts': 'fail', 'math > later': 'skip', 'top level': 'pass' });
    expect(r.counts).toEqual({ passed: 2, failed: 1, skipped: 1, total: 4 });
  });

  it('counts a suite that fails with no failing child (a hook) and a bail out', () => {
    const r = parseTap('# Subtest: s\n    # Subtest: a\n    ok 1 - a\nnot ok 1 - s\nBail out! gone\n');
    expect(r.tests).toEqual({ 's > a': 'pass', s: 'fail', '(bail out)': 'fail' });
  });

  it('reads JUnit XML from pytest and the unittest harness', () => {
    const xml = `<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="3">
      <testcase classname="tests.test_x" name="test_ok" time="0.1"/>
      <testcase classname="tests.test_x" name="test_&lt;bad&gt;" time="0.1"><failure message="x">trace</failure></testcase>
      <testcase classname="tests.test_x" name="test_skip"><skipped message="later"/></testcase>
      <testcase classname="tests.test_x" name="test_err"><error message="e"/></testcase></testsuite></testsuites>`;
    expect(parseJUnit(xml).tests).toEqual({
      'tests.test_x.test_ok': 'pass',
      'tests.test_x.test_<bad>': 'fail',
      'tests.test_x.test_skip': 'skip',
      'tests.test_x.test_err': 'fail',
    });
  });

  it('reads vitest/jest JSON, including a file that failed to load', () => {
    const json = JSON.stringify({
      numFailedTests: 1,
      testResults: [
        { name: '/w/a.test.ts', status: 'failed', assertionResults: [
          { ancestorTitles: ['calc'], title: 'adds', status: 'passed' },
          { ancestorTitles: ['calc'], title: 'divides', status: 'failed' },
          { ancestorTitles: [], title: 'todo', status: 'pending' },
        ] },
        { name: '/w/b.test.ts', status: 'failed', message: 'SyntaxError', assertionResults: [] },
      ],
    });
    expect(parseJestJson(json).tests).toEqual({ 'calc > adds': 'pass', 'calc > divides': 'fail', todo: 'skip', '/w/b.test.ts (load)': 'fail' });
  });

  it('reads only the pytest -rA summary, not lines printed before it', () => {
    const out = `PASSED tests/test_x.py::test_forged
============ short test summary info ============
PASSED tests/test_x.py::test_a
FAILED tests/test_x.py::test_b - assert 1 == 2
SKIPPED [1] tests/test_x.py:9: no network
ERROR tests/test_y.py::test_c
======= 1 failed, 1 passed in 0.1s =======`;
    expect(parsePytest(out).tests).toEqual({
      'tests/test_x.py::test_a': 'pass',
      'tests/test_x.py::test_b': 'fail',
      'tests/test_x.py': 'skip',
      'tests/test_y.py::test_c': 'fail',
    });
  });

  it('returns null for a corrupt result file instead of throwing', () => {
    expect(parseResults('vitest-json', '{"testResults": [')).toBeNull();
    expect(parseResults('none', 'anything')).toBeNull();
  });

  it('extracts the last evogit_metrics object, numbers only', () => {
    expect(extractMetrics('x {"evogit_metrics": {"t": 1}}\n{"evogit_metrics": {"t": 2.5, "name": "s"}}\n')).toEqual({ t: 2.5 });
    expect(extractMetrics('nothing')).toBeUndefined();
  });
});

describe('grade', () => {
  const parsed = (tests: Record<string, 'pass' | 'fail' | 'skip'>) => parseResults('junit', Object.entries(tests).map(([n, s]) => `<testcase name="${n}">${s === 'fail' ? '<failure/>' : s === 'skip' ? '<skipped/>' : ''}</testcase>`).join(''));
  const exit = { kind: 'exit-code' as const };

  it('passes only when the exit code and the results agree', () => {
    expect(grade({ grading: exit, format: 'junit', exitCode: 0, timedOut: false, parsed: parsed({ a: 'pass' }) }).outcome).toBe('pass');
    expect(grade({ grading: exit, format: 'junit', exitCode: 1, timedOut: false, parsed: parsed({ a: 'pass' }) }).outcome).toBe('fail');
    expect(grade({ grading: exit, format: 'junit', exitCode: 0, timedOut: false, parsed: parsed({ a: 'fail' }) }).reason).toMatch(/disagree/);
    expect(grade({ grading: exit, format: 'junit', exitCode: 0, timedOut: false, parsed: null }).reason).toMatch(/no readable result/);
    expect(grade({ grading: exit, format: 'junit', exitCode: 0, timedOut: false, parsed: parsed({}) }).reason).toMatch(/no test/);
    expect(grade({ grading: exit, format: 'none', exitCode: 0, timedOut: false, parsed: null }).outcome).toBe('pass');
    expect(grade({ grading: exit, format: 'none', exitCode: 0, timedOut: true, parsed: null }).outcome).toBe('fail');
  });

  it('applies FAIL_TO_PASS / PASS_TO_PASS; a named test that did not run fails', () => {
    const g = { kind: 'tests' as const, failToPass: ['t1'], passToPass: ['t2'] };
    expect(grade({ grading: g, format: 'junit', exitCode: 1, timedOut: false, parsed: parsed({ t1: 'pass', t2: 'pass', other: 'fail' }) }).outcome).toBe('pass');
    expect(grade({ grading: g, format: 'junit', exitCode: 0, timedOut: false, parsed: parsed({ t1: 'pass' }) }).reason).toMatch(/did not run: t2/);
    expect(grade({ grading: g, format: 'junit', exitCode: 0, timedOut: false, parsed: parsed({ t1: 'skip', t2: 'pass' }) }).reason).toMatch(/failed: t1/);
    expect(grade({ grading: g, format: 'junit', exitCode: 137, timedOut: false, parsed: parsed({ t1: 'pass', t2: 'pass' }) }).reason).toMatch(/the runner crashed: the runner was killed by signal 9 \(exit 137\)/);
  });

  it('gates a metric objective by the tests and the root baseline', () => {
    const objective = { metric: 'ms', direction: 'minimize' as const, margin: 0.1 };
    const ok = { grading: exit, format: 'none' as const, exitCode: 0, timedOut: false, parsed: null, objective };
    expect(grade({ ...ok, metrics: { ms: 80 }, baseline: { ms: 100 } }).outcome).toBe('pass');
    expect(grade({ ...ok, metrics: { ms: 95 }, baseline: { ms: 100 } }).outcome).toBe('fail');
    expect(grade({ ...ok, metrics: {} }).reason).toMatch(/not reported/);
    expect(grade({ ...ok, exitCode: 1, metrics: { ms: 1 }, baseline: { ms: 100 } }).outcome).toBe('fail');
  });

  it('looks tests up by exact id or by a suffix after a separator', () => {
    const t = { 'mod.Cls.test_a': 'pass', 'suite > b': 'fail', 'f.py::c': 'pass' } as const;
    expect(lookupTest(t, 'test_a')).toBe('pass');
    expect(lookupTest(t, 'b')).toBe('fail');
    expect(lookupTest(t, 'c')).toBe('pass');
    expect(lookupTest(t, 'est_a')).toBeUndefined();
  });
});

describe('globs, discovery and protection', () => {
  it('matches **, *, ? and braces; a directory pattern covers its contents', () => {
    expect(globToRegExp('**/*.test.{js,ts}').test('a/b/c.test.ts')).toBe(true);
    expect(globToRegExp('**/*.test.{js,ts}').test('c.test.js')).toBe(true);
    expect(globToRegExp('src/*.js').test('src/a/b.js')).toBe(false);
    expect(matchesAny('.github/workflows/ci.yml', ['.github'])).toBe(true);
    expect(matchesAny('test_a.py', ['test_?.py'])).toBe(true);
  });

  const files = ['package.json', 'src/a.js', 'src/a.test.js', 'test/b.test.mjs', 'node_modules/x/y.test.js', 'test/fixtures/z.test.js', 'vendor/d-1.tgz', 'requirements-dev.txt'];

  it('selects test files and builds one task per file with a fresh-result-path command', () => {
    expect(selectTestFiles(files, ['**/*.test.{js,mjs}'])).toEqual(['src/a.test.js', 'test/b.test.mjs']);
    const config = defaultConfig({ language: 'javascript', test: { command: 'node --test' } });
    const tasks = tasksFromFiles(files, config);
    expect(tasks.map((t) => t.id)).toEqual(['src/a.test.js', 'test/b.test.mjs']);
    expect(tasks[0]).toMatchObject({ hiddenFiles: ['src/a.test.js'], resultFormat: 'tap', resultFile: RESULTS_TOKEN });
    expect(tasks[0]!.command).toEqual(['node', '--test', `--test-timeout=${TIMEOUT_MS_TOKEN}`, '--test-reporter=tap', `--test-reporter-destination=${RESULTS_TOKEN}`, 'src/a.test.js']);
    // The run's result path and limit go in at run time.
    expect(fillCommand(tasks[0]!.command, { results: '/work/r.tap', timeoutMs: 5600 })).toEqual(['node', '--test', '--test-timeout=5600', '--test-reporter=tap', '--test-reporter-destination=/work/r.tap', 'src/a.test.js']);
    expect(runnerHasTimeout(tasks[0]!.command)).toBe(true);
    const pytest = tasksFromFiles(['t/test_a.py'], defaultConfig({ language: 'python', test: { command: 'python3 -m pytest' } }))[0]!.command;
    expect(fillCommand(pytest, { results: 'r.xml', timeoutMs: 5600 })).toContain('--evogit-timeout=5.6');
    expect(runnerHasTimeout(['make', 'check'])).toBe(false);
  });

  it('shards, single mode and custom commands', () => {
    const many = Array.from({ length: 5 }, (_, i) => `t/${i}.test.js`);
    const shards = tasksFromFiles(many, defaultConfig({ language: 'javascript', test: { command: 'npx vitest run', tasks: { mode: 'shards', shards: 2 } } }));
    expect(shards.map((t) => [t.id, t.hiddenFiles.length])).toEqual([['shard-1-of-2', 3], ['shard-2-of-2', 2]]);
    expect(shards[0]!.resultFormat).toBe('vitest-json');
    const single = tasksFromFiles(many, defaultConfig({ language: 'javascript', test: { command: 'make check' } }));
    expect(single).toHaveLength(1);
    expect(single[0]).toMatchObject({ id: 'all', command: ['/bin/sh', '-c', 'make check'], resultFormat: 'none', hiddenFiles: many });
    expect(testCommand('custom', ["it's.js"], 'run {files}')).toEqual(['/bin/sh', '-c', "run 'it'\\''s.js'"]);
  });

  it('knows runners from commands and manifests from paths', () => {
    expect(['npx vitest run', 'npx jest', 'python3 -m pytest -q', 'python3 -m unittest', 'node --test', 'cargo test'].map(runnerOf)).toEqual(['vitest', 'jest', 'pytest', 'unittest', 'node-test', 'custom']);
    expect(manifestFiles(files)).toEqual(['package.json', 'requirements-dev.txt', 'vendor/d-1.tgz']);
  });

  it('flags changes to tests, config, CI and configured globs', () => {
    const patterns = protectedPatterns(['secret/**'], [{ id: 't', hiddenFiles: ['test/b.test.mjs'], command: [], resultFormat: 'tap', grading: { kind: 'exit-code' } }]);
    expect(tamperedPaths(['src/a.js', 'test/b.test.mjs', 'evogit.yml', '.github/workflows/x.yml', 'secret/k', 'README.md'], patterns)).toEqual([
      'test/b.test.mjs',
      'evogit.yml',
      '.github/workflows/x.yml',
      'secret/k',
    ]);
  });

  it('parses ls-tree -z output', () => {
    expect([...parseLsTree('100644 blob abc\tsrc/a b.js\u0000100755 blob def\tx\u0000')]).toEqual([['src/a b.js', 'abc'], ['x', 'def']]);
  });
});

/**
 * Grading that a crash cannot fool, the user's command run with its own flags, and test ids as
 * SWE-bench writes them (pure).
 */
import { describe, expect, it } from 'vitest';
import { FILES_TOKEN, REPORT_FLAGS, RESULTS_TOKEN, runnerOf, shellWords, testCommand } from './command.js';
import { grade, lookupTest, normalizeTestId } from './grade.js';
import { parseGoJson, parseJUnit, parseLibtestJson } from './parsers.js';

// What pytest 7.2 wrote (junit_family=xunit1) for a session that ended in INTERNALERROR (exit 3)
// after test_2 lowered the recursion limit: 6 tests were collected; test_1 passed; the run died
// in test_2. The report holds a testcase with no name and pytest's own "internal" entry.
const INTERNAL_ERROR_XML =
  '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="0" skipped="0" tests="2" time="0.080">' +
  '<testcase classname="test_a" name="test_1" file="test_a.py" line="1" time="0.001" /><testcase time="0.000" />' +
  '<testcase classname="pytest" name="internal" time="0.000"><error message="internal error">INTERNALERROR&gt; RecursionError: maximum recursion depth exceeded</error></testcase></testsuite></testsuites>';

describe('a runner that crashed', () => {
  it('is graded from what provably ran: no phantom passes, the task\'s other tests failed, totals equal the task\'s count', () => {
    const parsed = parseJUnit(INTERNAL_ERROR_XML);
    // Before: "(unnamed)" passed and "pytest.internal" failed, 2 passed of 3.
    expect(parsed.tests).toEqual({ 'test_a.py::test_1': 'pass' });
    expect(parsed.crashed).toBe('the runner reported an internal error');
    const g = grade({ grading: { kind: 'exit-code' }, format: 'junit', exitCode: 3, timedOut: false, parsed, taskTests: 6 });
    expect(g.outcome).toBe('fail');
    expect(g.tests).toEqual({ passed: 1, failed: 5, skipped: 0, total: 6 });
    expect(g.reason).toBe('the runner crashed: the runner reported an internal error (exit 3); graded from what ran before the crash: 1 of 6 test(s) passed, every other one failed');
  });

  it('never grades above a clean run of the same tests: a crash that reported more passes still counts the task\'s total', () => {
    // The clean root: 1 of 6 passes. The crashed candidate reported 2 passes and stopped.
    const clean = grade({ grading: { kind: 'exit-code' }, format: 'junit', exitCode: 1, timedOut: false, parsed: parseJUnit(junit({ a: 'pass', b: 'fail', c: 'fail', d: 'fail', e: 'fail', f: 'fail' })), taskTests: 6 });
    const crashed = grade({ grading: { kind: 'exit-code' }, format: 'junit', exitCode: 139, timedOut: false, parsed: parseJUnit(junit({ a: 'pass', b: 'pass' })), taskTests: 6 });
    expect(clean.tests?.total).toBe(6);
    expect(crashed.tests?.total).toBe(6);
    expect(crashed.reason).toMatch(/^the runner crashed: the runner was killed by signal 11 \(exit 139\)/);
    // A SWE task: its named tests that did not run fail, whatever passed before the crash.
    const f2p = grade({ grading: { kind: 'tests', failToPass: ['t.py::a'], passToPass: ['t.py::c'] }, format: 'junit', exitCode: 3, timedOut: false, parsed: parseJUnit(INTERNAL_ERROR_XML.replace('test_a.py', 't.py').replace('test_1', 'a')) });
    expect(f2p.outcome).toBe('fail');
  });

  it('a run that stopped early (timeout, -x) is charged the tests it did not run; a passing run is left as it is', () => {
    const early = grade({ grading: { kind: 'exit-code' }, format: 'junit', exitCode: 1, timedOut: false, parsed: parseJUnit(junit({ a: 'pass', b: 'fail' })), taskTests: 8 });
    expect(early.tests).toEqual({ passed: 1, failed: 7, skipped: 0, total: 8 });
    expect(early.reason).toContain('6 test(s) of the task\'s 8 did not run (counted failed)');
    const pass = grade({ grading: { kind: 'exit-code' }, format: 'junit', exitCode: 0, timedOut: false, parsed: parseJUnit(junit({ a: 'pass' })), taskTests: 1 });
    expect(pass).toMatchObject({ outcome: 'pass', tests: { total: 1 } });
  });

  it('Catch\'s JUnit: a test name with a raw ">" in its attribute', () => {
    const xml = '<testsuite><testcase classname="allergies.global" name="eggs -> not allergic" time="0.1" status="run"/><testcase classname="allergies.global" name="eggs -> allergic" time="0.1" status="run"><failure message="x"/></testcase></testsuite>';
    expect(parseJUnit(xml).tests).toEqual({ 'allergies.global.eggs -> not allergic': 'pass', 'allergies.global.eggs -> allergic': 'fail' });
  });

  it('a pytest teardown error on a failed test is one test, not two', () => {
    const xml = '<testsuite><testcase classname="tests.test_x" name="test_a" file="tests/test_x.py"><failure message="x"/></testcase><testcase classname="tests.test_x" name="test_a" file="tests/test_x.py"><error message="teardown"/></testcase></testsuite>';
    expect(parseJUnit(xml).counts).toEqual({ passed: 0, failed: 1, skipped: 0, total: 1 });
  });
});

function junit(tests: Record<string, 'pass' | 'fail'>): string {
  return `<testsuite>${Object.entries(tests).map(([n, s]) => `<testcase classname="t" name="${n}" file="t.py">${s === 'fail' ? '<failure message="x"/>' : ''}</testcase>`).join('')}</testsuite>`;
}

describe('test ids as SWE-bench writes them', () => {
  it('pytest node ids, with classes and parameters, from the xunit1 report', () => {
    const xml =
      '<testsuite><testcase classname="tests.test_calc.TestAdd" name="test_add[1-2]" file="tests/test_calc.py"/>' +
      '<testcase classname="tests.test_calc" name="test_mul[a.b-c]" file="tests/test_calc.py"><failure message="x"/></testcase>' +
      '<testcase classname="test_top" name="test_z" file="test_top.py"/></testsuite>';
    const { tests } = parseJUnit(xml);
    expect(Object.keys(tests)).toEqual(['tests/test_calc.py::TestAdd::test_add[1-2]', 'tests/test_calc.py::test_mul[a.b-c]', 'test_top.py::test_z']);
    expect(lookupTest(tests, 'tests/test_calc.py::TestAdd::test_add[1-2]')).toBe('pass');
    expect(lookupTest(tests, 'tests/test_calc.py::test_mul[a.b-c]')).toBe('fail');
    // sympy's style: the bare function name.
    expect(lookupTest(tests, 'test_z')).toBe('pass');
    // A node id of a run started in a subfolder.
    expect(lookupTest({ 'test_calc.py::test_a': 'pass' }, 'tests/test_calc.py::test_a')).toBe('pass');
  });

  it('Django\'s forms, old and new', () => {
    const tests = { 'admin_views.tests.AdminViewTest.test_save': 'pass' as const };
    expect(normalizeTestId('test_save (admin_views.tests.AdminViewTest)')).toBe('admin_views.tests.AdminViewTest.test_save');
    expect(lookupTest(tests, 'test_save (admin_views.tests.AdminViewTest)')).toBe('pass');
    expect(lookupTest(tests, 'test_save (admin_views.tests.AdminViewTest.test_save)')).toBe('pass');
    expect(lookupTest(tests, 'test_other (admin_views.tests.AdminViewTest)')).toBeUndefined();
  });
});

describe('the user\'s test command, with its own flags', () => {
  const pytestFlags = REPORT_FLAGS.pytest;
  it('keeps every flag and adds only the report flags after the runner\'s name', () => {
    expect(testCommand('pytest', [], 'python3 -m pytest -x --timeout 0.1 tests/unit')).toEqual(['python3', '-m', 'pytest', ...pytestFlags, '-x', '--timeout', '0.1', 'tests/unit']);
    expect(testCommand('pytest', ['t/test_a.py'], 'pytest -q -k "not slow"')).toEqual(['pytest', ...pytestFlags, '-q', '-k', 'not slow', 't/test_a.py']);
    expect(testCommand('jest', ['a.spec.js'], 'npx jest --runInBand')).toEqual(['npx', 'jest', ...REPORT_FLAGS.jest, '--runInBand', 'a.spec.js']);
    expect(testCommand('vitest', [], 'npx vitest run --pool=forks')).toEqual(['npx', 'vitest', 'run', ...REPORT_FLAGS.vitest, '--pool=forks']);
    expect(testCommand('node-test', ['t.js'], 'node --test --test-concurrency=1')).toEqual(['node', '--test', ...REPORT_FLAGS['node-test'], '--test-concurrency=1', 't.js']);
    expect(testCommand('pytest', ['a.py', 'b.py'], `python3 -m pytest ${FILES_TOKEN} -p no:randomly`)).toEqual(['python3', '-m', 'pytest', ...pytestFlags, 'a.py', 'b.py', '-p', 'no:randomly']);
    // The runner's usual command when the config has none; `npm test` means node --test.
    expect(testCommand('pytest', ['t.py'])).toEqual(['python3', '-m', 'pytest', ...pytestFlags, 't.py']);
    expect(testCommand('node-test', [], 'npm test')).toEqual(['node', '--test', ...REPORT_FLAGS['node-test']]);
  });

  it('a command with shell syntax runs through /bin/sh with the flags after the runner\'s name', () => {
    const [sh, c, script] = testCommand('pytest', ['tests/test_a.py'], 'cd pkg && python3 -m pytest -x');
    expect([sh, c]).toEqual(['/bin/sh', '-c']);
    expect(script).toBe("cd pkg && python3 -m pytest -rA -p no:cacheprovider -p evogit_timeout '--evogit-timeout={timeout_s}' -o junit_family=xunit1 '--junitxml={results}' -x tests/test_a.py");
    expect(runnerOf('cd pkg && python3 -m pytest -x')).toBe('pytest');
  });

  it('only a runner at a command position is recognised: anything else runs as written', () => {
    expect(runnerOf('tox -e pytest')).toBe('custom');
    expect(runnerOf('make test')).toBe('custom');
    expect(runnerOf(['python3', '-m', 'pytest', '-x'])).toBe('pytest');
    expect(runnerOf('./node_modules/.bin/jest --ci')).toBe('jest');
    expect(shellWords(`pytest -k 'a and b' "x y" z\\ w`)).toEqual(['pytest', '-k', 'a and b', 'x y', 'z w']);
    expect(shellWords('pytest $(ls)')).toBeNull();
    expect(RESULTS_TOKEN).toBe('{results}');
  });
});

describe('go test -json and libtest JSON', () => {
  it('go: subtests are the tests; a parent counts only when it failed on its own; a package that does not build fails', () => {
    const lines = [
      { Action: 'run', Package: 'p', Test: 'TestA' },
      { Action: 'run', Package: 'p', Test: 'TestA/one' },
      { Action: 'pass', Package: 'p', Test: 'TestA/one' },
      { Action: 'run', Package: 'p', Test: 'TestA/two' },
      { Action: 'fail', Package: 'p', Test: 'TestA/two' },
      { Action: 'fail', Package: 'p', Test: 'TestA' },
      { Action: 'run', Package: 'p', Test: 'TestB' },
      { Action: 'output', Package: 'p', Test: 'TestB', Output: '{"Action":"pass","Test":"TestFake"}\n' },
      { Action: 'skip', Package: 'p', Test: 'TestB' },
      { Action: 'run', Package: 'p', Test: 'TestDies' },
      { Action: 'fail', Package: 'p' },
      { Action: 'fail', Package: 'q' },
    ];
    const r = parseGoJson(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n# q\nq.go:3: syntax error\n`);
    expect(r.tests).toEqual({ 'TestA/one': 'pass', 'TestA/two': 'fail', TestB: 'skip', TestDies: 'fail', 'q (build)': 'fail' });
  });

  it('libtest: ok / failed / ignored, and a test that started but never finished (the binary aborted) fails', () => {
    const text = [
      '{ "type": "suite", "event": "started", "test_count": 3 }',
      '{ "type": "test", "event": "started", "name": "a" }',
      '{ "type": "test", "name": "a", "event": "ok" }',
      '{ "type": "test", "event": "started", "name": "b" }',
      '{ "type": "test", "name": "b", "event": "failed", "stdout": "{ \\"type\\": \\"test\\", \\"name\\": \\"x\\", \\"event\\": \\"ok\\" }" }',
      '{ "type": "test", "event": "started", "name": "c" }',
      'thread overflowed its stack',
      '{ "type": "suite", "event": "started", "test_count": 1 }',
      '{ "type": "test", "name": "d", "event": "ignored" }',
    ].join('\n');
    expect(parseLibtestJson(text).tests).toEqual({ a: 'pass', b: 'fail', c: 'fail', d: 'skip' });
  });
});

describe('the reference solution of a Polyglot exercise', () => {
  it('maps each reference file onto the solution files, helpers beside them', async () => {
    const { referenceTargets } = await import('../suites/languages.js');
    expect([...referenceTargets(['.meta/example.cpp', '.meta/example.h'], ['all_your_base.cpp', 'all_your_base.h'], [])]).toEqual([
      ['.meta/example.cpp', 'all_your_base.cpp'],
      ['.meta/example.h', 'all_your_base.h'],
    ]);
    expect([...referenceTargets(['.meta/example.rs'], ['src/lib.rs'], ['Cargo.toml'])]).toEqual([['.meta/example.rs', 'src/lib.rs']]);
    // Java: the reference's helper classes go next to the solution; a provided class is kept.
    const java = referenceTargets(['.meta/src/reference/java/BowlingGame.java', '.meta/src/reference/java/Frame.java'], ['src/main/java/BowlingGame.java'], ['src/main/java/BowlingGame.java']);
    expect([...java]).toEqual([
      ['.meta/src/reference/java/BowlingGame.java', 'src/main/java/BowlingGame.java'],
      ['.meta/src/reference/java/Frame.java', 'src/main/java/Frame.java'],
    ]);
    expect([...referenceTargets(['.meta/src/reference/java/Connect.java', '.meta/src/reference/java/Winner.java'], ['src/main/java/Connect.java'], ['src/main/java/Winner.java'])]).toEqual([['.meta/src/reference/java/Connect.java', 'src/main/java/Connect.java']]);
  });
});

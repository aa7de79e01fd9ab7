import { describe, expect, it } from 'vitest';
import { grade, missingRootTests } from './grade.js';
import { parseResults } from './parsers.js';

const junit = (tests: Record<string, 'pass' | 'fail' | 'skip'>) =>
  parseResults('junit', Object.entries(tests).map(([n, s]) => `<testcase name="${n}">${s === 'fail' ? '<failure/>' : s === 'skip' ? '<skipped/>' : ''}</testcase>`).join(''))!;
const canaries = { pass: 'test_pp', fail: 'test_ff' };
const base = { grading: { kind: 'exit-code' as const }, format: 'junit' as const, timedOut: false, canaries };

describe('canaries and the tests the root named', () => {
  it('passes a clean run: the must-fail canary failed, the runner exited 1 for it alone', () => {
    const g = grade({ ...base, exitCode: 1, parsed: junit({ a: 'pass', test_pp: 'pass', test_ff: 'fail' }) });
    expect(g).toMatchObject({ outcome: 'pass', tests: { passed: 1, failed: 0, total: 1 } });
    expect(g.testResults).toEqual({ a: 'pass' });
  });

  it.each([
    [{ a: 'pass', test_pp: 'pass', test_ff: 'pass' }, 0, true, /must-fail canary test passed/],
    [{ a: 'pass', test_pp: 'pass', test_ff: 'skip' }, 0, true, /was skipped/],
    [{ a: 'pass' }, 0, true, /lacks the canary tests/],
    [{ a: 'fail' }, 1, false, /ended before the canary tests ran/],
    [{ a: 'pass', test_pp: 'fail', test_ff: 'fail' }, 1, false, /must-pass canary test failed/],
    [{ a: 'pass', test_pp: 'pass', test_ff: 'fail' }, 0, true, /exited 0 although/],
  ] as const)('grades %j (exit %i) fail, tampered: %s', (tests, exitCode, tampered, why) => {
    const g = grade({ ...base, exitCode, parsed: junit(tests) });
    expect(g.outcome).toBe('fail');
    expect(Boolean(g.tampered)).toBe(tampered);
    expect(g.reason).toMatch(why);
    expect(Object.keys(g.testResults ?? {})).not.toContain('test_ff');
  });

  it("fails a run that lacks or skips a test the root's run named, but not the root's file-level failures", () => {
    const root = { 'suite.a': 'pass', 'suite.b': 'fail', 'suite.c': 'skip', '/work/test/x.test.js': 'fail' } as const;
    expect(missingRootTests(junit({ 'suite.a': 'pass', 'suite.b': 'pass' }), root, ['test/x.test.js'])).toEqual({ missing: [], skipped: [] });
    expect(missingRootTests(junit({ 'suite.a': 'pass' }), root, ['test/x.test.js']).missing).toEqual(['suite.b']);
    const g = grade({ ...base, canaries: undefined, exitCode: 0, parsed: junit({ 'suite.a': 'pass', 'suite.b': 'skip' }), rootTests: root, testFiles: ['test/x.test.js'] });
    expect(g).toMatchObject({ outcome: 'fail' });
    expect(g.reason).toMatch(/were skipped: suite.b/);
  });
});

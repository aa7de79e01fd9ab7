import { describe, expect, it } from 'vitest';
import { evaluationProblem, screenLines, trailerProblem } from './screen.js';

const node = 'a'.repeat(40);
const ok = { node, task: 't', outcome: 'pass', writer: 'bob', durationMs: 3, tests: { passed: 2, failed: 0, skipped: 1, total: 3 }, testResults: { x: 'pass' }, metrics: { ms: 1.5 } };

describe('what the archive accepts from a writer', () => {
  it('accepts a well-formed line in its own writer\'s ref, on its own node', () => {
    expect(evaluationProblem(ok, 'bob', node)).toBeNull();
  });

  it.each([
    [{ ...ok, writer: 'alice' }, /writer field "alice" in bob's notes/],
    [{ ...ok, node: 'b'.repeat(40) }, /names node bbbbbbbbbbbb but is attached to aaaaaaaaaaaa/],
    [{ ...ok, outcome: 'maybe' }, /unknown outcome "maybe"/],
    [{ ...ok, tests: { passed: 1e308, failed: -5, skipped: 'a', total: null } }, /not non-negative integers/],
    [{ ...ok, tests: { passed: '999999', failed: 0, skipped: 0, total: 1 } }, /not non-negative integers/],
    [{ ...ok, tests: { passed: 5, failed: 0, skipped: 0, total: 1 } }, /exceed their total/],
    [{ ...ok, testResults: { x: 'won' } }, /unknown test status "won"/],
    [{ ...ok, metrics: { ms: 'fast' } }, /metric ms is not a finite number/],
    [{ ...ok, durationMs: -1 }, /durationMs/],
    [{ ...ok, tampered: 'yes' }, /tampered is not a boolean/],
    [[ok], /not a JSON object/],
  ])('rejects %j', (line, why) => {
    expect(evaluationProblem(line, 'bob', node)).toMatch(why);
  });

  it('keeps the good lines of a note (the same array when all are good) and counts the rest once', () => {
    const good = [ok, { ...ok, outcome: 'fail' }];
    expect(screenLines(good, 'bob', node).kept).toBe(good);
    const r = screenLines([ok, { ...ok, writer: 'alice' }, { ...ok, outcome: 'x' }], 'bob', node, 1);
    expect(r.kept).toEqual([ok]);
    expect(r.ignored).toEqual({ count: 3, reason: 'a line that is not JSON' });
  });

  it('checks trailers: cost, operator, and the writer against the branch', () => {
    expect(trailerProblem({ 'Evogit-Writer': 'bob', 'Evogit-Operator': 'mutate', 'Evogit-Cost': '0.25' }, 'bob')).toBeNull();
    expect(trailerProblem({ 'Evogit-Cost': '-1000' }, null)).toMatch(/Evogit-Cost "-1000"/);
    expect(trailerProblem({ 'Evogit-Cost': 'NaN' }, null)).toMatch(/Evogit-Cost/);
    expect(trailerProblem({ 'Evogit-Operator': 'teleport' }, null)).toMatch(/unknown Evogit-Operator/);
    expect(trailerProblem({ 'Evogit-Writer': 'alice' }, 'bob')).toMatch(/Evogit-Writer "alice" on a branch of bob/);
  });
});

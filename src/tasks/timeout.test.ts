import { describe, expect, it } from 'vitest';
import type { Evaluation } from '../archive/types.js';
import { defaultConfig } from '../config/index.js';
import { killGraceMs, measuredRunMs, taskTimeout } from './timeout.js';

const test = (fields: Record<string, unknown> = {}) => defaultConfig({ test: { command: 'node --test', ...fields } }).test;
const run = (task: string, outcome: Evaluation['outcome'], ms: { runMs?: number; durationMs: number }): Evaluation => ({ node: 'r', task, outcome, writer: 'w', harness: 'docker', time: '', ...ms });

describe('taskTimeout', () => {
  it('is auto by default: the ceiling until the root ran the task, then 1.5 × its run + 5 s', () => {
    expect(test().timeout).toBe('auto');
    expect(taskTimeout(test(), null)).toMatchObject({ ms: 120_000 });
    expect(taskTimeout(test(), null).basis).toContain('has not run this task');
    expect(taskTimeout(test(), 400)).toEqual({ ms: 5600, basis: "5.6 s = 1.5 × the root's 0.4 s + 5.0 s" });
  });

  it('never goes past the ceiling, and honours a configured factor, addend and ceiling', () => {
    expect(taskTimeout(test(), 100_000).ms).toBe(120_000);
    expect(taskTimeout(test({ autoTimeout: { factor: 3, plus: '1s', ceiling: '20s' } }), 2000).ms).toBe(7000);
    expect(taskTimeout(test({ autoTimeout: { ceiling: '20s' } }), 60_000)).toMatchObject({ ms: 20_000 });
  });

  it('takes a fixed duration as it is', () => {
    expect(taskTimeout(test({ timeout: '30s' }), 400)).toEqual({ ms: 30_000, basis: 'test.timeout 30 s' });
    expect(taskTimeout(test({ timeout: 1500 }), null).ms).toBe(1500);
  });
});

describe('measuredRunMs', () => {
  it("is the root's longest graded run of the task, the command's own time when recorded", () => {
    const runs = [run('a', 'pass', { runMs: 300, durationMs: 900 }), run('a', 'fail', { runMs: 420, durationMs: 1000 }), run('b', 'pass', { runMs: 9000, durationMs: 9500 })];
    expect(measuredRunMs(runs, 'a')).toBe(420);
    // Older lines have only the whole step's duration: longer, so the limit errs generous.
    expect(measuredRunMs([run('a', 'pass', { durationMs: 800 })], 'a')).toBe(800);
  });

  it('ignores infrastructure errors, and knows nothing before a graded run', () => {
    expect(measuredRunMs([run('a', 'error', { runMs: 5, durationMs: 5 })], 'a')).toBeNull();
    expect(measuredRunMs(undefined, 'a')).toBeNull();
  });
});

it('the kill comes 2 to 10 s after the limit the runner was given', () => {
  expect(killGraceMs(5600)).toBe(2000);
  expect(killGraceMs(60_000)).toBe(6000);
  expect(killGraceMs(1_000_000)).toBe(10_000);
});

/**
 * A candidate that loops forever must cost seconds, not the two-minute ceiling: with the
 * default `test.timeout: auto` a run's limit is 1.5 × the root's measured run + 5 s, handed to
 * the runner as its own timeout, so the run ends with a report and is graded fail.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFile } from 'node:fs/promises';
import type { Evaluation } from '../../src/archive/index.js';
import { defaultConfig, type Config } from '../../src/config/index.js';
import { createSandbox, discoverTasks, runTask } from '../../src/sandbox/index.js';
import { describeDocker, ensureTestImage } from '../helpers/docker.js';
import { evogit, git, makeRepo, removeDir, revParse, sh } from '../helpers/repo.js';

/** A small library whose one test file takes a few tenths of a second, like the issue's. */
const LIBRARY = {
  'package.json': '{ "name": "stats", "version": "1.0.0", "scripts": { "test": "node --test" } }\n',
  'src/stats.js': 'function mean(xs) {\n  let total = 0;\n  for (let i = 0; i < xs.length; i++) total += xs[i];\n  return total / xs.length;\n}\nmodule.exports = { mean };\n',
  'test/stats.test.js': [
    "const test = require('node:test');",
    "const assert = require('node:assert');",
    "const { mean } = require('../src/stats.js');",
    "test('mean of a few', () => assert.equal(mean([1, 2, 3]), 2));",
    "test('mean of many', () => {",
    '  const xs = Array.from({ length: 2e6 }, (_, i) => i % 7);',
    '  for (let k = 0; k < 3; k++) assert.ok(Math.abs(mean(xs) - 3) < 0.01);',
    '});',
    '',
  ].join('\n'),
};

/** The mutant the issue caught: a loop operator flipped, so the loop never ends. */
const LOOPING = LIBRARY['src/stats.js'].replace('i++', 'i--');

async function lastLine(repo: string, writer: string, rev: string): Promise<Evaluation> {
  const text = (await git(repo, ['notes', `--ref=evogit/${writer}`, 'show', rev])).trim().split('\n');
  return JSON.parse(text.at(-1)!) as Evaluation;
}

describeDocker('a looping candidate in Docker, with the default test.timeout: auto', () => {
  let repo: string;
  beforeAll(async () => {
    await ensureTestImage();
    repo = await makeRepo(LIBRARY);
    expect((await evogit(repo, ['init'])).exitCode).toBe(0);
  });
  afterAll(() => removeDir(repo));

  it('`evogit init` writes timeout: auto, and a looping candidate is graded fail within seconds', async () => {
    const config = parse(await readFile(path.join(repo, 'evogit.yml'), 'utf8')) as { test: { timeout: string } };
    expect(config.test.timeout).toBe('auto');

    // The root is measured first: its run time is in the note line.
    expect((await evogit(repo, ['eval', 'evo/root'])).exitCode).toBe(0);
    const root = await lastLine(repo, 'eval', 'evo/root');
    expect(root.outcome).toBe('pass');
    expect(root.runMs).toBeGreaterThan(0);
    expect(root.runMs).toBeLessThan(10_000);

    await git(repo, ['checkout', '--quiet', '-b', 'looping', 'evo/root']);
    await sh(repo, 'node', ['-e', `require('fs').writeFileSync('src/stats.js', ${JSON.stringify(LOOPING)})`]);
    await git(repo, ['commit', '--quiet', '-am', 'loop forever']);
    const started = Date.now();
    const r = await evogit(repo, ['eval', 'looping']);
    const wall = Date.now() - started;
    expect(r.exitCode).toBe(0);
    const line = await lastLine(repo, 'eval', 'looping');
    expect(line.outcome).toBe('fail');
    // 1.5 × the root's run + 5 s, not the 120 s ceiling.
    expect(line.timeoutMs).toBe(Math.round(1.5 * root.runMs! + 5000));
    expect(line.durationMs).toBeLessThan(line.timeoutMs! + 5000);
    expect(wall).toBeLessThan(30_000);
    expect(line.reason).toContain('timeout: ');
    expect(line.reason).toContain("1.5 × the root's");
  });
});

describeDocker('a looping candidate in a Python project in Docker (the unittest harness)', () => {
  let repo: string;
  let config: Config;
  beforeAll(async () => {
    await ensureTestImage();
    config = defaultConfig({ language: 'python', test: { command: 'python3 -m unittest', timeout: 'auto' }, sandbox: { image: 'evogit/python:3' } });
    repo = await makeRepo({
      'stats.py': 'def total(xs):\n    s, i = 0, 0\n    while i < len(xs):\n        s += xs[i]\n        i += 1\n    return s\n',
      'tests/test_stats.py': [
        'import unittest',
        'from stats import total',
        'class T(unittest.TestCase):',
        '    def test_a_empty(self):',
        '        self.assertEqual(total([]), 0)',
        '    def test_b_three(self):',
        '        self.assertEqual(total([1, 2, 3]), 6)',
        '',
      ].join('\n'),
    });
  });
  afterAll(() => removeDir(repo));

  it('ends at the derived limit with a report: the test that ran before the loop is still graded', async () => {
    const root = await revParse(repo);
    const [task] = await discoverTasks(repo, root, config);
    const sandbox = createSandbox(config);
    const logDir = path.join(repo, '.git', 'evogit', 'logs');
    const base = await runTask({ repoDir: repo, commit: root, root, task: task!, config, sandbox, writer: 't', logDir });
    expect(base.outcome).toBe('pass');
    // A mutant that swallows exceptions inside its endless loop, as mutants of retry loops do.
    const looping = 'def total(xs):\n    s, i = 0, 0\n    while i < len(xs):\n        try:\n            s += xs[i]\n        except Exception:\n            pass\n    return s\n';
    await sh(repo, 'node', ['-e', `require('fs').writeFileSync('stats.py', ${JSON.stringify(looping)})`]);
    await git(repo, ['commit', '--quiet', '-am', 'loop']);
    const commit = await revParse(repo);
    const e = await runTask({ repoDir: repo, commit, root, task: task!, config, sandbox, writer: 't', logDir, rootRunMs: base.runMs! });
    expect(e.outcome).toBe('fail');
    expect(e.timeoutMs).toBe(Math.round(1.5 * base.runMs! + 5000));
    expect(e.durationMs).toBeLessThan(e.timeoutMs! + 5000);
    // The runner's own timeout ended it (no kill): the empty-list test passed, the loop failed.
    expect(e.testResults).toMatchObject({ 'test_stats.T.test_a_empty': 'pass', 'test_stats.T.test_b_three': 'fail' });
  });
});

describe('a looping candidate under pytest (local sandbox, evogit_timeout plugin)', () => {
  it('fails the looping test at the limit, keeps the results of the others, and stops there', async () => {
    const repo = await makeRepo({
      'stats.py': 'def total(xs):\n    return sum(xs)\n',
      'test_stats.py': 'from stats import total\n\ndef test_a():\n    assert total([1]) == 1\n\ndef test_b():\n    while True:\n        pass\n\ndef test_c():\n    assert total([]) == 0\n',
    });
    try {
      // The limit counts from the process's start: pytest's own start-up must fit well inside it
      // on a busy machine, or no test runs at all.
      const config = defaultConfig({ language: 'python', test: { command: 'python3 -m pytest', timeout: '5s' }, sandbox: { kind: 'local' } });
      const root = await revParse(repo);
      const [task] = await discoverTasks(repo, root, config);
      const e = await runTask({ repoDir: repo, commit: root, root, task: task!, config, sandbox: createSandbox(config), writer: 't', logDir: path.join(repo, '.git', 'evogit', 'logs') });
      expect(e.outcome).toBe('fail');
      expect(e.timeoutMs).toBe(5000);
      expect(e.durationMs).toBeLessThan(5000 + 4000);
      // test_c never started: it is not in the report, so the grade counts it as not run.
      expect(e.testResults).toEqual({ 'test_stats.py::test_a': 'pass', 'test_stats.py::test_b': 'fail' });
      expect(e.log).toContain('timed out after 5 s');
    } finally {
      await removeDir(repo);
    }
  });
});

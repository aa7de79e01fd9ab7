/**
 * One exercise per language in the Aider Polyglot benchmark's layout (test/fixtures/polyglot:
 * written for evogit, with the benchmark's hard parts: disabled tests, a data file, a Java
 * helper class, a reference needing Go 1.21) graded in Docker the way the real checkout is in
 * bench/suites: the untouched stub fails, the reference solution passes, with every test the
 * exercise ships switched on; `evogit tasks grade` grades a solution folder; only the solution
 * files are the candidate's.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkTask, gradeTask } from '../../src/agents/self/index.js';
import { Archive } from '../../src/archive/index.js';
import { defaultConfig, type Config } from '../../src/config/index.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { importSuite, loadSuite, type SuiteManifest } from '../../src/suites/index.js';
import { describeDocker, ensureToolchainImages, ownContainers } from '../helpers/docker.js';
import { evogit, makeRepo, removeDir, tempDir } from '../helpers/repo.js';

const SAMPLE = path.resolve(import.meta.dirname, '..', 'fixtures', 'polyglot');

describeDocker('a Polyglot exercise in every language, in Docker', () => {
  const dirs: string[] = [];
  let repo: string;
  let suite: SuiteManifest & { commit: string };
  let config: Config;
  let sandbox: Sandbox;

  beforeAll(async () => {
    await ensureToolchainImages();
    repo = await makeRepo({ 'README.md': 'an agent\n', 'evogit.yml': 'version: 1\ntest:\n  command: node --test\n  timeout: 900s\n' });
    dirs.push(repo);
    await (await Archive.open({ repoDir: repo })).createRoot('HEAD');
    const r = await importSuite({ repoDir: repo, source: SAMPLE, name: 'poly' });
    expect(r).toMatchObject({ tasks: 6, skipped: [] });
    suite = await loadSuite(repo, 'poly');
    config = defaultConfig({ test: { command: 'true', timeout: '900s' } });
    sandbox = createSandbox(config);
  }, 30 * 60_000);
  afterAll(async () => {
    for (const d of dirs) await removeDir(d);
    expect(await ownContainers()).toEqual([]);
  });

  it('every stub fails and every reference solution passes, with all of its tests run', async () => {
    // Two at a time: one per core, as the bench runs them. The limit is a loaded machine's: compiling
    // Catch's main took over 300 s here at a load average of 40.
    const queue = [...suite.tasks];
    const checks: Awaited<ReturnType<typeof checkTask>>[] = [];
    await Promise.all(
      [0, 1].map(async () => {
        for (let t = queue.shift(); t; t = queue.shift()) checks.push(await checkTask({ repoDir: repo, suiteCommit: suite.commit, task: t, config, sandbox }));
      }),
    );
    const byId = Object.fromEntries(checks.map((c) => [c.id, c]));
    for (const c of checks) {
      expect(c.base.outcome, `${c.id} stub: ${c.base.log.slice(-1500)}`).toBe('fail');
      expect(c.reference?.outcome, `${c.id} reference: ${c.reference?.log.slice(-1500)}`).toBe('pass');
      expect(c.problem).toBeUndefined();
    }
    // Every test ran: the ones the exercises ship disabled too (xit, @Disabled, #[ignore], EXERCISM_RUN_ALL_TESTS).
    expect(byId['javascript/caesar']!.reference!.tests).toMatchObject({ passed: 6, failed: 0, skipped: 0 });
    expect(byId['java/caesar']!.reference!.tests).toMatchObject({ passed: 5, failed: 0, skipped: 0 });
    expect(byId['rust/caesar']!.reference!.tests).toMatchObject({ passed: 5, failed: 0, skipped: 0 });
    expect(byId['cpp/caesar']!.reference!.tests).toMatchObject({ passed: 5, failed: 0, skipped: 0 });
    expect(byId['go/caesar']!.reference!.tests?.passed).toBeGreaterThanOrEqual(6);
    expect(byId['python/caesar']!.reference!.tests).toMatchObject({ passed: 5, failed: 0, skipped: 0 });
    // A stub that panics or returns a wrong answer fails every test the task has, not just those reported.
    expect(byId['go/caesar']!.base.tests?.passed).toBe(0);
    // The identity stub gets every one of the five shifts wrong: all five fail.
    expect(byId['cpp/caesar']!.base.tests).toMatchObject({ passed: 0, failed: 5, total: 5 });
  }, 30 * 60_000);

  it('only the solution files are the candidate\'s: a rewritten build file or test has no effect', async () => {
    const task = suite.tasks.find((t) => t.id === 'javascript/caesar')!;
    // Jest config in package.json that would run no test at all, and a spec that passes.
    const changes = [
      { path: 'package.json', content: Buffer.from(JSON.stringify({ jest: { testMatch: ['**/nothing/**'] } })) },
      { path: 'caesar.spec.js', content: Buffer.from("test('ok', () => {});\n") },
    ];
    const g = await gradeTask({ repoDir: repo, suiteCommit: suite.commit, task, config, sandbox, candidate: { kind: 'files', changes } });
    expect(g.outcome, g.log.slice(-1500)).toBe('fail');
    expect(g.tests?.total).toBe(6);
  }, 10 * 60_000);

  it('evogit tasks grade SUITE TASK --solution DIR grades the files named as the solution files', async () => {
    const dir = await tempDir('evogit-solution-');
    dirs.push(dir);
    await mkdir(dir, { recursive: true });
    await cp(path.join(SAMPLE, 'python', 'exercises', 'practice', 'caesar', '.meta', 'example.py'), path.join(dir, 'caesar.py'));
    const right = await evogit(repo, ['tasks', 'grade', 'poly', 'python/caesar', '--solution', dir, '--json']);
    expect(right.exitCode, right.stderr).toBe(0);
    expect(JSON.parse(right.stdout)).toMatchObject({ task: 'python/caesar', candidate: 'files', outcome: 'pass' });
    await writeFile(path.join(dir, 'caesar.py'), 'def shift(text, places):\n    return text\n');
    const wrong = await evogit(repo, ['tasks', 'grade', 'poly', 'python/caesar', '--solution', dir]);
    expect(wrong.exitCode, wrong.stderr).toBe(0);
    expect(wrong.stdout).toMatch(/^python\/caesar with the solution in .*: fail \(\d+\/\d+ tests passed\)/);
    const missing = await evogit(repo, ['tasks', 'grade', 'poly', 'python/nope']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('E_NO_TASK');
  }, 10 * 60_000);
});

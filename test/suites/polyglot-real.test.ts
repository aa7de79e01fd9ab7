/**
 * A real sample of the Aider Polyglot benchmark (test/fixtures/polyglot: one exercise per
 * language, unchanged) graded in Docker the way the whole checkout is in bench/suites: the
 * untouched stub fails, the reference solution passes, with every test the exercise ships
 * switched on; `evogit tasks grade` grades a solution folder; only the solution files are the
 * candidate's.
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

describeDocker('the real Polyglot sample, every language, in Docker', () => {
  const dirs: string[] = [];
  let repo: string;
  let suite: SuiteManifest & { commit: string };
  let config: Config;
  let sandbox: Sandbox;

  beforeAll(async () => {
    await ensureToolchainImages();
    repo = await makeRepo({ 'README.md': 'an agent\n', 'evogit.yml': 'version: 1\ntest:\n  command: node --test\n  timeout: 300s\n' });
    dirs.push(repo);
    await (await Archive.open({ repoDir: repo })).createRoot('HEAD');
    const r = await importSuite({ repoDir: repo, source: SAMPLE, name: 'poly' });
    expect(r).toMatchObject({ tasks: 6, skipped: [] });
    suite = await loadSuite(repo, 'poly');
    config = defaultConfig({ test: { command: 'true', timeout: '300s' } });
    sandbox = createSandbox(config);
  }, 30 * 60_000);
  afterAll(async () => {
    for (const d of dirs) await removeDir(d);
    expect(await ownContainers()).toEqual([]);
  });

  it('every stub fails and every reference solution passes, with all of its tests run', async () => {
    // Two at a time: one per core, as the bench runs them.
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
    expect(byId['javascript/grep']!.reference!.tests).toMatchObject({ passed: 25, skipped: 0 });
    expect(byId['java/affine-cipher']!.reference!.tests).toMatchObject({ passed: 17, skipped: 0 });
    expect(byId['rust/simple-cipher']!.reference!.tests).toMatchObject({ passed: 23, skipped: 0 });
    expect(byId['cpp/crypto-square']!.reference!.tests?.passed).toBeGreaterThan(5);
    expect(byId['go/crypto-square']!.reference!.tests?.passed).toBeGreaterThan(5);
    expect(byId['python/transpose']!.reference!.tests?.passed).toBeGreaterThan(5);
  }, 30 * 60_000);

  it('only the solution files are the candidate\'s: a rewritten build file or test has no effect', async () => {
    const task = suite.tasks.find((t) => t.id === 'javascript/grep')!;
    // Jest config in package.json that would run no test at all, and a spec that passes.
    const changes = [
      { path: 'package.json', content: Buffer.from(JSON.stringify({ jest: { testMatch: ['**/nothing/**'] } })) },
      { path: 'grep.spec.js', content: Buffer.from("test('ok', () => {});\n") },
    ];
    const g = await gradeTask({ repoDir: repo, suiteCommit: suite.commit, task, config, sandbox, candidate: { kind: 'files', changes } });
    expect(g.outcome, g.log.slice(-1500)).toBe('fail');
    expect(g.tests?.total).toBe(25);
  }, 10 * 60_000);

  it('evogit tasks grade SUITE TASK --solution DIR grades the files named as the solution files', async () => {
    const dir = await tempDir('evogit-solution-');
    dirs.push(dir);
    await mkdir(dir, { recursive: true });
    await cp(path.join(SAMPLE, 'python', 'exercises', 'practice', 'transpose', '.meta', 'example.py'), path.join(dir, 'transpose.py'));
    const right = await evogit(repo, ['tasks', 'grade', 'poly', 'python/transpose', '--solution', dir, '--json']);
    expect(right.exitCode, right.stderr).toBe(0);
    expect(JSON.parse(right.stdout)).toMatchObject({ task: 'python/transpose', candidate: 'files', outcome: 'pass' });
    await writeFile(path.join(dir, 'transpose.py'), 'def transpose(text):\n    return text\n');
    const wrong = await evogit(repo, ['tasks', 'grade', 'poly', 'python/transpose', '--solution', dir]);
    expect(wrong.exitCode, wrong.stderr).toBe(0);
    expect(wrong.stdout).toMatch(/^python\/transpose with the solution in .*: fail \(\d+\/\d+ tests passed\)/);
    const missing = await evogit(repo, ['tasks', 'grade', 'poly', 'python/nope']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('E_NO_TASK');
  }, 10 * 60_000);
});

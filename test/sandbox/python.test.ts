/** A Python project (python3 -m unittest through evogit's JUnit harness), end to end in Docker. */
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../src/config/index.js';
import { createSandbox, detectProject, discoverTasks, runTask } from '../../src/sandbox/index.js';
import { describeDocker, ensureTestImage, ownContainers } from '../helpers/docker.js';
import { makeFixtureRepo, type FixtureRepo } from './fixture.js';

describeDocker('runTask on a Python unittest project in Docker', () => {
  let repo: FixtureRepo;
  let config: Config;
  beforeAll(async () => {
    await ensureTestImage();
    config = defaultConfig({ language: 'python', test: { command: 'python3 -m unittest', timeout: '30s' }, sandbox: { image: 'evogit/python:3' } });
    repo = await makeFixtureRepo('py-calc', config);
  });
  afterAll(() => repo?.cleanup());

  it('detects the project, grades the base fail and a fix pass from JUnit XML', async () => {
    expect(await detectProject(repo.dir)).toMatchObject({ language: 'python', testCommand: 'python3 -m unittest', image: 'evogit/python:3' });
    const tasks = await discoverTasks(repo.dir, repo.root, config);
    expect(tasks.map((t) => t.id)).toEqual(['tests/test_calc.py']);
    expect(tasks[0]).toMatchObject({ resultFormat: 'junit' });
    const sandbox = createSandbox(config);
    const logDir = path.join(repo.dir, '.git', 'evogit', 'logs');
    const grade = (commit: string) => runTask({ repoDir: repo.dir, commit, root: repo.root, task: tasks[0]!, config, sandbox, writer: 'py', logDir });

    const base = await grade(repo.root);
    expect(base.outcome).toBe('fail');
    expect(base.testResults).toEqual({ 'test_calc.MulTest.test_mul': 'fail', 'test_calc.MulTest.test_mul_zero': 'fail' });

    const liar = "print('test_mul (test_calc.MulTest) ... ok\\nOK\\nPASSED')\ndef mul(a, b):\n    return a + b\n";
    expect((await grade(await repo.candidate({ 'calc.py': liar }, 'liar'))).outcome).toBe('fail');

    const fixed = await grade(await repo.candidate({ 'calc.py': 'def mul(a, b):\n    return a * b\n' }, 'fix'));
    expect(fixed).toMatchObject({ outcome: 'pass', tests: { passed: 2, failed: 0, total: 2 } });

    // FAIL_TO_PASS grading by test name; a named test that did not run counts as failed.
    const f2p = { ...tasks[0]!, grading: { kind: 'tests' as const, failToPass: ['test_mul'], passToPass: ['test_does_not_exist'] } };
    const missing = await runTask({ repoDir: repo.dir, commit: fixed.node, root: repo.root, task: f2p, config, sandbox, writer: 'py', logDir });
    expect(missing).toMatchObject({ outcome: 'fail' });
    expect(missing.reason).toContain('did not run: test_does_not_exist');
    expect(await ownContainers()).toEqual([]);
  });
});

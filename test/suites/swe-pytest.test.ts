/**
 * SWE-bench format graded as its harness grades, in Docker: pytest run with the command its
 * authors write (their flags kept, evogit's report flags added), tests matched by pytest node
 * id (classes, parameters), an instance whose FAIL_TO_PASS already passes at its base refused
 * by --validate with its id, the gold patch resolving and an empty or wrong patch not.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gradeTask, taskValidator } from '../../src/agents/self/index.js';
import { Archive } from '../../src/archive/index.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { importSuite, listSuites, loadSuite } from '../../src/suites/index.js';
import { REPORT_FLAGS } from '../../src/tasks/index.js';
import { describeDocker, ensureTestImage, ownContainers } from '../helpers/docker.js';
import { evogit, git, makeRepo, removeDir } from '../helpers/repo.js';
import { pytestSweSuite, type SweSuite } from './fixtures.js';

describeDocker('SWE-bench instances with pytest, graded in Docker', () => {
  const dirs: string[] = [];
  let repo: string;
  let swe: SweSuite;
  let config: Config;
  let sandbox: Sandbox;

  beforeAll(async () => {
    await ensureTestImage();
    repo = await makeRepo({ 'README.md': 'an agent\n', 'evogit.yml': 'version: 1\ntest:\n  command: node --test\n  timeout: 60s\nsandbox:\n  image: evogit/python:3\n' });
    dirs.push(repo);
    await (await Archive.open({ repoDir: repo })).createRoot('HEAD');
    swe = await pytestSweSuite();
    dirs.push(swe.dir);
    config = await loadConfig(repo);
    sandbox = createSandbox(config);
  }, 10 * 60_000);
  afterAll(async () => {
    for (const d of dirs) await removeDir(d);
    expect(await ownContainers()).toEqual([]);
  });

  it('--validate refuses an instance whose FAIL_TO_PASS already passes at its base, naming it; nothing is imported', async () => {
    const head = await git(repo, ['rev-parse', 'HEAD']);
    const err = await importSuite({ repoDir: repo, source: swe.jsonl, name: 'swe', validate: taskValidator({ repoDir: repo, config, sandbox }) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_SUITE_INVALID' });
    expect((err as Error).message).toBe('1 of 2 task(s) cannot be graded honestly: calc-stale: FAIL_TO_PASS already passes at the base: tests/test_calc.py::test_mean_whole');
    expect(await git(repo, ['rev-parse', 'HEAD'])).toBe(head);
    expect(await git(repo, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
    expect(await listSuites(repo)).toEqual([]);
  }, 10 * 60_000);

  it('the valid instance imports with --validate (the CLI), its command the user\'s own plus the report flags', async () => {
    const lines = (await readFile(swe.jsonl, 'utf8')).split('\n').filter((l) => l && !l.includes('"calc-stale"'));
    await writeFile(swe.jsonl, `${lines.join('\n')}\n`);
    const r = await evogit(repo, ['tasks', 'import', swe.jsonl, '--name', 'swe', '--validate']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('Imported suite swe (swe): 1 task(s)');
    const task = (await loadSuite(repo, 'swe')).tasks[0]!;
    expect(task.test.command).toEqual(['python3', '-m', 'pytest', ...REPORT_FLAGS.pytest, '-q', 'tests']);
  }, 10 * 60_000);

  it('the gold patch resolves (ids matched as pytest node ids); an empty and a wrong patch do not', async () => {
    const suite = await loadSuite(repo, 'swe');
    const task = suite.tasks[0]!;
    const grade = (patch: string) => gradeTask({ repoDir: repo, suiteCommit: suite.commit, task, config, sandbox, candidate: { kind: 'patch', patch } });
    const gold = await grade(swe.gold['calc-1']!);
    expect(gold.outcome, gold.log).toBe('pass');
    expect(gold.reason).toBe('2 FAIL_TO_PASS and 3 PASS_TO_PASS test(s) pass');
    expect(gold.testResults).toEqual({
      'tests/test_calc.py::TestAdd::test_add[1-2-3]': 'pass',
      'tests/test_calc.py::TestAdd::test_add[-1-1-0]': 'pass',
      'tests/test_calc.py::test_mean_whole': 'pass',
      'tests/test_calc.py::test_mean_fraction[xs0-1.5]': 'pass',
      'tests/test_calc.py::test_mean_fraction[xs1-2.3333333333333335]': 'pass',
    });
    const empty = await grade('');
    expect(empty.outcome).toBe('fail');
    expect(empty.reason).toMatch(/^failed: tests\/test_calc\.py::test_mean_fraction\[xs0-1\.5\]/);
    const wrong = swe.gold['calc-1']!.replace('+    return sum(xs) / len(xs)', '+    return sum(xs) / (len(xs) + 1)');
    expect(wrong).not.toBe(swe.gold['calc-1']);
    const w = await grade(wrong);
    expect(w.outcome).toBe('fail');
    expect(w.reason).toContain('failed: ');
    // The CLI says the same, as JSON with an outcome field.
    const patchFile = `${swe.dir}/gold.diff`;
    await writeFile(patchFile, swe.gold['calc-1']!);
    const cli = await evogit(repo, ['tasks', 'grade', 'swe', 'calc-1', '--patch', patchFile, '--json']);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ task: 'calc-1', candidate: 'patch', outcome: 'pass' });
  }, 10 * 60_000);
});

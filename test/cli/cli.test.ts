/** The CLI as a user meets it: the real bin on throw-away repositories. */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Archive } from '../../src/archive/index.js';
import { startGitHubServer } from '../helpers/github-server.js';
import { evogit, git, initRepo, makeRepo, removeDir, revParse, tempDir } from '../helpers/repo.js';

const made: string[] = [];
afterAll(async () => Promise.all(made.map(removeDir)));
const track = (d: string) => (made.push(d), d);

const nodeProject = {
  'package.json': JSON.stringify({ name: 'lib', version: '1.0.0', scripts: { test: 'node --test' } }, null, 2),
  'src/add.js': 'export const add = (a, b) => a - b;\n',
  'test/add.test.js': "import { test } from 'node:test';\nimport assert from 'node:assert';\nimport { add } from '../src/add.js';\ntest('adds', () => assert.equal(add(2, 3), 5));\n",
};

describe('evogit CLI', () => {
  it('prints its version and help, and exits 0', async () => {
    const dir = track(await tempDir());
    const version = await evogit(dir, ['--version']);
    expect(version.exitCode).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await evogit(dir, ['--help']);
    expect(help.exitCode).toBe(0);
    for (const cmd of ['init', 'status', 'show', 'prune', 'promote', 'run', 'agent']) expect(help.stdout).toContain(cmd);
  });

  it('rejects an unknown command and an unknown flag with the usage exit code', async () => {
    const dir = track(await makeRepo(nodeProject));
    const cmd = await evogit(dir, ['evolve']);
    expect(cmd.exitCode).toBe(2);
    expect(cmd.stderr).toMatch(/E_USAGE/);
    const flag = await evogit(dir, ['status', '--colour']);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr).toMatch(/Unknown argument/i);
  });

  it('refuses a directory that is not a repository, and changes nothing', async () => {
    const dir = track(await tempDir());
    const r = await evogit(dir, ['init']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/error E_NOT_A_REPO: /);
    expect(r.stderr).toMatch(/hint: /);
    expect(existsSync(path.join(dir, 'evogit.yml'))).toBe(false);
  });

  it('refuses a repository with no commits', async () => {
    const dir = track(await tempDir());
    await initRepo(dir);
    const r = await evogit(dir, ['init']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/E_NO_COMMITS/);
    expect(existsSync(path.join(dir, 'evogit.yml'))).toBe(false);
  });

  it('initialises a Node project: commits evogit.yml, records the root, and refuses a second init', async () => {
    const dir = track(await makeRepo(nodeProject));
    const r = await evogit(dir, ['init']);
    expect(r.exitCode, r.stderr).toBe(0);
    const config = await readFile(path.join(dir, 'evogit.yml'), 'utf8');
    expect(config).toMatch(/language: javascript/);
    const log = await git(dir, ['log', '--format=%s', '-1']);
    expect(log.trim()).toBe('evogit: init');
    const root = await revParse(dir, 'evo/root');
    expect(root).toBe(await revParse(dir, 'HEAD'));

    const again = await evogit(dir, ['init']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/E_ALREADY_INITIALISED/);
    expect(await revParse(dir, 'evo/root')).toBe(root);
  });

  it('warns about a dirty tree and says what it ignores', async () => {
    const dir = track(await makeRepo(nodeProject));
    await writeFile(path.join(dir, 'notes.txt'), 'scratch\n');
    const r = await evogit(dir, ['init']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: 1 uncommitted change \(notes\.txt\) will be ignored/);
    expect((await git(dir, ['show', '--name-only', '--format=', 'HEAD'])).trim()).toBe('evogit.yml');
  });

  it('detects a pytest layout with no manifest, keeps the user\'s flags, and sets protected and mutable paths at init', async () => {
    const dir = track(
      await makeRepo({
        'conftest.py': 'import sys\n',
        'calc.py': 'def add(a, b):\n    return a - b\n',
        'tests/test_calc.py': 'from calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n',
        'data/golden.txt': '5\n',
      }),
    );
    const r = await evogit(dir, ['init', '--test', 'python3 -m pytest -x --timeout 0.1', '--protect', 'data/**', '--include', 'calc.py', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ language: 'python', image: 'evogit/python:3', protect: ['data/**'], include: ['calc.py'] });
    const config = await readFile(path.join(dir, 'evogit.yml'), 'utf8');
    expect(config).toMatch(/protected:\n\s+- evogit.yml\n\s+- data\/\*\*/);
    expect(config).toMatch(/mutate:\n\s+include:\n\s+- calc.py/);
    // The task runs the user's command with its flags, evogit's report flags after "pytest".
    const { discoverTasks } = await import('../../src/tasks/index.js');
    const { loadConfig } = await import('../../src/config/index.js');
    const tasks = await discoverTasks(dir, 'HEAD', await loadConfig(dir));
    expect(tasks.map((t) => t.id)).toEqual(['tests/test_calc.py']);
    expect(tasks[0]!.command.slice(0, 3)).toEqual(['python3', '-m', 'pytest']);
    expect(tasks[0]!.command.slice(-4)).toEqual(['-x', '--timeout', '0.1', 'tests/test_calc.py']);
    // Detected without --test: pytest, from the conftest.py.
    const auto = track(await makeRepo({ 'conftest.py': '', 'test_x.py': 'def test_x():\n    assert True\n' }));
    const d = await evogit(auto, ['init', '--json']);
    expect(d.exitCode, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout)).toMatchObject({ language: 'python', testCommand: 'python3 -m pytest' });
  });

  it('with no test command to detect, the hint is in the project\'s language', async () => {
    const dir = track(await makeRepo({ 'tool.py': 'print(1)\n' }));
    const r = await evogit(dir, ['init']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('E_NO_TEST_COMMAND');
    expect(r.stderr).toContain('evogit init --test "python3 -m pytest"');
    expect(r.stderr).not.toContain('npm test');
  });

  it('reports a malformed config by path, with a non-zero exit', async () => {
    const dir = track(await makeRepo(nodeProject));
    expect((await evogit(dir, ['init'])).exitCode).toBe(0);
    await writeFile(path.join(dir, 'evogit.yml'), 'test:\n  command: npm test\nsandbox:\n  pids: -3\n  colour: red\n');
    const r = await evogit(dir, ['status']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/E_CONFIG_INVALID: evogit.yml: sandbox(\.pids)?:/);
    await writeFile(path.join(dir, 'evogit.yml'), 'test: [unclosed\n');
    const syntax = await evogit(dir, ['status']);
    expect(syntax.exitCode).toBe(1);
    expect(syntax.stderr).toMatch(/E_CONFIG_SYNTAX: evogit.yml:\d+ is not valid YAML/);
  });

  it('status --json lists the root with the documented fields; -C works like git', async () => {
    const dir = track(await makeRepo(nodeProject));
    expect((await evogit(dir, ['init'])).exitCode).toBe(0);
    const elsewhere = track(await tempDir());
    const r = await evogit(elsewhere, ['-C', dir, 'status', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const status = JSON.parse(r.stdout) as { root: string; nodes: Record<string, unknown>[] };
    expect(status.nodes).toHaveLength(1);
    const root = status.nodes[0]!;
    for (const key of ['id', 'parents', 'branch', 'agent', 'operator', 'own', 'clade', 'pruned', 'promoted']) expect(root).toHaveProperty(key);
    expect(root.id).toBe(status.root);
    expect(root.own).toEqual({ pass: 0, fail: 0, error: 0 });
    expect(root.clade).toEqual({ pass: 0, fail: 0 });
  });

  it('show names an unknown node clearly', async () => {
    const dir = track(await makeRepo(nodeProject));
    expect((await evogit(dir, ['init'])).exitCode).toBe(0);
    const r = await evogit(dir, ['show', 'deadbeef']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/E_UNKNOWN_NODE/);
  });

  it('show prints evaluations with their log tails, and --log falls back to the tail in the note', async () => {
    const dir = track(await makeRepo(nodeProject));
    expect((await evogit(dir, ['init'])).exitCode).toBe(0);
    const archive = await Archive.open({ repoDir: dir });
    const root = (await archive.root()) as string;
    const tail = 'not ok 1 - adds\n# expected 5, got -1 "quoted" \\ ✓';
    await archive.appendEvaluations('a1', [{ node: root, task: 'test/add.test.js', outcome: 'fail', durationMs: 5, harness: 'local', writer: 'a1', time: '2025-01-01T00:00:00.000Z', log: tail }]);
    const json = await evogit(dir, ['show', 'evo/root', '--json']);
    expect(json.exitCode, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { evaluations: { log?: string }[] }).evaluations.map((e) => e.log)).toEqual([tail]);
    const text = await evogit(dir, ['show', 'evo/root', '--log', 'test/add.test.js']);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toContain('(tail kept in the note)');
    expect(text.stdout).toContain(tail);
  });
});

describe('evogit eval, best and pr on a real repository (local sandbox)', () => {
  async function initLocal(): Promise<string> {
    const dir = track(await makeRepo(nodeProject));
    expect((await evogit(dir, ['init', '--sandbox', 'local'])).exitCode).toBe(0);
    expect(await readFile(path.join(dir, 'evogit.yml'), 'utf8')).toMatch(/kind: local/);
    return dir;
  }

  it('eval --json runs every task on a commit, records it in the archive, and best names the evidence', async () => {
    const dir = await initLocal();
    await writeFile(path.join(dir, 'src/add.js'), 'export const add = (a, b) => a + b;\n');
    await git(dir, ['commit', '-qam', 'fix add by hand']);
    const r = await evogit(dir, ['eval', 'HEAD', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/isolates nothing/i);
    const result = JSON.parse(r.stdout) as { commit: string; runs: { task: string; outcome: string; durationMs: number; tests: { passed: number; total: number } }[] };
    expect(result.runs).toHaveLength(1);
    expect(result.runs[0]).toMatchObject({ task: 'test/add.test.js', outcome: 'pass', tests: { passed: 1, total: 1 } });
    expect(result.runs[0]!.durationMs).toBeGreaterThan(0);
    const notes = await git(dir, ['log', '--notes=evogit/*', '-1', '--format=%N', result.commit]);
    expect(notes).toMatch(/"outcome":"pass"/);

    const broken = await evogit(dir, ['eval', 'evo/root', '--json']);
    expect(broken.exitCode, broken.stderr).toBe(0);
    expect((JSON.parse(broken.stdout) as { runs: { outcome: string }[] }).runs[0]!.outcome).toBe('fail');

    // A commit that changes the evaluator's config is never graded: it is tampering.
    await writeFile(path.join(dir, 'evogit.yml'), `${await readFile(path.join(dir, 'evogit.yml'), 'utf8')}\ngoal: anything goes\n`);
    await git(dir, ['commit', '-qam', 'edit the config']);
    const tampered = JSON.parse((await evogit(dir, ['eval', 'HEAD', '--json'])).stdout) as { runs: { outcome: string; tampered?: boolean }[] };
    expect(tampered.runs[0]).toMatchObject({ outcome: 'fail', tampered: true });

    const unknown = await evogit(dir, ['eval', 'HEAD', '--task', 'nope.test.js']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/E_UNKNOWN_TASK/);
  });

  it('pr with forge.minimize re-runs the node\'s passed tasks in the sandbox and proposes only the hunks they need', async () => {
    const dir = await initLocal();
    const remote = track(await tempDir());
    await initRepo(remote, { bare: true });
    await git(dir, ['remote', 'add', 'origin', remote]);
    await git(dir, ['push', '--quiet', 'origin', 'main']);
    const token = 'ghp_FAKE_minimize_0123456789';
    const gh = await startGitHubServer({ token, owner: 'octo', repo: 'lib', bareRepo: remote });
    try {
      // The forge settings in the working tree's evogit.yml (read by the CLI; the root keeps its own).
      const config = await readFile(path.join(dir, 'evogit.yml'), 'utf8');
      expect(config).not.toMatch(/^forge:/m);
      await writeFile(path.join(dir, 'evogit.yml'), `${config}\nforge:\n  repo: octo/lib\n  baseUrl: ${gh.url}\n  base: main\n  minimize: true\n  rule: { margin: 0, minEvaluations: 3 }\n`);
      // A node on top of the root: the fix, plus two hunks the test does not need.
      await git(dir, ['checkout', '--quiet', '--detach', 'evo/root']);
      await writeFile(path.join(dir, 'src/add.js'), 'export const add = (a, b) => a + b;\n');
      await writeFile(path.join(dir, 'NOTES.md'), 'scratch\n');
      await writeFile(path.join(dir, 'package.json'), nodeProject['package.json'].replace('1.0.0', '1.0.1'));
      await git(dir, ['add', 'src/add.js', 'NOTES.md', 'package.json']);
      await git(dir, ['commit', '--quiet', '-m', 'Fix add, bump the version, take notes']);
      await git(dir, ['branch', 'evo/manual/1']);
      await git(dir, ['checkout', '--quiet', 'main']);
      for (let i = 0; i < 3; i++) {
        for (const target of ['evo/manual/1', 'evo/root']) expect((await evogit(dir, ['eval', target])).exitCode).toBe(0);
      }
      const node = await revParse(dir, 'evo/manual/1');
      const root = await revParse(dir, 'evo/root');

      const plan = await evogit(dir, ['pr', 'evo/manual/1', '--dry-run'], { GITHUB_TOKEN: token });
      expect(plan.exitCode, plan.stderr).toBe(0);
      expect(plan.stdout).toContain('the smallest part of');
      const r = await evogit(dir, ['pr', 'evo/manual/1', '--json'], { GITHUB_TOKEN: token });
      expect(r.exitCode, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout) as { action: string; minimized: { commit: string; kept: number; total: number; validations: number } };
      expect(result.action).toBe('opened');
      expect(result.minimized).toMatchObject({ kept: 1, total: 3 });
      expect(result.minimized.validations).toBeGreaterThan(1);
      const head = (await git(remote, ['rev-parse', `refs/heads/evogit/pr/${node.slice(0, 12)}`])).trim();
      expect(head).toBe(result.minimized.commit);
      expect((await git(dir, ['diff', '--name-only', root, head])).trim()).toBe('src/add.js');
      expect(gh.pulls[0]!.body).toContain('## Minimized');
      // The validation runs are not evaluations of the archive: only the six evals are there.
      const archive = await Archive.open({ repoDir: dir });
      const snap = await archive.load();
      expect([...snap.evaluations.values()].flat()).toHaveLength(6);
      expect(gh.violations).toEqual([]);
    } finally {
      await gh.close();
    }
  });

  it('best --json on a fresh archive answers the root, and pr refuses without a forge repository', async () => {
    const dir = await initLocal();
    const best = await evogit(dir, ['best', '--json']);
    expect(best.exitCode, best.stderr).toBe(0);
    const root = await revParse(dir, 'evo/root');
    expect(JSON.parse(best.stdout)).toMatchObject({ node: root, pass: 0, fail: 0 });
    const pr = await evogit(dir, ['pr', 'evo/root', '--dry-run']);
    expect(pr.exitCode).not.toBe(0);
    expect(pr.stderr).toMatch(/error E_/);
  });
});

describe('DGM mode from the command line', () => {
  it('init --template agent commits the seed agent in an empty repository, and tasks import/list work on the bundled suite', async () => {
    const dir = track(await tempDir());
    await initRepo(dir);
    const r = await evogit(dir, ['init', '--template', 'agent']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'agent.js'))).toBe(true);
    expect(await readFile(path.join(dir, 'evogit.yml'), 'utf8')).toMatch(/mode: agent/);
    const polyglot = path.resolve(import.meta.dirname, '..', '..', 'examples', 'suites', 'polyglot');
    const imported = await evogit(dir, ['tasks', 'import', polyglot, '--name', 'poly']);
    expect(imported.exitCode, imported.stderr).toBe(0);
    const list = await evogit(dir, ['tasks', 'list', '--json']);
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/"poly"/);
    const missing = await evogit(dir, ['tasks', 'import']);
    expect(missing.exitCode).toBe(2);
  });
});

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Archive } from '../../src/archive/index.js';
import { EvogitError } from '../../src/errors/index.js';
import { importSuite, listSuites, loadSuite, parseSweConfig, parseSweJsonl, splitOf, sweTestFor, SUITES_DIR } from '../../src/suites/index.js';
import { evogit, git, makeRepo, removedAfterAll, revParse } from '../helpers/repo.js';
import { polyglotCopy, sweSuite } from './fixtures.js';

const dirs = removedAfterAll();

async function evolvingRepo(): Promise<string> {
  const repo = await makeRepo({ 'README.md': 'an agent\n', 'evogit.yml': 'version: 1\ntest:\n  command: node --test\n  protected:\n    - evogit.yml\n' });
  dirs.push(repo);
  const archive = await Archive.open({ repoDir: repo });
  await archive.createRoot('HEAD');
  return repo;
}

describe('tasks import', () => {
  it('imports a Polyglot suite: exercises committed under .evogit/suites, protected, the root moved with it', async () => {
    const repo = await evolvingRepo();
    const src = await polyglotCopy();
    dirs.push(src);
    const r = await importSuite({ repoDir: repo, source: src, name: 'poly', fractions: { search: 0.5, selection: 0, heldout: 0.5 } });
    expect(r).toMatchObject({ name: 'poly', format: 'polyglot', tasks: 3, rootMoved: true });
    const suite = await loadSuite(repo, 'poly');
    expect(suite.tasks.map((t) => t.id).sort()).toEqual(['javascript/reverse-string', 'javascript/two-fer', 'python/leap']);
    const leap = suite.tasks.find((t) => t.id === 'python/leap')!;
    expect(leap.testFiles).toEqual(['leap_test.py']);
    expect(leap.problem).toContain('divisible by 4');
    expect((await readFile(path.join(repo, 'evogit.yml'), 'utf8'))).toContain(`${SUITES_DIR}/**`);
    expect(await git(repo, ['status', '--porcelain'])).toBe('');
    const root = await (await Archive.open({ repoDir: repo })).root();
    expect(root).toBe(r.commit);
    // The split is the seeded hash rule, per id.
    for (const t of suite.tasks) expect(t.split).toBe(splitOf(t.id, 0, suite.fractions));
    expect(await listSuites(repo)).toEqual([{ name: 'poly', format: 'polyglot', tasks: 3, splits: r.splits, seed: 0 }]);
  });

  it('imports a SWE suite built from a repository history; base commits pinned in the evolving repo', async () => {
    const repo = await evolvingRepo();
    const swe = await sweSuite();
    dirs.push(swe.dir);
    const r = await importSuite({ repoDir: repo, source: swe.jsonl, seed: 7 });
    expect(r).toMatchObject({ name: 'swe', format: 'swe', tasks: 2 });
    const suite = await loadSuite(repo, 'swe');
    const t = suite.tasks[0]!;
    expect(t.grading).toEqual({ kind: 'tests', failToPass: ['clamp keeps values within bounds'], passToPass: ['add sums two numbers'] });
    expect(t.base.kind).toBe('commit');
    if (t.base.kind === 'commit') {
      expect(await revParse(repo, t.base.ref)).toBe(t.base.commit);
    }
    expect(t.test.command.slice(0, 2)).toEqual(['node', '--test']);
    expect(t.test.format).toBe('tap');
  });

  it('rejects a malformed record with its line number, and imports nothing', async () => {
    const repo = await evolvingRepo();
    const swe = await sweSuite();
    dirs.push(swe.dir);
    const lines = (await readFile(swe.jsonl, 'utf8')).split('\n').filter(Boolean);
    const broken = JSON.parse(lines[1]!) as Record<string, unknown>;
    broken.FAIL_TO_PASS = 'clamp keeps values within bounds';
    await writeFile(swe.jsonl, [lines[0], '', JSON.stringify(broken)].join('\n'));
    const head = await git(repo, ['rev-parse', 'HEAD']);
    const err = await importSuite({ repoDir: repo, source: swe.jsonl }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EvogitError);
    expect((err as Error).message).toBe('swe.jsonl:3: FAIL_TO_PASS is not a JSON list of test ids');
    expect(await git(repo, ['rev-parse', 'HEAD'])).toBe(head);
    expect(await git(repo, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
    expect(await listSuites(repo)).toEqual([]);
  });

  it('parses the dataset forms and names each defect', () => {
    const ok = { instance_id: 'a-1', repo: 'o/r', base_commit: 'a'.repeat(40), problem_statement: 'p', test_patch: 'diff --git a/x b/x\n', FAIL_TO_PASS: '["t1"]', PASS_TO_PASS: '[]' };
    expect(parseSweJsonl(JSON.stringify(ok))[0]).toMatchObject({ failToPass: ['t1'], passToPass: [] });
    const cases: [Record<string, unknown>, string][] = [
      [{ ...ok, base_commit: 'main' }, 'base_commit "main" is not a full 40-hex commit SHA'],
      [{ ...ok, PASS_TO_PASS: '[1]' }, 'PASS_TO_PASS is not a JSON list of test ids'],
      [{ ...ok, test_patch: 'nope' }, 'test_patch is not a git diff'],
      [{ ...ok, problem_statement: undefined }, 'problem_statement is missing or not a non-empty string'],
    ];
    for (const [rec, message] of cases) expect(() => parseSweJsonl(`${JSON.stringify(ok)}\n${JSON.stringify(rec)}\n`, 's.jsonl')).toThrow(`s.jsonl:2: ${message}`);
    expect(() => parseSweJsonl('{"a":\n', 's.jsonl')).toThrow(/^s\.jsonl:1: not valid JSON/);
    expect(() => parseSweJsonl(`${JSON.stringify(ok)}\n${JSON.stringify(ok)}`, 's.jsonl')).toThrow('s.jsonl:2: instance_id "a-1" repeats line 1');
  });

  it('reads the suite config: install and setup per suite, overridden per instance', () => {
    const config = parseSweConfig({ repos: { 'o/r': './r' }, test: { command: 'pytest', install: ['pip install -e .'] }, instances: { 'a-2': { test: { install: ['pip install -e .[dev]'], setup: ['export X=1'] } } } });
    expect(sweTestFor(config, 'a-1')).toMatchObject({ install: ['pip install -e .'], format: 'junit' });
    expect(sweTestFor(config, 'a-1').setup).toBeUndefined();
    expect(sweTestFor(config, 'a-2')).toMatchObject({ install: ['pip install -e .[dev]'], setup: ['export X=1'] });
    expect(sweTestFor(parseSweConfig({ repos: {}, test: { command: 'node --test' } }), 'x').install).toBeUndefined();
    expect(() => parseSweConfig({ repos: {}, test: { command: 'pytest', install: 'pip install .' } }, 'swe.yml')).toThrow(/^swe\.yml: test\.install: /);
  });

  it('splits deterministically by id, independent of the other instances, close to the fractions', () => {
    const f = { search: 0.6, selection: 0.2, heldout: 0.2 };
    const ids = Array.from({ length: 2000 }, (_, i) => `inst-${i}`);
    const counts = { search: 0, selection: 0, heldout: 0 };
    for (const id of ids) counts[splitOf(id, 3, f)]++;
    expect(counts.search / 2000).toBeGreaterThan(0.55);
    expect(counts.heldout / 2000).toBeGreaterThan(0.16);
    expect(counts.heldout / 2000).toBeLessThan(0.24);
    expect(ids.map((id) => splitOf(id, 3, f))).toEqual(ids.map((id) => splitOf(id, 3, f)));
  });
});

describe('tasks import: the bugs a new user met', () => {
  it('--force on an unchanged suite commits nothing and succeeds; a changed one is committed', async () => {
    const repo = await evolvingRepo();
    const src = await polyglotCopy();
    dirs.push(src);
    const first = await importSuite({ repoDir: repo, source: src, name: 'poly' });
    const again = await importSuite({ repoDir: repo, source: src, name: 'poly', force: true });
    expect(again).toMatchObject({ unchanged: true, commit: first.commit, rootMoved: false });
    expect(await revParse(repo)).toBe(first.commit);
    const changed = await importSuite({ repoDir: repo, source: src, name: 'poly', force: true, seed: 5 });
    expect(changed.unchanged).toBe(false);
    expect(changed.commit).not.toBe(first.commit);
    // The bin, as the issue ran it: exit 0, not 70.
    const cli = await evogit(repo, ['tasks', 'import', src, '--name', 'poly', '--force', '--seed', '5']);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('unchanged');
  });

  it('a suite imported on a commit on top of the root is found by the evaluator (the root does not move)', async () => {
    const repo = await evolvingRepo();
    const root = await (await Archive.open({ repoDir: repo })).root();
    await writeFile(path.join(repo, 'agent.md'), 'more\n');
    await git(repo, ['add', 'agent.md']);
    await git(repo, ['commit', '-qm', 'work after init']);
    const src = await polyglotCopy();
    dirs.push(src);
    const r = await importSuite({ repoDir: repo, source: src, name: 'poly' });
    expect(r.rootMoved).toBe(false);
    expect(await (await Archive.open({ repoDir: repo })).root()).toBe(root);
    const suite = await loadSuite(repo, 'poly', root!);
    expect(suite.commit).toBe(r.commit);
    expect(suite.tasks).toHaveLength(3);
    await expect(loadSuite(repo, 'nope', root!)).rejects.toMatchObject({ code: 'E_NO_SUITE' });
  });

  it('refuses a test patch that does not apply to its base commit, naming the line', async () => {
    const repo = await evolvingRepo();
    const swe = await sweSuite();
    dirs.push(swe.dir);
    const lines = (await readFile(swe.jsonl, 'utf8')).split('\n').filter(Boolean);
    const rec = JSON.parse(lines[1]!) as Record<string, string>;
    rec.test_patch = rec.test_patch!.replace(/^ (.*)$/m, ' $1 // not in the base');
    await writeFile(swe.jsonl, `${lines[0]}\n${JSON.stringify(rec)}\n`);
    const err = await importSuite({ repoDir: repo, source: swe.jsonl }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_SUITE_RECORD' });
    expect((err as Error).message).toMatch(/^swe\.jsonl:2: test_patch does not apply to base_commit [0-9a-f]{12}: /);
    expect(await listSuites(repo)).toEqual([]);
  });

  it('names the languages it cannot test and how many exercises that drops', async () => {
    const repo = await evolvingRepo();
    const src = await polyglotCopy();
    dirs.push(src);
    await mkdir(path.join(src, 'cobol', 'exercises', 'practice', 'a'), { recursive: true });
    await mkdir(path.join(src, 'cobol', 'exercises', 'practice', 'b'), { recursive: true });
    const r = await importSuite({ repoDir: repo, source: src, name: 'poly' });
    expect(r.skipped).toEqual(['cobol: 2 exercise(s) not imported (evogit has no test command for cobol)']);
  });
});

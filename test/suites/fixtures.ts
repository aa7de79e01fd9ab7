/** Small suites made in this repository: the Polyglot examples and the SWE suite built from a tiny repo's history. */
import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../../src/proc/index.js';
import { GIT_ENV, git, tempDir } from '../helpers/repo.js';

export const EXAMPLES = path.resolve(import.meta.dirname, '..', '..', 'examples', 'suites');

/** A fresh copy of examples/suites/polyglot (tests may break it). */
export async function polyglotCopy(): Promise<string> {
  const dir = await tempDir('evogit-polyglot-');
  await cp(path.join(EXAMPLES, 'polyglot'), dir, { recursive: true });
  return dir;
}

export interface SweSuite {
  dir: string;
  jsonl: string;
  /** The gold patches by instance id (the fix commit's non-test diff). */
  gold: Record<string, string>;
}

/**
 * A SWE-bench style suite over a small Python package's history, tested with pytest as its
 * authors would (`python3 -m pytest -q tests`): a bug fix whose test patch adds a parametrized
 * test and a test in a class. Instance `calc-1` is the fix; `calc-stale` claims as its
 * FAIL_TO_PASS a test that already passes at the base (an invalid instance).
 */
export async function pytestSweSuite(): Promise<SweSuite> {
  const dir = await tempDir('evogit-swe-py-');
  const repo = path.join(dir, 'pycalc');
  const g = (...args: string[]) => git(repo, args);
  const { mkdir, writeFile } = await import('node:fs/promises');
  const put = async (files: Record<string, string>) => {
    for (const [f, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(repo, f)), { recursive: true });
      await writeFile(path.join(repo, f), text);
    }
    await g('add', '--all');
  };
  await mkdir(repo, { recursive: true });
  await g('init', '--quiet', '--initial-branch=main');
  await put({
    'pycalc/__init__.py': 'def add(a, b):\n    return a + b\n\n\ndef mean(xs):\n    return sum(xs) // len(xs)\n',
    'tests/test_calc.py':
      'import pytest\n\nfrom pycalc import add, mean\n\n\nclass TestAdd:\n    @pytest.mark.parametrize("a,b,want", [(1, 2, 3), (-1, 1, 0)])\n    def test_add(self, a, b, want):\n        assert add(a, b) == want\n\n\ndef test_mean_whole():\n    assert mean([2, 4]) == 3\n',
    'setup.cfg': '[tool:pytest]\naddopts = -p no:randomly\n',
  });
  await g('commit', '--quiet', '-m', 'pycalc: add and mean');
  const base = (await g('rev-parse', 'HEAD')).trim();
  await put({
    'pycalc/__init__.py': 'def add(a, b):\n    return a + b\n\n\ndef mean(xs):\n    return sum(xs) / len(xs)\n',
    'tests/test_calc.py':
      'import pytest\n\nfrom pycalc import add, mean\n\n\nclass TestAdd:\n    @pytest.mark.parametrize("a,b,want", [(1, 2, 3), (-1, 1, 0)])\n    def test_add(self, a, b, want):\n        assert add(a, b) == want\n\n\ndef test_mean_whole():\n    assert mean([2, 4]) == 3\n\n\n@pytest.mark.parametrize("xs,want", [([1, 2], 1.5), ([1.0, 2.0, 4.0], 7 / 3)])\ndef test_mean_fraction(xs, want):\n    assert mean(xs) == pytest.approx(want)\n',
  });
  await g('commit', '--quiet', '-m', 'Fix mean: true division');
  const fix = (await g('rev-parse', 'HEAD')).trim();
  const testPatch = await g('diff', '--no-color', base, fix, '--', 'tests');
  const patch = await g('diff', '--no-color', base, fix, '--', '.', ':(exclude)tests');
  const record = (id: string, f2p: string[], p2p: string[]) => ({
    instance_id: id,
    repo: 'evogit/pycalc',
    base_commit: base,
    problem_statement: 'mean([1, 2]) returns 1: it must return the arithmetic mean, 1.5.',
    test_patch: testPatch,
    patch,
    FAIL_TO_PASS: JSON.stringify(f2p),
    PASS_TO_PASS: JSON.stringify(p2p),
  });
  const p2p = ['tests/test_calc.py::TestAdd::test_add[1-2-3]', 'tests/test_calc.py::TestAdd::test_add[-1-1-0]', 'tests/test_calc.py::test_mean_whole'];
  const lines = [record('calc-1', ['tests/test_calc.py::test_mean_fraction[xs0-1.5]', 'tests/test_calc.py::test_mean_fraction[xs1-2.3333333333333335]'], p2p), record('calc-stale', ['tests/test_calc.py::test_mean_whole'], p2p.slice(0, 2))];
  const jsonl = path.join(dir, 'swe.jsonl');
  await writeFile(jsonl, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  await writeFile(path.join(dir, 'swe.yml'), 'repos:\n  evogit/pycalc: ./pycalc\ntest:\n  command: python3 -m pytest -q tests\n');
  return { dir, jsonl, gold: { 'calc-1': patch, 'calc-stale': patch } };
}

/** Run examples/suites/swe/make-suite.mjs into a temp dir. */
export async function sweSuite(): Promise<SweSuite> {
  const dir = await tempDir('evogit-swe-');
  await run(process.execPath, [path.join(EXAMPLES, 'swe', 'make-suite.mjs'), dir], { cwd: dir, env: GIT_ENV });
  const jsonl = path.join(dir, 'swe.jsonl');
  const gold: Record<string, string> = {};
  for (const line of (await readFile(jsonl, 'utf8')).split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { instance_id: string; patch: string };
    gold[r.instance_id] = r.patch;
  }
  return { dir, jsonl, gold };
}

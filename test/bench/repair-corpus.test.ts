// bench/repair builds its JavaScript programs from a snapshot of the upstream repository: the
// fix commit's parent with the fix commit's tests, their imports pointed at the sources and our
// tape stand-in. Here the upstream is a real git repository made in a temp dir.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsPrograms, type JsBug } from '../../bench/repair/js-corpus.js';
import { runTestsOnce } from '../../bench/repair/run.js';
import { appendResult, readResults } from '../../bench/repair/results.js';
import { locateSources, MissingSourcesError } from '../../bench/repair/sources.js';
import { commitAll, writeFiles, makeRepo, tempDir, removeDir } from '../helpers/repo.js';

let root: string;
let fixCommit: string;


beforeAll(async () => {
  root = await tempDir('evogit-repair-corpus-test-');
  // A clone under the snapshot directory as `owner+name` (the layout a session's fetch leaves is `owner+name/repo`).
  const up = path.join(root, 'snapshots', 'someone+sums', 'repo');
  await makeRepo({ license: 'MIT\n', 'src/index.js': 'export function total(xs) {\n  let s = 0;\n  for (let i = 1; i < xs.length; i++) s += xs[i];\n  return s;\n}\n' }, up, { message: 'sums' });
  await writeFiles(up, {
    'src/index.js': 'export function total(xs) {\n  let s = 0;\n  for (let i = 0; i < xs.length; i++) s += xs[i];\n  return s;\n}\n',
    'test/index.js': "const test = require('tape');\nconst sums = require('../dist/sums');\n\ntest('total', (t) => {\n  t.is(sums.total([1, 2, 3]), 6);\n  t.end();\n});\n",
  });
  fixCommit = await commitAll(up, 'fix: count the first item');
});

afterAll(() => removeDir(root));

const bug = (): JsBug => ({
  name: 'sums-first-item',
  manifest: {
    repo: 'someone/sums',
    commit: fixCommit,
    class: 'off-by-one',
    fix: 'i = 1 → i = 0',
    buggy: 'src/index.js',
    sources: ['license'],
    tests: ['test/index.js'],
    module: 'module',
    requireToImport: true,
    imports: { tape: 'stand-in:tape.cjs', '../dist/sums': '../src/index.js' },
  },
});

describe('bench/repair corpus from a snapshot', () => {
  it('builds the buggy parent with the fix commit’s tests: the buggy program fails them, the known fix passes', async () => {
    const snapshots = await locateSources([{ repo: 'someone/sums', commits: [fixCommit] }], { dir: path.join(root, 'snapshots') });
    const [program] = await jsPrograms([bug()], snapshots, path.join(root, 'built'));
    expect(program!.files.map(([rel]) => rel)).toEqual(['license', 'package.json', 'src/index.js', 'test/helpers/tape.cjs', 'test/index.js']);
    // A module without a default export is imported as a namespace, from the source, through the stand-in.
    const test = await readFile(program!.files.find(([rel]) => rel === 'test/index.js')![1], 'utf8');
    expect(test).toContain("import * as sums from '../src/index.js';");
    expect(test).toContain("import test from './helpers/tape.cjs';");
    expect((await runTestsOnce(program!, 'buggy')).passed).toBe(false);
    expect((await runTestsOnce(program!, 'fix')).passed).toBe(true);
  });

  it('names what to fetch when a snapshot is missing or lacks the commit', async () => {
    const needs = [
      { repo: 'someone/sums', commits: ['0'.repeat(40)] },
      { repo: 'other/absent', commits: ['1'.repeat(40)] },
    ];
    const e = await locateSources(needs, { dir: path.join(root, 'snapshots') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MissingSourcesError);
    const text = (e as Error).message;
    expect(text).toContain('lacks commit 000000000000');
    expect(text).toContain('other/absent (commit 111111111111): no snapshot found');
    expect(text).toContain('fetch github:other/absent');
    expect(text).toMatch(/git clone --bare \S+other\/absent "\$DIR\/other\+absent"/);
  });
});

describe('bench/repair results', () => {
  it('keep a repair’s upstream-derived source out of the committed line, and give it back only while it is unchanged', async () => {
    const dir = path.join(root, 'results');
    const facts = { program: 'js/sums-first-item', bugClass: 'off-by-one', label: 'x', strategy: 'mutate' as const, seed: 1, budget: 30, timeout: '3s', rootChildren: 4, maxDepth: 1, at: '', evaluations: 7, nodes: 6, wallMs: 1, totalMs: 2 };
    const source = 'export function total(xs) { return xs.reduce((a, b) => a + b, 0); }\n';
    await appendResult(dir, { ...facts, repaired: true, repairSource: source, repairDiff: '-a\n+b\n' });
    await appendResult(dir, { ...facts, seed: 2, repaired: false, reason: 'evaluation budget spent' });
    const line = await readFile(path.join(dir, 'x.jsonl'), 'utf8');
    expect(line).not.toContain('reduce');
    expect(line).not.toContain('repairDiff');
    const [repaired, missed] = await readResults(dir, 'x');
    expect(repaired!.repairSource).toBe(source);
    expect(missed!.repairSource).toBeUndefined();
    const side = path.join(dir, 'repairs', 'x', 'js__sums-first-item#1.json');
    await writeFile(side, JSON.stringify({ repairSource: 'something else', repairDiff: '' }));
    expect((await readResults(dir, 'x'))[0]!.repairSource).toBeUndefined();
  });
});

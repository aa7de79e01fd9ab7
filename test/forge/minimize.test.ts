import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ddmin, minimizePatch, splitPatch } from '../../src/forge/index.js';
import { run } from '../../src/proc/index.js';
import { git, makeRepo, revParse, tempDir } from '../helpers/repo.js';
import { commitNode } from './fixtures.js';

const CALC = (add: string, sub: string, mul: string, note = '') =>
  `export function add(a, b) {\n  return ${add};\n}\n\n${note}export function sub(a, b) {\n  return ${sub};\n}\n\n// ---\n// spacer\n// ---\n\nexport function mul(a, b) {\n  return ${mul};\n}\n`;

describe('minimizePatch', () => {
  it('drops the hunks the test command does not need, validating each candidate with a real run', async () => {
    // Everything lives under one fresh temp directory: the repo and the checkout copies.
    const top = await tempDir('evogit-minimize-');
    const dir = join(top, 'repo');
    try {
      const files = {
        'calc.js': CALC('a - b', 'a - b', 'a + b'),
        'check.mjs': 'import { add, mul } from "./calc.js";\nif (add(2, 3) !== 5 || mul(2, 3) !== 6) process.exit(1);\n',
        'package.json': '{"type":"module"}\n',
        'README.md': '# calc\n',
      };
      const root = await revParse(await makeRepo(files, dir, { message: 'base' }));
      const node = await commitNode(
        dir,
        root,
        {
          'calc.js': CALC('a + b', '(a - b) /* same */', 'a * b', '// a harmless comment\n'),
          'README.md': '# calc\n\nNow with arithmetic.\n',
          'NOTES.txt': 'scratch\n',
        },
        'Fix add and mul, and some noise',
        { agent: 'a1', operator: 'mutate' },
      );
      const seen: string[] = [];
      const validate = async (sha: string) => {
        seen.push(sha);
        const out = join(top, `check-${seen.length}`);
        await mkdir(out);
        try {
          await git(dir, ['archive', '--format=tar', '-o', `${out}.tar`, sha]);
          await run('tar', ['-xf', `${out}.tar`, '-C', out], { cwd: dir });
          return (await run('node', ['check.mjs'], { cwd: out, reject: false })).exitCode === 0;
        } finally {
          await rm(out, { recursive: true, force: true });
          await rm(`${out}.tar`, { force: true });
        }
      };
      expect(await validate(node)).toBe(true);
      expect(await validate(root)).toBe(false);
      seen.length = 0;

      const r = await minimizePatch({ repoDir: dir, node, root, validate });
      expect(r.total).toBe(6); // add, comment, sub, mul, README, NOTES.txt
      expect(r.kept).toBe(2);
      expect(r.minimized).toBe(true);
      expect(r.validations).toBe(seen.length);
      expect(r.paths).toEqual(['calc.js']);
      expect(await validate(r.commit)).toBe(true);
      expect(await revParse(dir, `${r.commit}^`)).toBe(root);
      expect((await git(dir, ['diff', '--numstat', root, r.commit])).trim()).toBe('2\t2\tcalc.js');
      expect((await git(dir, ['show', `${r.commit}:calc.js`])).trim()).toBe(CALC('a + b', 'a - b', 'a * b').trimEnd());
      expect(await git(dir, ['log', '-1', '--format=%B', r.commit])).toContain(`Evogit-Minimized-From: ${node}`);
      // No worktree or index was touched.
      expect(await git(dir, ['status', '--porcelain'])).toBe('');
    } finally {
      await rm(top, { recursive: true, force: true });
    }
  });
});

describe('ddmin', () => {
  it('finds a 1-minimal subset', async () => {
    const calls: number[][] = [];
    const needed = [3, 11, 12];
    const r = await ddmin([...Array(16).keys()], async (s) => {
      calls.push(s);
      return needed.every((x) => s.includes(x));
    });
    expect(r).toEqual(needed);
    // ddmin's worst case is quadratic in the number of units.
    expect(calls.length).toBeLessThanOrEqual(16 * 16);
  });
});

describe('splitPatch', () => {
  it('splits hunks per file and keeps new files whole', () => {
    const patch = [
      'diff --git a/x.js b/x.js',
      'index 1111111..2222222 100644',
      '--- a/x.js',
      '+++ b/x.js',
      '@@ -2 +2 @@',
      '-a',
      '+b',
      '@@ -9,0 +10 @@',
      '+c',
      'diff --git a/new.txt b/new.txt',
      'new file mode 100644',
      'index 0000000..3333333',
      '--- /dev/null',
      '+++ b/new.txt',
      '@@ -0,0 +1 @@',
      '+hello',
      '',
    ].join('\n');
    const units = splitPatch(patch);
    expect(units.map((u) => [u.path, u.hunk.split('\n')[0]])).toEqual([
      ['x.js', '@@ -2 +2 @@'],
      ['x.js', '@@ -9,0 +10 @@'],
      ['new.txt', ''],
    ]);
  });
});

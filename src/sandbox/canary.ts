/**
 * Canary tests: two tests with names drawn fresh for every run, written by evogit (never taken
 * from the candidate) and run in the same process as the candidate's code. One must pass; the
 * other must fail, and fails only when every common assertion of the runner still throws and
 * the runner still reports a failure as one. A candidate that turns assertions into no-ops,
 * rewrites the report, or ends the process before the tests ran cannot keep both canaries
 * right without telling them apart from the real tests (grading: tasks/grade.ts canaryRule).
 *
 * node --test: each test file is run through an entry that imports it and then declares the
 * canaries, so they run last, in the file's own process. pytest and evogit's unittest runner:
 * one extra test file with both canaries, in the same process as every test file.
 * vitest, jest and custom commands get no canaries (their reports are graded as before).
 */
import { randomBytes } from 'node:crypto';
import { countsOf, runnerOf, type ParsedResults, type Runner } from '../tasks/index.js';
import type { TarEntry } from './tar.js';
import { SECURE_TOKEN } from './types.js';

export interface Canaries {
  /** Name of the test that must pass. */
  pass: string;
  /** Name of the test that must fail. */
  fail: string;
}

export interface CanaryPlan {
  canaries: Canaries | null;
  /** The command with the canaries (and, in a split run, the privilege drop) wired in. */
  command: string[];
  /** Files for SandboxRunSpec.files (under `{secure}`). */
  files: TarEntry[];
  /** Run the command split (Docker): the test processes drop to the sandbox user. */
  split: boolean;
}

/** Where node entries live under `{secure}`; test ids that name one are mapped back to the test file. */
const ENTRIES = 'evogit-entries';

/** A name no candidate can know before the run: letters, so it reads as a test name in every runner. */
function randomName(): string {
  const bytes = randomBytes(12);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(97 + (b % 26));
  return s;
}

export function newCanaries(): Canaries {
  return { pass: `test_${randomName()}`, fail: `test_${randomName()}` };
}

/** The node --test entry for one test file: import it (a load failure becomes a failed test), then the canaries. */
export function nodeEntry(file: string, c: Canaries): string {
  const name = JSON.stringify;
  return `import test from 'node:test';
import assert from 'node:assert';
import strict from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const file = join(process.cwd(), ${name(file)});
try {
  await import(pathToFileURL(file).href);
} catch (error) {
  test(file, () => {
    throw error;
  });
}
test(${name(c.pass)}, () => {
  assert.equal(1, 1);
  assert.strictEqual('a', 'a');
  assert.deepStrictEqual({ a: [1] }, { a: [1] });
  assert.ok(true);
  strict.equal(1, 1);
});
test(${name(c.fail)}, async () => {
  const probes = [
    () => assert.equal(1, 2),
    () => assert.strictEqual(1, 2),
    () => assert.deepEqual({ a: 1 }, { a: 2 }),
    () => assert.deepStrictEqual({ a: 1 }, { a: 2 }),
    () => assert.notEqual(1, 1),
    () => assert.notStrictEqual(1, 1),
    () => assert.ok(false),
    () => assert(false),
    () => assert.match('a', /b/),
    () => assert.throws(() => undefined),
    () => assert.fail('x'),
    () => strict.equal(1, 2),
    () => strict.deepEqual({ a: 1 }, { a: 2 }),
    () => strict.ok(false),
  ];
  let threw = 0;
  for (const probe of probes) {
    try {
      probe();
    } catch {
      threw++;
    }
  }
  try {
    await assert.rejects(Promise.resolve());
  } catch {
    threw++;
  }
  if (threw === probes.length + 1) throw new Error('the assertions work');
});
`;
}

/** The canary test file for pytest and evogit's unittest runner (a unittest.TestCase, so both collect it). */
export function pythonCanaries(c: Canaries, className: string): string {
  return `import unittest


class ${className}(unittest.TestCase):
    def ${c.pass}(self):
        self.assertEqual(1, 1)
        self.assertTrue(True)
        assert 1 == 1

    def ${c.fail}(self):
        def plain_assert():
            assert 1 == 2

        probes = [
            lambda: self.assertEqual(1, 2),
            lambda: self.assertNotEqual(1, 1),
            lambda: self.assertTrue(False),
            lambda: self.assertFalse(True),
            lambda: self.assertIs(1, None),
            lambda: self.assertIsNone(1),
            lambda: self.assertIn(1, []),
            lambda: self.assertAlmostEqual(1.0, 2.0),
            lambda: self.assertListEqual([1], [2]),
            lambda: self.assertDictEqual({"a": 1}, {"a": 2}),
            lambda: self.assertRaises(ValueError, lambda: None),
            lambda: self.fail("x"),
            plain_assert,
        ]
        threw = 0
        for probe in probes:
            try:
                probe()
            except Exception:
                threw += 1
        if threw == len(probes):
            raise AssertionError("the assertions work")
`;
}

/** The privilege drop of a split run's test processes (node --test children carry NODE_TEST_CONTEXT; the runner itself does not). */
export function dropPreload(user: { uid: number; gid: number }): string {
  return `'use strict';
// evogit: a test process of a split run becomes the sandbox user before any test file loads.
if (process.env.NODE_TEST_CONTEXT && process.getuid && process.getuid() === 0) {
  process.setgroups([${user.gid}]);
  process.setgid(${user.gid});
  process.setuid(${user.uid});
}
`;
}

/**
 * Wire canaries (and, where `split`, the privilege drop) into a task's command. `testFiles` are
 * the task's test files as they appear in the command. Returns the command unchanged, with no
 * canaries, for runners that get none.
 */
export function planCanaries(runner: Runner, command: string[], testFiles: string[], opts: { split: boolean; user: { uid: number; gid: number } }): CanaryPlan {
  const none: CanaryPlan = { canaries: null, command, files: [], split: false };
  const files = new Set(testFiles);
  if (runner === 'node-test') {
    if (command[0] !== 'node' || !command.includes('--test')) return none;
    const canaries = newCanaries();
    const entries: TarEntry[] = [];
    let wired = false;
    const out = command.map((a) => {
      if (!files.has(a)) return a;
      wired = true;
      entries.push({ path: `${ENTRIES}/${a}.mjs`, content: nodeEntry(a, canaries) });
      return `${SECURE_TOKEN}/${ENTRIES}/${a}.mjs`;
    });
    const split = opts.split;
    const drop: TarEntry[] = split ? [{ path: 'drop.cjs', content: dropPreload(opts.user) }] : [];
    const withDrop = split ? [out[0] as string, '--require', `${SECURE_TOKEN}/drop.cjs`, ...out.slice(1)] : out;
    return { canaries: wired ? canaries : null, command: withDrop, files: [...entries, ...drop], split };
  }
  if (runner === 'pytest' || runner === 'unittest') {
    const canaries = newCanaries();
    const module = `test_${randomName()}`;
    const file: TarEntry = { path: `${module}.py`, content: pythonCanaries(canaries, `T${randomName()}`) };
    const at = `${SECURE_TOKEN}/${module}.py`;
    if (runner === 'pytest') {
      // First: collected (imported) before any module of the candidate; run in the same session.
      const i = command.findIndex((a) => files.has(a));
      if (i < 0) return none;
      return { canaries, command: [...command.slice(0, i), at, ...command.slice(i)], files: [file], split: false };
    }
    const i = command.findIndex((a) => a.endsWith('unittest_junit.py'));
    if (i < 0) return none;
    return { canaries, command: [...command.slice(0, i + 1), '--canary', at, ...command.slice(i + 1)], files: [file], split: false };
  }
  return none;
}

/** A node entry's path in a test id (a file-level result) back to the test file's path in the work dir. */
export function unwrapTestId(id: string, workDir = '/work'): string {
  const m = new RegExp(`^.*/${ENTRIES}/(.+)\\.mjs$`).exec(id);
  return m ? `${workDir}/${m[1]}` : id;
}

/** Parsed results with node entries' file-level ids mapped back to their test files. */
export function unwrapResults(parsed: ParsedResults | null): ParsedResults | null {
  if (!parsed || !Object.keys(parsed.tests).some((id) => id.includes(`/${ENTRIES}/`))) return parsed;
  const tests = Object.fromEntries(Object.entries(parsed.tests).map(([id, s]) => [unwrapTestId(id), s]));
  return { tests, counts: countsOf(tests) };
}

/** The runner a task's command uses (evogit's unittest runner is named by its script). */
export function runnerOfCommand(command: string[]): Runner {
  return command.some((a) => a.endsWith('unittest_junit.py')) ? 'unittest' : runnerOf(command);
}

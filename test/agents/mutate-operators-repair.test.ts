/**
 * Bugs that only one operator repairs in one edit (every other edit of the buggy file was run
 * against the tests and fails them), repaired by the mutate agent through the same
 * generate-and-test search as the bundled examples: the operator is in the neighbourhood,
 * and the weighting reaches it within a small budget (a few seconds each here).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repairSearch, type ExampleBug } from './mutate-repair.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const BUDGET = 150;

const BUGS: { bug: ExampleBug; operator: string; fix: RegExp }[] = [
  {
    bug: { id: 'operator-bugs/group-options', example: 'operator-bugs', root: FIXTURES, file: 'src/group-options.js', command: ['node', 'test/group-options.test.js'] },
    operator: 'receiver',
    fix: /^\+\s+\(groups\[typeof defaults\[name\]\] \|\| \[\]\)\.push\(name\);$/m,
  },
  {
    bug: { id: 'operator-bugs/path-length', example: 'operator-bugs', root: FIXTURES, file: 'bugs/path_length.py', command: ['python3', '-m', 'unittest', 'tests.test_path_length'] },
    operator: 'argument-swap',
    fix: /^\+\s+total \+= weights\[path\[i - 1\], path\[i\]\]$/m,
  },
];

describe(`mutate repairs a bug only one operator fixes, within ${BUDGET} candidates`, () => {
  for (const { bug, operator, fix } of BUGS) {
    it(`${bug.id} (${operator})`, { timeout: 120_000 }, async () => {
      const result = await repairSearch(bug, { strategy: 'mutate', budget: BUDGET, firstSeed: 1 });
      expect(result.repaired, `${bug.id}: no repair in ${result.evaluations} candidates`).toBe(true);
      expect(result.repair).toContain(operator);
      expect(result.diff).toMatch(fix);
      expect(result.diff?.match(/^diff --git/gm)).toHaveLength(1);
    });
  }
});

/**
 * The mutate agent repairs each bundled example bug, JS and Python, within a stated budget:
 * children of the buggy parent are generated with successive seeds and run with the
 * example's real test command on this machine (no network), until one passes.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_BUGS, repairSearch } from './mutate-repair.js';

/** Candidates evaluated at most per bug. */
const BUDGET = 300;

describe(`mutate repairs every bundled bug within ${BUDGET} candidates`, () => {
  for (const bug of EXAMPLE_BUGS) {
    it(bug.id, { timeout: 600_000 }, async () => {
      const result = await repairSearch(bug, { strategy: 'mutate', budget: BUDGET, firstSeed: 1 });
      expect(result.repaired, `${bug.id}: no repair in ${result.evaluations} candidates`).toBe(true);
      expect(result.evaluations).toBeLessThanOrEqual(BUDGET);
      // The repair edits the buggy module and nothing else.
      expect(result.diff).toContain(`a/${bug.file}`);
      expect(result.diff?.match(/^diff --git/gm)).toHaveLength(1);
    });
  }
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ArchiveSnapshot, Evaluation } from '../../src/archive/types.js';
import { createRng, decide, type Decision, type ScorerConfig, type ScorerInput } from '../../src/scorer/index.js';
import { CONFIG, TASKS, archiveArb, line, node, snapshot } from './archive.js';

/** One task per node, graded per test case: `passed` of 10. */
const graded = (id: string, passed: number): Evaluation =>
  line(id, 'test_program.py', passed === 10 ? 'pass' : 'fail', { tests: { passed, failed: 10 - passed, skipped: 0, total: 10 } });

function expansions(snap: ArchiveSnapshot, config: Partial<ScorerConfig> = {}, seeds = 300): Map<string, number> {
  const counts = new Map<string, number>();
  for (let seed = 0; seed < seeds; seed++) {
    const d = decide({ snapshot: snap, tasks: ['test_program.py'], now: 0, budget: {}, config: { ...CONFIG, ...config }, rng: createRng(seed) });
    expect(d.kind).toBe('expand');
    if (d.kind === 'expand') counts.set(d.node, (counts.get(d.node) ?? 0) + 1);
  }
  return counts;
}

describe('the breadth schedule (one or a few tasks per node)', () => {
  it('keeps expanding the best node, not its neutral or worse children, while it has few children', () => {
    const nodes = [node('r'), node('neutral', ['r']), node('worse', ['r'])];
    const snap = snapshot(nodes, [graded('r', 4), graded('neutral', 4), graded('worse', 1)]);
    const counts = expansions(snap);
    // The root's one-edit neighbourhood first; the odd exploratory draw may take its equal child.
    expect(counts.get('r') ?? 0).toBeGreaterThan(260);
    expect(counts.get('worse') ?? 0).toBe(0);
    // HGM's own rule spreads over the three (the deep random walk of the issue).
    const hgm = expansions(snap, { schedule: 'hgm' });
    expect(hgm.get('r') ?? 0).toBeLessThan(200);
    expect(hgm.get('worse') ?? 0).toBeGreaterThan(0);
  });

  it('moves to a child that beats its parent, and keeps growing the root now and then', () => {
    const nodes = [node('r'), node('better', ['r']), node('neutral', ['r'])];
    const counts = expansions(snapshot(nodes, [graded('r', 4), graded('better', 6), graded('neutral', 4)]), {}, 600);
    expect(counts.get('better') ?? 0).toBeGreaterThan(360);
    // A partial improvement is often not the fix: the root's neighbourhood still gets its turns.
    expect(counts.get('r') ?? 0).toBeGreaterThan(110);
    expect(counts.get('neutral') ?? 0).toBeLessThan(30);
  });

  it('expands an equally good child once its parent has had `breadth` children', () => {
    const nodes = [node('r'), node('n1', ['r']), node('n2', ['r']), node('n3', ['r'])];
    const lines = [graded('r', 4), graded('n1', 4), graded('n2', 4), graded('n3', 4)];
    // breadth 3: the root (3 children) ties with each child one step down (0 + 3): all share.
    const tied = expansions(snapshot(nodes, lines), { breadth: 3 });
    for (const id of ['r', 'n1', 'n2', 'n3']) expect(tied.get(id) ?? 0).toBeGreaterThan(30);
    // breadth 4: the root still comes first.
    expect(expansions(snapshot(nodes, lines), { breadth: 4 }).get('r') ?? 0).toBeGreaterThan(260);
  });

  it('never expands a node worse than its parent unless its clade earned it', () => {
    // w fell below the root, but its child g beats the root: w's clade earned it another try.
    const nodes = [node('r'), node('w', ['r']), node('g', ['w']), node('x', ['r'])];
    const counts = expansions(snapshot(nodes, [graded('r', 4), graded('w', 2), graded('g', 6), graded('x', 1)]), {}, 600);
    expect(counts.get('g') ?? 0).toBeGreaterThan(360);
    expect(counts.get('w') ?? 0).toBeGreaterThan(0);
    expect(counts.get('x') ?? 0).toBe(0);
  });

  it('keeps HGM\'s rule where tasks are many (property)', () => {
    fc.assert(
      fc.property(archiveArb, fc.nat(1000), (snap, seed) => {
        const run = (config: ScorerConfig): Decision =>
          decide({ snapshot: snap, tasks: TASKS, now: 0, budget: {}, config, rng: createRng(seed) } satisfies ScorerInput);
        expect(run(CONFIG)).toEqual(run({ ...CONFIG, schedule: 'hgm' }));
      }),
      { numRuns: 150 },
    );
  });
});

describe('where the breadth schedule does not apply', () => {
  it('keeps HGM\'s rule with evidence per task run (DGM mode), however few the tasks', () => {
    const nodes = [node('r'), node('neutral', ['r']), node('worse', ['r'])];
    const snap = snapshot(nodes, [line('r', 't0', 'pass'), line('neutral', 't0', 'pass'), line('worse', 't0', 'fail')]);
    for (let seed = 0; seed < 100; seed++) {
      const run = (config: ScorerConfig): Decision => decide({ snapshot: snap, tasks: ['t0'], now: 0, budget: {}, config, evidence: 'tasks', rng: createRng(seed) });
      expect(run(CONFIG)).toEqual(run({ ...CONFIG, schedule: 'hgm' }));
    }
  });

  it('lets HGM choose until the root is graded', () => {
    // The root's runs all ended in infrastructure errors: no level to keep to, so no node is held back.
    const nodes = [node('r'), node('a', ['r']), node('b', ['r'])];
    const errors = [1, 2, 3].map(() => line('r', 'test_program.py', 'error'));
    const snap = snapshot(nodes, [...errors, graded('a', 6), graded('b', 2)]);
    for (let seed = 0; seed < 100; seed++) {
      const run = (config: ScorerConfig): Decision => decide({ snapshot: snap, tasks: ['test_program.py'], now: 0, budget: {}, config, rng: createRng(seed) });
      expect(run(CONFIG)).toMatchObject({ kind: 'expand' });
      expect(run(CONFIG)).toEqual(run({ ...CONFIG, schedule: 'hgm' }));
    }
  });
});

describe('cheap children with a few tasks (one test file each)', () => {
  const FILES = ['dates', 'stats', 'text'];
  const tests = (passed: number, failed: number) => ({ tests: { passed, failed, skipped: 0, total: passed + failed } });
  const rootLines = FILES.map((f) => line('r', f, 'fail', tests(3, 2)));
  const decideOn = (snap: ArchiveSnapshot, seed: number): Decision =>
    decide({ snapshot: snap, tasks: FILES, now: 0, budget: { evaluations: 1000 }, config: CONFIG, rng: createRng(seed) });

  it('grades a new node first on the task its edit aimed at', () => {
    const snap = snapshot([node('r'), node('c', ['r'], { targets: ['stats'] })], rootLines);
    for (let seed = 0; seed < 40; seed++) expect(decideOn(snap, seed)).toEqual({ kind: 'evaluate', node: 'c', task: 'stats' });
  });

  it('does not run the other tasks of a child that fixed nothing: it grows instead', () => {
    const snap = snapshot([node('r'), node('c', ['r'], { targets: ['stats'] })], [...rootLines, line('c', 'stats', 'fail', tests(3, 2))]);
    for (let seed = 0; seed < 40; seed++) expect(decideOn(snap, seed).kind).toBe('expand');
  });

  it('runs the other tasks of a child that beat its parent on the one it ran', () => {
    const snap = snapshot([node('r'), node('c', ['r'], { targets: ['stats'] })], [...rootLines, line('c', 'stats', 'pass', tests(5, 0))]);
    for (let seed = 0; seed < 40; seed++) {
      const d = decideOn(snap, seed);
      expect(d).toMatchObject({ kind: 'evaluate', node: 'c' });
      if (d.kind === 'evaluate') expect(['dates', 'text']).toContain(d.task);
    }
  });

  it('ranks a child by its own runs and its parent\'s on the tasks it did not run', () => {
    // c fixed stats (5/5) and ran nothing else: 11 of 15 with the root's dates and text,
    // so it is the best node and its neighbourhood comes first.
    const nodes = [node('r'), node('c', ['r']), node('d', ['r'])];
    const snap = snapshot(nodes, [...rootLines, ...FILES.map((f) => line('c', f, f === 'stats' ? 'pass' : 'fail', f === 'stats' ? tests(5, 0) : tests(3, 2))), line('d', 'dates', 'fail', tests(3, 2))]);
    const counts = new Map<string, number>();
    for (let seed = 0; seed < 300; seed++) {
      const d = decideOn(snap, seed);
      if (d.kind === 'expand') counts.set(d.node, (counts.get(d.node) ?? 0) + 1);
    }
    expect(counts.get('c') ?? 0).toBeGreaterThan(180);
    expect(counts.get('d') ?? 0).toBeLessThan(40);
  });
});

describe('cheap evaluation order', () => {
  it('runs a fresh node first on the tasks its parent failed', () => {
    const nodes = [node('r'), node('c', ['r']), node('d', ['r'])];
    const lines = TASKS.map((t) => line('r', t, t === 't3' ? 'fail' : 'pass'));
    for (let seed = 0; seed < 50; seed++) {
      // 5 runs: 5^0.1 = 1.17 < 2 nodes - 1, so evaluate (a child: the root has run everything).
      const d = decide({ snapshot: snapshot(nodes, lines), tasks: TASKS, now: 0, budget: {}, config: { ...CONFIG, alpha: 0.1 }, rng: createRng(seed) });
      expect(d).toMatchObject({ kind: 'evaluate', task: 't3' });
    }
  });
});

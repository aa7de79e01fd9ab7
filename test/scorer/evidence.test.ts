import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cladeCounts, evidence, lineCounts } from '../../src/scorer/index.js';
import { archiveArb, descendantsOf, line, node, snapshot } from './archive.js';

const tests = (passed: number, failed: number) => ({ tests: { passed, failed, skipped: 1, total: passed + failed + 1 } });

describe('evidence', () => {
  it('counts per test case in tests mode and per run in tasks mode', () => {
    const snap = snapshot(
      [node('r'), node('a', ['r'])],
      [line('a', 't0', 'fail', tests(8, 2)), line('a', 't1', 'pass'), line('a', 't2', 'pass', tests(3, 0))],
    );
    expect(evidence(snap).get('a')).toEqual({ ns: 12, nf: 2 });
    expect(evidence(snap, { mode: 'tasks' }).get('a')).toEqual({ ns: 2, nf: 1 });
    expect(evidence(snap).get('r')).toEqual({ ns: 0, nf: 0 });
  });

  it('charges a failed run for the tests it did not run (a crash or a timeout is no cheaper than failing)', () => {
    const snap = snapshot(
      [node('r'), node('slow', ['r']), node('wrong', ['r'])],
      [
        line('r', 't0', 'fail', tests(3, 2)),
        // Killed at the timeout: the runner reported nothing.
        line('slow', 't0', 'fail', { tests: { passed: 0, failed: 0, skipped: 0, total: 0 } }),
        line('slow', 't1', 'fail'),
        line('wrong', 't0', 'fail', tests(1, 4)),
      ],
    );
    expect(evidence(snap).get('slow')).toEqual({ ns: 0, nf: 6 });
    expect(evidence(snap).get('wrong')).toEqual({ ns: 1, nf: 4 });
    expect(evidence(snap, { mode: 'tasks' }).get('slow')).toEqual({ ns: 0, nf: 2 });
  });

  it('counts per-test results when only those are known', () => {
    const l = line('a', 't0', 'fail', { testResults: { x: 'pass', y: 'fail', z: 'skip', w: 'pass' } });
    expect(lineCounts(l, 'tests')).toEqual({ ns: 2, nf: 1 });
    expect(lineCounts(l, 'tasks')).toEqual({ ns: 0, nf: 1 });
  });

  it('counts error outcomes and tampered lines for nothing', () => {
    const base = [node('r'), node('a', ['r'])];
    const clean = snapshot(base, [line('a', 't0', 'pass')]);
    const noisy = snapshot(base, [
      line('a', 't0', 'pass'),
      line('a', 't1', 'error', tests(0, 9)),
      line('a', 't2', 'error'),
      line('a', 't3', 'fail', { tampered: true, ...tests(0, 4) }),
      line('a', 't4', 'pass', { tampered: true }),
    ]);
    for (const mode of ['tests', 'tasks'] as const) {
      expect(evidence(noisy, { mode })).toEqual(evidence(clean, { mode }));
      expect(cladeCounts(noisy, undefined, { mode })).toEqual(cladeCounts(clean, undefined, { mode }));
    }
  });

  it('counts a crossover child once in each clade, even through a diamond', () => {
    //    r
    //   / \
    //  a   b
    //   \ /
    //    m  (merge of a and b)
    const snap = snapshot(
      [node('r'), node('a', ['r']), node('b', ['r']), node('m', ['a', 'b'])],
      [line('m', 't0', 'pass'), line('m', 't1', 'pass'), line('a', 't0', 'fail'), line('b', 't0', 'pass')],
    );
    const clade = cladeCounts(snap, undefined, { mode: 'tasks' });
    expect(clade.get('m')).toEqual({ ns: 2, nf: 0 });
    expect(clade.get('a')).toEqual({ ns: 2, nf: 1 });
    expect(clade.get('b')).toEqual({ ns: 3, nf: 0 });
    expect(clade.get('r')).toEqual({ ns: 3, nf: 1 });
  });

  it('keeps a pruned node\'s evidence in its ancestors\' clades', () => {
    const snap = snapshot([node('r'), node('a', ['r'], { pruned: true })], [line('a', 't0', 'pass')]);
    expect(cladeCounts(snap, undefined, { mode: 'tasks' }).get('r')).toEqual({ ns: 1, nf: 0 });
  });

  it('clade counts equal the brute-force sum over descendants, each once (property)', () => {
    fc.assert(
      fc.property(archiveArb, (snap) => {
        const own = evidence(snap);
        const clade = cladeCounts(snap, own);
        for (const n of snap.nodes) {
          let ns = 0;
          let nf = 0;
          for (const d of descendantsOf(snap, n.id)) {
            ns += own.get(d)!.ns;
            nf += own.get(d)!.nf;
          }
          expect(clade.get(n.id)).toEqual({ ns, nf });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('pooling never changes a node\'s own counts (property)', () => {
    fc.assert(
      fc.property(archiveArb, (snap) => {
        const own = evidence(snap);
        const before = structuredClone([...own]);
        const linesBefore = structuredClone([...snap.evaluations]);
        cladeCounts(snap, own);
        cladeCounts(snap);
        expect([...own]).toEqual(before);
        expect([...evidence(snap)]).toEqual(before);
        expect([...snap.evaluations]).toEqual(linesBefore);
      }),
      { numRuns: 200 },
    );
  });

  it('accepts nodes out of parent-first order', () => {
    const ordered = snapshot([node('r'), node('a', ['r']), node('b', ['a'])], [line('b', 't0', 'pass')]);
    const shuffled = { ...ordered, nodes: [ordered.nodes[2]!, ordered.nodes[0]!, ordered.nodes[1]!] };
    expect(cladeCounts(shuffled)).toEqual(cladeCounts(ordered));
  });
});

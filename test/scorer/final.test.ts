import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { betaQuantile, cmp, finalAnswer, nodeScores, posterior } from '../../src/scorer/index.js';
import { archiveArb, line, node, snapshot } from './archive.js';

const runs = (id: string, pass: number, fail: number) => [
  ...Array.from({ length: pass }, (_, k) => line(id, `p${k}`, 'pass')),
  ...Array.from({ length: fail }, (_, k) => line(id, `f${k}`, 'fail')),
];

describe('finalAnswer', () => {
  it('prefers strong evidence over the luckiest mean', () => {
    // lucky: 2/2 (mean 1.0); solid: 95/100.
    const snap = snapshot([node('r'), node('lucky', ['r']), node('solid', ['r'])], [...runs('lucky', 2, 0), ...runs('solid', 95, 5)]);
    const answer = finalAnswer(snap, { epsilon: 0.05, evidence: 'tasks' });
    expect(answer).toMatchObject({ node: 'solid', ns: 95, nf: 5 });
    expect(answer.quantile).toBeCloseTo(betaQuantile(0.05, 96, 6), 12);
    expect(answer.rule).toMatch(/0\.05-quantile/);
    expect(finalAnswer(snap, { epsilon: 0.05, evidence: 'tasks', rule: 'mean' }).node).toBe('lucky');
  });

  it('with few tasks, never hands over a node graded on fewer tasks than the root', () => {
    const tests = (passed: number, failed: number) => ({ tests: { passed, failed, skipped: 0, total: passed + failed } });
    const files = ['dates', 'stats', 'text'];
    const snap = snapshot(
      [node('r'), node('whole', ['r']), node('part', ['r'])],
      [
        ...files.map((f) => line('r', f, 'fail', tests(3, 2))),
        ...files.map((f) => line('whole', f, f === 'text' ? 'fail' : 'pass', f === 'text' ? tests(4, 1) : tests(5, 0))),
        // Five of five on the one file it ran: a higher quantile, but nothing known of the rest.
        line('part', 'dates', 'pass', tests(5, 0)),
      ],
    );
    expect(finalAnswer(snap, { epsilon: 0.05 }).node).toBe('whole');
  });

  it('never lets an unevaluated, pruned or tampered node win (property)', () => {
    fc.assert(
      fc.property(archiveArb, (snap) => {
        const scores = nodeScores(snap);
        const answer = finalAnswer(snap, { epsilon: 0.05 });
        const graded = (id: string) => new Set((snap.evaluations.get(id) ?? []).filter((e) => e.outcome !== 'error' && !e.tampered).map((e) => e.task)).size;
        let eligible = snap.nodes.filter((n) => !n.pruned && scores.get(n.id)!.own.ns + scores.get(n.id)!.own.nf > 0);
        // With two or three tasks graded on the root, nodes graded on fewer come last.
        const rootTasks = graded(snap.root);
        const complete = eligible.filter((n) => graded(n.id) >= rootTasks);
        if (rootTasks > 1 && rootTasks <= 3 && complete.length > 0) eligible = complete;
        if (eligible.length === 0) {
          expect(answer.node).toBe(snap.root);
          expect(answer.rule).toMatch(/root/);
          return;
        }
        expect(eligible.map((n) => n.id)).toContain(answer.node);
        for (const n of eligible) {
          const own = scores.get(n.id)!.own;
          expect(betaQuantile(0.05, 1 + own.ns, 1 + own.nf)).toBeLessThanOrEqual(answer.quantile + 1e-12);
        }
      }),
      { numRuns: 300 },
    );
    const snap = snapshot(
      [node('r'), node('a', ['r']), node('b', ['r'], { pruned: true }), node('c', ['r'])],
      [...runs('a', 1, 3), ...runs('b', 50, 0), line('c', 't', 'pass', { tampered: true })],
    );
    expect(finalAnswer(snap, { epsilon: 0.05 }).node).toBe('a');
  });
});

describe('posterior and cmp', () => {
  it('gives the Beta(1+s, 1+f) mean and central interval', () => {
    const p = posterior(8, 2);
    expect(p.mean).toBeCloseTo(9 / 12, 12);
    expect(p.lo).toBeCloseTo(betaQuantile(0.025, 9, 3), 12);
    expect(p.hi).toBeCloseTo(betaQuantile(0.975, 9, 3), 12);
    expect(p.lo).toBeLessThan(p.mean);
    expect(p.hi).toBeGreaterThan(p.mean);
    const uniform = posterior(0, 0, 0.9);
    expect(uniform.lo).toBeCloseTo(0.05, 12);
    expect(uniform.hi).toBeCloseTo(0.95, 12);
    expect(() => posterior(1, 1, 1)).toThrow(RangeError);
  });

  it('estimates clade-metaproductivity from clade counts', () => {
    expect(cmp({ ns: 3, nf: 1 })).toBe(0.75);
    expect(cmp({ ns: 0, nf: 0 })).toBeNull();
    const snap = snapshot([node('r'), node('a', ['r'])], [...runs('r', 1, 1), ...runs('a', 2, 0)]);
    const scores = nodeScores(snap, { mode: 'tasks' });
    expect(scores.get('r')).toMatchObject({ own: { ns: 1, nf: 1 }, clade: { ns: 3, nf: 1 }, cmp: 0.75 });
  });
});

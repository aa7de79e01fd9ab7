import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ArchiveSnapshot, Claim, Evaluation } from '../../src/archive/types.js';
import {
  POLICY_NAMES,
  chooseMate,
  createRng,
  decide,
  policyFor,
  type Decision,
  type PolicyName,
  type ScorerInput,
} from '../../src/scorer/index.js';
import { CONFIG, TASKS, archiveArb, descendantsOf, line, node, snapshot } from './archive.js';

function input(snap: ArchiveSnapshot, extra: Partial<ScorerInput> = {}, policy: PolicyName = 'hgm'): ScorerInput {
  return { snapshot: snap, tasks: TASKS, now: 1000, budget: {}, config: { ...CONFIG, policy }, ...extra };
}

function gradedRuns(snap: ArchiveSnapshot): number {
  let runs = 0;
  for (const ls of snap.evaluations.values()) for (const l of ls) if (l.outcome !== 'error' && !l.tampered) runs++;
  return runs;
}

describe('every policy', () => {
  it('decides the same for the same seed and archive (property)', () => {
    fc.assert(
      fc.property(archiveArb, fc.integer(), fc.constantFrom(...POLICY_NAMES), fc.boolean(), (snap, seed, policy, crossover) => {
        const a = decide(input(snap, { rng: createRng(seed), crossover }, policy));
        const b = decide(input(snap, { rng: createRng(seed), crossover }, policy));
        expect(a).toEqual(b);
        // Without an explicit rng the seed comes from the config and the archive's state.
        const c = decide(input(snap, { config: { ...CONFIG, policy, seed } }));
        const d = decide(input(snap, { config: { ...CONFIG, policy, seed } }));
        expect(c).toEqual(d);
      }),
      { numRuns: 300 },
    );
  });

  it('never chooses a pruned or tampered node, nor a pruned mate (property)', () => {
    fc.assert(
      fc.property(archiveArb, fc.integer(), fc.constantFrom(...POLICY_NAMES), fc.nat(5), (snap, seed, policy, tamper) => {
        const victim = snap.nodes[tamper % snap.nodes.length]!.id;
        const lines = snap.evaluations.get(victim) ?? [];
        snap.evaluations.set(victim, [...lines, line(victim, 't0', 'fail', { tampered: true })]);
        const bad = new Set(snap.nodes.filter((n) => n.pruned).map((n) => n.id).concat(victim));
        const rng = createRng(seed);
        for (let k = 0; k < 5; k++) {
          const d = decide(input(snap, { rng, crossover: true }, policy));
          if (d.kind === 'done') {
            expect(snap.nodes.every((n) => bad.has(n.id))).toBe(true);
            continue;
          }
          expect(bad.has(d.node)).toBe(false);
          if (d.kind === 'expand' && d.mate !== undefined) expect(bad.has(d.mate)).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('gives the same decision when error outcomes are added (property)', () => {
    fc.assert(
      fc.property(archiveArb, fc.integer(), fc.constantFrom(...POLICY_NAMES), (snap, seed, policy) => {
        const noisy: ArchiveSnapshot = { ...snap, evaluations: new Map(snap.evaluations) };
        // Errors are retried: one error per (node, task) leaves every task still to run.
        for (const n of snap.nodes) {
          const extra = TASKS.slice(0, 2).map((t) => line(n.id, t, 'error', { tests: { passed: 0, failed: 5, skipped: 0, total: 5 } }));
          noisy.evaluations.set(n.id, [...(snap.evaluations.get(n.id) ?? []).filter((l) => l.outcome !== 'error'), ...extra]);
        }
        const clean: ArchiveSnapshot = { ...snap, evaluations: new Map() };
        for (const [id, ls] of snap.evaluations) clean.evaluations.set(id, ls.filter((l) => l.outcome !== 'error'));
        expect(decide(input(noisy, { rng: createRng(seed) }, policy))).toEqual(decide(input(clean, { rng: createRng(seed) }, policy)));
      }),
      { numRuns: 200 },
    );
  });

  it('stops when the evaluation budget is spent', () => {
    const snap = snapshot([node('r')], [line('r', 't0', 'pass'), line('r', 't1', 'fail')]);
    for (const policy of POLICY_NAMES) {
      expect(decide(input(snap, { budget: { evaluations: 2 } }, policy)).kind).toBe('done');
      expect(decide(input(snap, { budget: { evaluations: 3, spentEvaluations: 3 } }, policy)).kind).toBe('done');
      expect(decide(input(snap, { budget: { evaluations: 3 } }, policy)).kind).not.toBe('done');
    }
  });

  it('is done when every node is pruned', () => {
    const snap = snapshot([node('r', [], { pruned: true }), node('a', ['r'], { pruned: true })], [line('a', 't0', 'pass')]);
    for (const policy of POLICY_NAMES) expect(decide(input(snap, {}, policy))).toMatchObject({ kind: 'done' });
  });
});

describe('hgm', () => {
  it('expands a root with zero successes', () => {
    const fails = TASKS.map((t) => line('r', t, 'fail'));
    for (let seed = 0; seed < 20; seed++) {
      // Every task run and failed: nothing to evaluate, so the root is expanded.
      expect(decide(input(snapshot([node('r')], fails), { rng: createRng(seed) }))).toEqual({ kind: 'expand', node: 'r' });
      // Two failures: 2^0.6 >= 0 already says expand.
      expect(decide(input(snapshot([node('r')], fails.slice(0, 2)), { rng: createRng(seed) }))).toEqual({ kind: 'expand', node: 'r' });
    }
  });

  it('expands the root of an all-failing archive sometimes, thanks to its prior', () => {
    // Root and three children, all failing everything: every clade is 0/k, yet the root must stay in play.
    const nodes = [node('r'), node('a', ['r']), node('b', ['r']), node('c', ['r'])];
    const lines = nodes.flatMap((n) => TASKS.map((t) => line(n.id, t, 'fail')));
    const rootShare = (rootPrior: number): number => {
      let root = 0;
      for (let seed = 0; seed < 400; seed++) {
        const d = decide(input(snapshot(nodes, lines), { rng: createRng(seed), config: { ...CONFIG, rootPrior } }));
        expect(d.kind).toBe('expand');
        if (d.kind === 'expand' && d.node === 'r') root++;
      }
      return root / 400;
    };
    // The root's clade holds everyone's 20 failures against each child's 5; its prior keeps it in play.
    const withPrior = rootShare(1);
    expect(withPrior).toBeGreaterThan(0.02);
    expect(withPrior).toBeGreaterThan(rootShare(0) * 2);
    expect(rootShare(5)).toBeGreaterThan(withPrior);
  });

  it('evaluates when the rule says so and expands when nothing is left to evaluate', () => {
    const nodes = [node('r'), node('a', ['r']), node('b', ['r'])];
    // 3 runs: 3^0.6 = 1.93 < 2 nodes-1 → evaluate.
    const three = [line('r', 't0', 'pass'), line('a', 't0', 'pass'), line('b', 't0', 'fail')];
    expect(decide(input(snapshot(nodes, three), { rng: createRng(1) })).kind).toBe('evaluate');
    // Same archive with only one task, all run: nothing left to evaluate → expand.
    expect(decide(input(snapshot(nodes, three), { rng: createRng(1), tasks: ['t0'] })).kind).toBe('expand');
    // Expansion budget reached and nothing to evaluate → done.
    expect(decide(input(snapshot(nodes, three), { tasks: ['t0'], budget: { expansions: 3 } })).kind).toBe('done');
  });

  it('follows the expand/evaluate rule at every step of a simulated run', () => {
    for (let seed = 0; seed < 10; seed++) {
      const rng = createRng(seed);
      const skill = new Map<string, number>([['r', 0.3]]);
      const snap = snapshot([node('r')]);
      const tasks = Array.from({ length: 8 }, (_, i) => `t${i}`);
      for (let step = 0; step < 150; step++) {
        const n = snap.nodes.length;
        const runs = gradedRuns(snap);
        const anyLeft = snap.nodes.some((x) => (snap.evaluations.get(x.id)?.length ?? 0) < tasks.length);
        const d = decide({ snapshot: snap, tasks, now: 0, budget: { evaluations: 120 }, config: CONFIG, rng });
        if (runs >= 120) {
          expect(d.kind).toBe('done');
          break;
        }
        const ruleExpand = Math.pow(runs, CONFIG.alpha) >= n - 1;
        expect(d.kind).toBe(ruleExpand || !anyLeft ? 'expand' : 'evaluate');
        if (d.kind === 'expand') {
          const id = `n${n}`;
          skill.set(id, Math.min(1, Math.max(0, skill.get(d.node)! + (rng.next() - 0.4) * 0.2)));
          snap.nodes.push(node(id, [d.node]));
        } else if (d.kind === 'evaluate') {
          const done = (snap.evaluations.get(d.node) ?? []).map((l) => l.task);
          expect(done).not.toContain(d.task);
          const ls = snap.evaluations.get(d.node) ?? [];
          ls.push(line(d.node, d.task, rng.next() < skill.get(d.node)! ? 'pass' : 'fail'));
          snap.evaluations.set(d.node, ls);
        }
      }
    }
  });

  it('respects other agents\' evaluate claims: N agents pick N different runs', () => {
    const nodes = [node('r'), node('a', ['r']), node('b', ['a'])];
    const lines: Evaluation[] = [line('r', 't0', 'pass'), line('r', 't1', 'pass'), line('a', 't0', 'pass'), line('b', 't0', 'fail')];
    for (let seed = 0; seed < 30; seed++) {
      const claims: Claim[] = [];
      const picked = new Set<string>();
      for (let agent = 0; agent < 8; agent++) {
        const d = decide(input(snapshot(nodes, lines, claims), { rng: createRng(seed * 100 + agent), writer: `w${agent}` }));
        if (d.kind !== 'evaluate') continue;
        const key = `${d.node}/${d.task}`;
        expect(picked.has(key)).toBe(false);
        picked.add(key);
        claims.push({ writer: `w${agent}`, node: d.node, kind: 'evaluate', task: d.task, expires: 5000 });
      }
    }
  });

  it('spreads concurrent expansions when agents see each other\'s expand claims', () => {
    // Five equally good leaves; each agent that expands claims its node.
    const nodes = [node('r'), ...['a', 'b', 'c', 'd', 'e'].map((id) => node(id, ['r']))];
    const lines = nodes.flatMap((n) => TASKS.slice(0, 4).map((t, k) => line(n.id, t, k < 2 ? 'pass' : 'fail')));
    const sameNodeShare = (withClaims: boolean): number => {
      let same = 0;
      let pairs = 0;
      for (let seed = 0; seed < 300; seed++) {
        const claims: Claim[] = [];
        const chosen: string[] = [];
        for (let agent = 0; agent < 3; agent++) {
          const d = decide({
            ...input(snapshot(nodes, lines, withClaims ? claims : [])),
            rng: createRng(seed * 10 + agent),
            writer: `w${agent}`,
            // The rule alone would switch claimed-on agents to evaluate; no tasks forces expansion.
            tasks: TASKS.slice(0, 4),
          });
          if (d.kind !== 'expand') continue;
          chosen.push(d.node);
          claims.push({ writer: `w${agent}`, node: d.node, kind: 'expand', expires: 5000 });
        }
        for (let i = 0; i < chosen.length; i++) for (let j = i + 1; j < chosen.length; j++) {
          pairs++;
          if (chosen[i] === chosen[j]) same++;
        }
      }
      return same / pairs;
    };
    const without = sameNodeShare(false);
    const withClaims = sameNodeShare(true);
    expect(withClaims).toBeLessThan(without * 0.8);
  });

  it('counts pending expansions in the rule, but not expired or own claims', () => {
    const nodes = [node('r'), node('a', ['r'])];
    const lines = [line('r', 't0', 'pass'), line('r', 't1', 'pass'), line('a', 't0', 'fail')];
    // 3^0.6 = 1.93 >= 1 → expand.
    expect(decide(input(snapshot(nodes, lines))).kind).toBe('expand');
    const claim: Claim = { writer: 'other', node: 'a', kind: 'expand', expires: 2000 };
    expect(decide(input(snapshot(nodes, lines, [claim]))).kind).toBe('evaluate');
    expect(decide(input(snapshot(nodes, lines, [{ ...claim, expires: 999 }]))).kind).toBe('expand');
    expect(decide(input(snapshot(nodes, lines, [claim]), { writer: 'other' })).kind).toBe('expand');
  });

  it('chooses a crossover mate that is neither an ancestor nor a descendant', () => {
    const nodes = [node('r'), node('a', ['r']), node('b', ['r']), node('a1', ['a']), node('b1', ['b'], { pruned: true })];
    const lines = nodes.map((n) => line(n.id, 't0', 'pass'));
    const snap = snapshot(nodes, lines);
    for (let seed = 0; seed < 50; seed++) {
      const mate = chooseMate(snap, 'a', createRng(seed));
      expect(mate).toBe('b');
    }
    expect(chooseMate(snap, 'r', createRng(1))).toBeUndefined();
    const d = decide(input(snap, { rng: createRng(3), crossover: true, tasks: ['t0'] }));
    expect(d.kind).toBe('expand');
    if (d.kind === 'expand' && d.mate !== undefined) {
      expect(descendantsOf(snap, d.node).has(d.mate)).toBe(false);
      expect(descendantsOf(snap, d.mate).has(d.node)).toBe(false);
    }
  });

  it('prefers the clade that keeps producing over the single best node', () => {
    // x scored best itself but its children all failed; y is mediocre but its children pass.
    const nodes = [node('r'), node('x', ['r']), node('y', ['r'])];
    const lines: Evaluation[] = [...TASKS.map((t) => line('x', t, 'pass')), ...TASKS.map((t, k) => line('y', t, k < 2 ? 'pass' : 'fail'))];
    for (let k = 0; k < 4; k++) {
      nodes.push(node(`x${k}`, ['x']), node(`y${k}`, ['y']));
      lines.push(...TASKS.map((t) => line(`x${k}`, t, 'fail')), ...TASKS.map((t) => line(`y${k}`, t, 'pass')));
    }
    const counts = new Map<string, number>();
    for (let seed = 0; seed < 300; seed++) {
      const d: Decision = decide(input(snapshot(nodes, lines), { rng: createRng(seed) }));
      expect(d.kind).toBe('expand');
      if (d.kind === 'expand') counts.set(d.node, (counts.get(d.node) ?? 0) + 1);
    }
    expect(counts.get('y') ?? 0).toBeGreaterThan(counts.get('x') ?? 0);
    // Greedy, by contrast, goes for the best own score.
    const g = policyFor('greedy').decide(input(snapshot(nodes, lines), { rng: createRng(1) }));
    expect(g).toMatchObject({ kind: 'expand' });
    if (g.kind === 'expand') expect(['x', 'y0', 'y1', 'y2', 'y3']).toContain(g.node);
  });
});

describe('hgm temperature and priors', () => {
  // Two evaluated leaves, one a bit better; all tasks run, so every decision is an expansion.
  const nodes = [node('r'), node('good', ['r']), node('fair', ['r'])];
  const lines = [
    ...TASKS.map((t) => line('r', t, 'fail')),
    ...TASKS.map((t, k) => line('good', t, k < 4 ? 'pass' : 'fail')),
    ...TASKS.map((t, k) => line('fair', t, k < 2 ? 'pass' : 'fail')),
  ];
  const share = (extra: Partial<ScorerInput>, target: string): number => {
    let hits = 0;
    for (let seed = 0; seed < 400; seed++) {
      const d = decide(input(snapshot(nodes, lines), { rng: createRng(seed), ...extra }));
      if (d.kind === 'expand' && d.node === target) hits++;
    }
    return hits / 400;
  };

  it('cools: late in the budget Thompson sampling concentrates on the best clade', () => {
    const cool = { ...CONFIG, cooling: 1 };
    const early = share({ config: cool, budget: { evaluations: 1000, spentEvaluations: 15 } }, 'good');
    const late = share({ config: cool, budget: { evaluations: 1000, spentEvaluations: 995 } }, 'good');
    expect(late).toBeGreaterThan(early + 0.1);
    expect(late).toBeGreaterThan(0.9);
  });

  it('boosts promoted nodes', () => {
    const promoted = nodes.map((n) => (n.id === 'fair' ? { ...n, promoted: true } : n));
    const plain = share({}, 'fair');
    let boosted = 0;
    for (let seed = 0; seed < 400; seed++) {
      const d = decide(input(snapshot(promoted, lines), { rng: createRng(seed), config: { ...CONFIG, promotedBoost: 4 } }));
      if (d.kind === 'expand' && d.node === 'fair') boosted++;
    }
    expect(boosted / 400).toBeGreaterThan(plain + 0.1);
  });
});

describe('baselines', () => {
  it('dgm favours accurate nodes with few children', () => {
    const nodes = [node('r'), node('good', ['r']), node('bad', ['r'])];
    const lines = [...TASKS.map((t) => line('good', t, 'pass')), ...TASKS.map((t) => line('bad', t, 'fail')), ...TASKS.map((t) => line('r', t, 'fail'))];
    const counts = new Map<string, number>();
    for (let seed = 0; seed < 400; seed++) {
      const d = policyFor('dgm').decide(input(snapshot(nodes, lines), { rng: createRng(seed) }));
      if (d.kind === 'expand') counts.set(d.node, (counts.get(d.node) ?? 0) + 1);
    }
    expect(counts.get('good') ?? 0).toBeGreaterThan(350);
  });

  it('baselines evaluate the least-evaluated node', () => {
    const nodes = [node('r'), node('a', ['r']), node('b', ['r'])];
    const lines = [line('r', 't0', 'pass'), line('r', 't1', 'pass'), line('a', 't0', 'pass')];
    for (const policy of ['dgm', 'greedy'] as const) {
      expect(policyFor(policy).decide(input(snapshot(nodes, lines), { rng: createRng(2) }))).toMatchObject({ kind: 'evaluate', node: 'b' });
    }
  });

  it('policyFor rejects unknown names', () => {
    expect(() => policyFor('nope' as PolicyName)).toThrow(/unknown scorer policy/);
  });
});

/**
 * Builders for archive snapshots in scorer tests: plain data, the same shape the archive
 * domain reads from git, without git.
 */
import fc from 'fast-check';
import type { ArchiveNode, ArchiveSnapshot, Claim, Evaluation, Outcome, TestCounts } from '../../src/archive/types.js';
import type { ScorerConfig } from '../../src/scorer/index.js';

export const CONFIG: ScorerConfig = {
  policy: 'hgm',
  alpha: 0.6,
  tau: 1,
  cooling: 0,
  epsilon: 0.05,
  rootPrior: 1,
  promotedBoost: 2,
};

export function node(id: string, parents: string[] = [], extra: Partial<ArchiveNode> = {}): ArchiveNode {
  return {
    id,
    parents,
    tree: `tree-${id}`,
    branch: `evo/t/${id}`,
    writer: 't',
    agent: 'mutate',
    operator: parents.length === 0 ? 'root' : parents.length > 1 ? 'crossover' : 'mutate',
    time: 0,
    subject: id,
    pruned: false,
    promoted: false,
    ...extra,
  };
}

export function line(nodeId: string, task: string, outcome: Outcome, extra: Partial<Evaluation> = {}): Evaluation {
  return { node: nodeId, task, outcome, durationMs: 1, harness: 'local', writer: 't', time: '2025-01-01T00:00:00Z', ...extra };
}

export function snapshot(nodes: ArchiveNode[], lines: Evaluation[] = [], claims: Claim[] = []): ArchiveSnapshot {
  const evaluations = new Map<string, Evaluation[]>();
  for (const l of lines) {
    const list = evaluations.get(l.node) ?? [];
    list.push(l);
    evaluations.set(l.node, list);
  }
  return { root: nodes[0]!.id, nodes, evaluations, claims };
}

export const TASKS = ['t0', 't1', 't2', 't3', 't4'];

/** Random archives: trees and DAGs (crossovers), pruned and promoted nodes, every outcome. */
export const archiveArb: fc.Arbitrary<ArchiveSnapshot> = fc.integer({ min: 1, max: 24 }).chain((n) =>
  fc
    .record({
      links: fc.array(fc.tuple(fc.nat(), fc.option(fc.nat(), { nil: undefined, freq: 4 })), { minLength: n - 1, maxLength: n - 1 }),
      pruned: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      promoted: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      evals: fc.array(
        fc.record({
          node: fc.nat(n - 1),
          task: fc.nat(TASKS.length - 1),
          outcome: fc.constantFrom<Outcome>('pass', 'fail', 'error'),
          tests: fc.option(fc.record({ passed: fc.nat(6), failed: fc.nat(6) }), { nil: undefined }),
        }),
        { maxLength: 70 },
      ),
    })
    .map(({ links, pruned, promoted, evals }) => {
      const nodes: ArchiveNode[] = [node('n0', [], { promoted: promoted[0]! })];
      for (let i = 1; i < n; i++) {
        const [p, q] = links[i - 1]!;
        const parents = [`n${p % i}`];
        if (q !== undefined && q % i !== p % i) parents.push(`n${q % i}`);
        nodes.push(node(`n${i}`, parents, { pruned: pruned[i]!, promoted: promoted[i]! }));
      }
      const lines = evals.map((e) => {
        const tests: TestCounts | undefined = e.tests ? { ...e.tests, skipped: 0, total: e.tests.passed + e.tests.failed } : undefined;
        return line(`n${e.node}`, TASKS[e.task]!, e.outcome, tests ? { tests } : {});
      });
      return snapshot(nodes, lines);
    }),
);

/** Every node that has `a` as an ancestor-or-self, by brute force. */
export function descendantsOf(snap: ArchiveSnapshot, a: string): Set<string> {
  const out = new Set([a]);
  for (const n of snap.nodes) if (n.parents.some((p) => out.has(p))) out.add(n.id);
  return out;
}

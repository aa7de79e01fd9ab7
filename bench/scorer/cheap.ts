/**
 * bench/scorer, part 3: cheap children. How the scorer spends a budget when each node has one
 * task (its test file, graded per test case) and children cost nothing next to their
 * evaluation: the setting of bench/repair and of `evogit run --agent mutate` on a small program.
 *
 * The world: a program with T test cases and E possible one-line edits at every node. Every edit
 * has one effect wherever it is applied: the fix of a bug (its failing tests pass), neutral
 * (nothing changes; 35% of edits), destructive (it breaks a fixed random subset of the tests),
 * or an overfit that makes a few of a bug's failing tests pass. A node is the set of edits
 * applied to the root; its one task passes when every test does. With `files` > 1 the tests are
 * split into that many test files (tasks), bug b's in file b; every edit lies in one module and
 * moves only that file's tests, and says so the way the loop does (Evogit-Targets: the file's
 * task when the parent fails it). A node is repaired when it passes every file. The agent draws a node's
 * children without replacement in its own order (targeted: the fixes and overfits ranked early
 * among the noise, as a fault localiser would; or uniform), and every child is evaluated once.
 * Each policy runs through the real `decide` loop until its first full repair or the budget.
 */
import type { ArchiveNode, ArchiveSnapshot, Evaluation } from '../../src/archive/types.js';
import { createRng, decide, randomInt, type Rng, type ScorerConfig } from '../../src/scorer/index.js';

export interface Scenario {
  name: string;
  tests: number;
  /** Test cases each bug makes fail (the rest pass at the root). */
  bugTests: number[];
  /** Edits needed together to fix each bug (1: a one-edit fix). */
  fixEdits: number;
  /** Overfit edits per bug: each makes 2 of its failing tests pass. */
  overfits: number;
  edits: number;
  /** The agent's order: targeted (fixes ranked early) or uniform. */
  order: 'targeted' | 'uniform';
  /** Test files (tasks); default 1. */
  files?: number;
}

export const SCENARIOS: Scenario[] = [
  { name: 'one bug, one-edit fix', tests: 10, bugTests: [6], fixEdits: 1, overfits: 0, edits: 150, order: 'targeted' },
  { name: 'one bug, one-edit fix, overfits', tests: 10, bugTests: [6], fixEdits: 1, overfits: 2, edits: 150, order: 'targeted' },
  { name: 'three bugs, one test file', tests: 15, bugTests: [3, 2, 2], fixEdits: 1, overfits: 0, edits: 150, order: 'targeted' },
  { name: 'three bugs, three test files (the demo)', tests: 15, bugTests: [4, 2, 1], fixEdits: 1, overfits: 1, edits: 150, order: 'targeted', files: 3 },
  { name: 'one bug, two-edit fix', tests: 10, bugTests: [6], fixEdits: 2, overfits: 0, edits: 60, order: 'targeted' },
  { name: 'one bug, one-edit fix, uniform agent', tests: 10, bugTests: [6], fixEdits: 1, overfits: 0, edits: 150, order: 'uniform' },
];

type Effect = ({ kind: 'fix'; bug: number } | { kind: 'neutral' } | { kind: 'destroy'; breaks: Set<number> } | { kind: 'overfit'; bug: number; passes: Set<number> }) & { file: number };

interface World {
  effects: Effect[];
  /** Test → its file. */
  fileOf: number[];
  /** Test → the bug that makes it fail, or -1. */
  bugOf: number[];
  /** Per edit, its rank weight in a targeted agent's order (higher: earlier). */
  salience: number[];
}

const filesOf = (sc: Scenario): number => sc.files ?? 1;

function makeWorld(sc: Scenario, rng: Rng): World {
  const files = filesOf(sc);
  const perFile = sc.tests / files;
  const fileOf = Array.from({ length: sc.tests }, (_, t) => Math.floor(t / perFile));
  const bugOf: number[] = new Array<number>(sc.tests).fill(-1);
  // One file: the bugs' tests one after the other; several: bug b's at the start of file b.
  let t = 0;
  sc.bugTests.forEach((n, b) => {
    if (files > 1) t = Math.round(b * perFile);
    for (let k = 0; k < n; k++) bugOf[t++] = b;
  });
  const bugFile = (b: number): number => (files > 1 ? b : 0);
  const effects: Effect[] = [];
  const salience: number[] = [];
  for (let b = 0; b < sc.bugTests.length; b++) {
    for (let k = 0; k < sc.fixEdits; k++) effects.push({ kind: 'fix', bug: b, file: bugFile(b) });
    for (let k = 0; k < sc.overfits; k++) {
      const failing = bugOf.map((x, i) => (x === b ? i : -1)).filter((i) => i >= 0);
      const passes = new Set<number>();
      while (passes.size < Math.min(2, failing.length)) passes.add(failing[randomInt(rng, failing.length)]!);
      effects.push({ kind: 'overfit', bug: b, passes, file: bugFile(b) });
    }
  }
  const special = effects.length;
  while (effects.length < sc.edits) {
    const file = files > 1 ? randomInt(rng, files) : 0;
    if (rng.next() < 0.35) effects.push({ kind: 'neutral', file });
    else {
      // An edit of one module breaks tests of its own file only.
      const own = fileOf.flatMap((f, i) => (f === file ? [i] : []));
      const breaks = new Set<number>();
      for (const i of own) if (rng.next() < 0.5) breaks.add(i);
      if (breaks.size === 0) breaks.add(own[randomInt(rng, own.length)]!);
      effects.push({ kind: 'destroy', breaks, file });
    }
  }
  // A targeted agent ranks the edits on the faulty lines early, not first: salience 3 vs 1.
  for (let e = 0; e < effects.length; e++) salience.push(e < special ? 3 : 1);
  return { effects, fileOf, bugOf, salience };
}

/** Tests of `file` (all of them: -1) that pass with the edits applied. */
function testsPassed(sc: Scenario, w: World, applied: number[], file = -1): number {
  const fixes = new Map<number, number>();
  const broken = new Set<number>();
  const overfit = new Set<number>();
  for (const e of applied) {
    const eff = w.effects[e]!;
    if (eff.kind === 'fix') fixes.set(eff.bug, (fixes.get(eff.bug) ?? 0) + 1);
    else if (eff.kind === 'destroy') for (const t of eff.breaks) broken.add(t);
    else if (eff.kind === 'overfit') for (const t of eff.passes) overfit.add(t);
  }
  let passed = 0;
  for (let t = 0; t < sc.tests; t++) {
    if (file >= 0 && w.fileOf[t] !== file) continue;
    const bug = w.bugOf[t]!;
    const ok = bug < 0 || (fixes.get(bug) ?? 0) >= sc.fixEdits || overfit.has(t);
    if (ok && !broken.has(t)) passed++;
  }
  return passed;
}

/** A node's children in the agent's order: a weighted shuffle (targeted) or a uniform one. */
function childOrder(sc: Scenario, w: World, applied: Set<number>, rng: Rng): number[] {
  const keyed: [number, number][] = [];
  for (let e = 0; e < w.effects.length; e++) {
    if (applied.has(e)) continue;
    const weight = sc.order === 'targeted' ? w.salience[e]! : 1;
    // Efraimidis–Spirakis: u^(1/w), larger first.
    keyed.push([Math.pow(rng.next(), 1 / weight), e]);
  }
  return keyed.sort((a, b) => b[0] - a[0]).map(([, e]) => e);
}

function simNode(id: string, parents: string[], targets?: string[]): ArchiveNode {
  const node: ArchiveNode = { id, parents, tree: id, branch: id, writer: 'sim', agent: 'sim', operator: parents.length ? 'mutate' : 'root', time: 0, subject: id, pruned: false, promoted: false };
  if (targets) node.targets = targets;
  return node;
}

const taskOf = (f: number): string => `test_${f}.py`;

export interface CheapResult {
  repaired: boolean;
  evaluations: number;
  rootChildren: number;
  maxDepth: number;
}

export function simulateCheap(sc: Scenario, config: ScorerConfig, budget: number, seed: number): CheapResult {
  const world = makeWorld(sc, createRng(seed * 1_000_003 + 7));
  const agentRng = createRng(seed * 31 + 5);
  const decider = createRng(seed * 7919 + 1);
  const applied = new Map<string, number[]>([['n0', []]]);
  const orders = new Map<string, number[]>();
  const depth = new Map<string, number>([['n0', 0]]);
  const snapshot: ArchiveSnapshot = { root: 'n0', nodes: [simNode('n0', [])], evaluations: new Map(), claims: [] };
  const files = filesOf(sc);
  const tasks = Array.from({ length: files }, (_, f) => taskOf(f));
  const parentOf = new Map<string, string>();
  const perFile = sc.tests / files;
  // The loop's Evogit-Targets: the edit's file when the nearest graded run of it up the lineage failed.
  const targetsOf = (parent: string, file: number): string[] | undefined => {
    for (let id: string | undefined = parent; id !== undefined; id = parentOf.get(id)) {
      const run = snapshot.evaluations.get(id)?.find((e) => e.task === taskOf(file));
      if (run) return run.outcome === 'fail' ? [run.task] : undefined;
    }
    return undefined;
  };
  let spent = 0;
  let rootChildren = 0;
  let maxDepth = 0;
  let idle = 0;
  for (;;) {
    const d = decide({ snapshot, tasks, now: 0, budget: { evaluations: budget }, config, rng: decider, evidence: 'tests' });
    if (d.kind === 'done') break;
    if (d.kind === 'expand') {
      const edits = applied.get(d.node)!;
      let order = orders.get(d.node);
      if (!order) orders.set(d.node, (order = childOrder(sc, world, new Set(edits), agentRng)));
      const next = order.shift();
      if (next === undefined) {
        // The neighbourhood is exhausted: the agent makes no child (as a rejected expansion).
        if (++idle > 10_000) break;
        continue;
      }
      idle = 0;
      const id = `n${snapshot.nodes.length}`;
      applied.set(id, [...edits, next]);
      depth.set(id, depth.get(d.node)! + 1);
      maxDepth = Math.max(maxDepth, depth.get(id)!);
      if (d.node === 'n0') rootChildren++;
      parentOf.set(id, d.node);
      snapshot.nodes.push(simNode(id, [d.node], files > 1 ? targetsOf(d.node, world.effects[next]!.file) : undefined));
    } else {
      const file = tasks.indexOf(d.task);
      const passed = testsPassed(sc, world, applied.get(d.node)!, files > 1 ? file : -1);
      const line: Evaluation = {
        node: d.node,
        task: d.task,
        outcome: passed === perFile ? 'pass' : 'fail',
        tests: { passed, failed: perFile - passed, skipped: 0, total: perFile },
        durationMs: 0,
        harness: 'sim',
        writer: 'sim',
        time: '',
      };
      snapshot.evaluations.set(d.node, [...(snapshot.evaluations.get(d.node) ?? []), line]);
      spent++;
      const runs = snapshot.evaluations.get(d.node)!;
      if (tasks.every((t) => runs.some((e) => e.task === t && e.outcome === 'pass'))) return { repaired: true, evaluations: spent, rootChildren, maxDepth };
    }
  }
  return { repaired: false, evaluations: spent, rootChildren, maxDepth };
}

export const CHEAP_VARIANTS: { name: string; config: Partial<ScorerConfig> }[] = [
  { name: 'hgm (HGM rule)', config: { policy: 'hgm', schedule: 'hgm' } },
  { name: 'hgm, rootPrior 1000', config: { policy: 'hgm', schedule: 'hgm', rootPrior: 1000 } },
  { name: 'hgm, breadth (default)', config: { policy: 'hgm' } },
  { name: 'greedy', config: { policy: 'greedy' } },
  { name: 'random', config: { policy: 'random' } },
];

export function cheapReport(base: ScorerConfig, seeds: number, budget: number): string[] {
  const out: string[] = [];
  out.push(`Budget ${budget} evaluations per run, ${seeds} seeds per cell; a run stops at its first full repair.`);
  out.push('Cells: repaired runs · mean evaluations to the repair (repairs only) · mean evaluations per run (a miss counts the budget) · median root children · median deepest node.');
  out.push('');
  out.push(`| scenario | ${CHEAP_VARIANTS.map((v) => v.name).join(' | ')} |`);
  out.push(`|---|${CHEAP_VARIANTS.map(() => '---').join('|')}|`);
  for (const sc of SCENARIOS) {
    const cells = CHEAP_VARIANTS.map((v) => {
      const rs: CheapResult[] = [];
      for (let seed = 0; seed < seeds; seed++) rs.push(simulateCheap(sc, { ...base, ...v.config }, budget, seed));
      const ok = rs.filter((r) => r.repaired);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;
      return `${ok.length}/${rs.length} · ${ok.length ? mean(ok.map((r) => r.evaluations)).toFixed(0) : '–'} · ${mean(rs.map((r) => (r.repaired ? r.evaluations : budget))).toFixed(0)} · ${med(rs.map((r) => r.rootChildren))} · ${med(rs.map((r) => r.maxDepth))}`;
    });
    out.push(`| ${sc.name} | ${cells.join(' | ')} |`);
  }
  return out;
}

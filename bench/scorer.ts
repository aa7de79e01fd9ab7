/**
 * bench/scorer: do the policies find good nodes, and is one decision fast on a big archive?
 *
 *   npx tsx bench/scorer.ts            # 50 seeds, budgets 200 and 800 (a few minutes)
 *   npx tsx bench/scorer.ts --quick    # 12 seeds, budget 200
 *   npx tsx bench/scorer.ts --seeds 100 --budgets 200,800,2000 --settings mismatch --no-timing
 *   npx tsx bench/scorer.ts --no-sim   # only the 100,000-node timing
 *   npx tsx bench/scorer.ts --no-sim --no-timing   # only part 3, cheap children (--cheap-seeds 50)
 *
 * Part 1, a simulated self-improvement tree. Every node has a hidden skill (its pass
 * probability on any task) and a hidden potential that sets how its children's skills are
 * drawn:
 *   child skill     = clip(parent skill + Δ, 0.01, 0.99),  Δ ~ N(μ(potential), σ),  μ(p) = m·p − 0.02
 *   child potential = clip(parent potential + N(0, 0.35), −1, 1)                        ("aligned")
 *   child potential = clip(parent potential + N(0, 0.35) − k·(Δ − μ)/σ/10, −1, 1)       ("mismatch")
 * with m = 0.1, σ = 0.05, k = 8 by default (--mu, --sigma, --penalty change them).
 * In the mismatch setting a child that got lucky (a big jump in skill) loses potential: the
 * highest-scoring nodes tend to be the worst parents, which is the metaproductivity–performance
 * mismatch that the Huxley-Gödel Machine is built for. The root starts at skill 0.25,
 * potential 0. Evaluations are Bernoulli(skill) per task over a fixed pool of 40 tasks; each
 * node can run each task once.
 *
 * Each policy is driven through the real `decide` loop (single agent, evidence per task run)
 * until the evaluation budget is spent. Reported, mean and 95% t-interval over seeds:
 *  - final: true skill of the final answer by the policy's own rule (hgm: ε-quantile;
 *    baselines: best observed mean), and of every policy under both rules;
 *  - best: true skill of the best node in the tree (found or not);
 *  - evals→target: evaluations spent when a node of skill ≥ TARGET was first created
 *    (runs that never got there count as the budget; "reached" says how many did).
 * Plus paired differences hgm − baseline (same seed) with 95% t-intervals.
 *
 * Part 2, the time of one decision on a 100,000-node synthetic archive against the time to
 * merely iterate that archive once.
 *
 * Part 3, cheap children (bench/scorer/cheap.ts): one task per node graded per test case, a
 * program with one to three bugs, children drawn without replacement; evaluations to the
 * first full repair under HGM's rule, rootPrior 1000, the breadth schedule, greedy and random.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import type { ArchiveNode, ArchiveSnapshot, Evaluation } from '../src/archive/types.js';
import { resetScorerCaches } from '../src/scorer/evidence.js';
import { cheapReport } from './scorer/cheap.js';
import {
  POLICY_NAMES,
  createRng,
  decide,
  finalAnswer,
  normal,
  randomInt,
  type PolicyName,
  type Rng,
  type ScorerConfig,
} from '../src/scorer/index.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const flag = (name: string): string | undefined => {
  const k = argv.indexOf(name);
  return k >= 0 ? argv[k + 1] : undefined;
};
const SEEDS = Number(flag('--seeds') ?? (quick ? 12 : 50));
const BUDGETS = (flag('--budgets') ?? (quick ? '200' : '200,800')).split(',').map(Number);
const TASK_POOL = 40;
const ROOT_SKILL = 0.25;
const TARGET = 0.5;
const SETTINGS = (flag('--settings') ?? 'aligned,mismatch').split(',') as Setting[];
const TIMING = !argv.includes('--no-timing');
const SIMULATION = !argv.includes('--no-sim');
const CHEAP = !argv.includes('--no-cheap');
const CHEAP_SEEDS = Number(flag('--cheap-seeds') ?? (quick ? 12 : 50));
const MU_SLOPE = Number(flag('--mu') ?? 0.1);
const SIGMA = Number(flag('--sigma') ?? 0.05);
const PENALTY = Number(flag('--penalty') ?? 8);
const TASKS = Array.from({ length: TASK_POOL }, (_, i) => `task${i}`);

const BASE_CONFIG: ScorerConfig = { policy: 'hgm', alpha: 0.6, tau: 1, cooling: 0, epsilon: 0.05, rootPrior: 1, promotedBoost: 2 };

type Setting = 'aligned' | 'mismatch';

interface Hidden {
  skill: number;
  potential: number;
}

const clip = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

function childOf(parent: Hidden, setting: Setting, rng: Rng): Hidden {
  const mu = MU_SLOPE * parent.potential - 0.02;
  const delta = mu + SIGMA * normal(rng);
  const skill = clip(parent.skill + delta, 0.01, 0.99);
  let potential = parent.potential + 0.35 * normal(rng);
  if (setting === 'mismatch') potential -= (PENALTY * (delta - mu)) / SIGMA / 10;
  return { skill, potential: clip(potential, -1, 1) };
}

function simNode(id: string, parents: string[]): ArchiveNode {
  return {
    id,
    parents,
    tree: id,
    branch: id,
    writer: 'sim',
    agent: 'sim',
    operator: parents.length ? 'mutate' : 'root',
    time: 0,
    subject: id,
    pruned: false,
    promoted: false,
  };
}

interface RunResult {
  finalOwn: number;
  finalQuantile: number;
  finalMean: number;
  best: number;
  evalsToTarget: number;
  reached: boolean;
  nodes: number;
}

function simulate(policy: PolicyName, setting: Setting, budget: number, seed: number): RunResult {
  const world = createRng(seed * 1_000_003 + (setting === 'mismatch' ? 17 : 0));
  const decider = createRng(seed * 7919 + 1);
  const hidden = new Map<string, Hidden>([['n0', { skill: ROOT_SKILL, potential: 0 }]]);
  const snapshot: ArchiveSnapshot = { root: 'n0', nodes: [simNode('n0', [])], evaluations: new Map(), claims: [] };
  const config = { ...BASE_CONFIG, policy };
  let spent = 0;
  let evalsToTarget = budget;
  let reached = false;
  for (;;) {
    const d = decide({ snapshot, tasks: TASKS, now: 0, budget: { evaluations: budget }, config, rng: decider, evidence: 'tasks' });
    if (d.kind === 'done') break;
    if (d.kind === 'expand') {
      const id = `n${snapshot.nodes.length}`;
      const h = childOf(hidden.get(d.node)!, setting, world);
      hidden.set(id, h);
      snapshot.nodes.push(simNode(id, [d.node]));
      if (!reached && h.skill >= TARGET) {
        reached = true;
        evalsToTarget = spent;
      }
    } else {
      const line: Evaluation = {
        node: d.node,
        task: d.task,
        outcome: world.next() < hidden.get(d.node)!.skill ? 'pass' : 'fail',
        durationMs: 0,
        harness: 'sim',
        writer: 'sim',
        time: '',
      };
      const lines = snapshot.evaluations.get(d.node);
      if (lines) lines.push(line);
      else snapshot.evaluations.set(d.node, [line]);
      spent++;
    }
  }
  const skillOf = (rule: 'quantile' | 'mean') => hidden.get(finalAnswer(snapshot, { epsilon: 0.05, evidence: 'tasks', rule }).node)!.skill;
  const finalQuantile = skillOf('quantile');
  const finalMean = skillOf('mean');
  let best = 0;
  for (const h of hidden.values()) best = Math.max(best, h.skill);
  return {
    finalOwn: policy === 'hgm' ? finalQuantile : finalMean,
    finalQuantile,
    finalMean,
    best,
    evalsToTarget,
    reached,
    nodes: snapshot.nodes.length,
  };
}

/** Two-sided 97.5% Student t quantiles for small df; normal beyond. */
function tQuantile(df: number): number {
  const table: Record<number, number> = { 1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228, 11: 2.201, 15: 2.131, 20: 2.086, 30: 2.042, 40: 2.021, 49: 2.01, 60: 2.0, 99: 1.984 };
  const keys = Object.keys(table).map(Number).sort((a, b) => a - b);
  for (const k of keys) if (df <= k) return table[k]!;
  return 1.96;
}

function meanCi(xs: number[]): { mean: number; half: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  return { mean, half: (tQuantile(n - 1) * sd) / Math.sqrt(n) };
}

const fmt = (xs: number[], digits = 3) => {
  const { mean, half } = meanCi(xs);
  return `${mean.toFixed(digits)} ± ${half.toFixed(digits)}`;
};

function part1(out: { push(line: string): void }): void {
  out.push(`Simulation: ${SEEDS} seeds, task pool ${TASK_POOL}, root skill ${ROOT_SKILL}, target skill ${TARGET}, m=${MU_SLOPE}, σ=${SIGMA}, k=${PENALTY}, α=${BASE_CONFIG.alpha}, τ=${BASE_CONFIG.tau}, ε=${BASE_CONFIG.epsilon}.`);
  out.push('Mean ± 95% t-interval half-width over seeds. final(own rule): hgm ε-quantile, baselines best mean.');
  out.push('');
  for (const setting of SETTINGS) {
    for (const budget of BUDGETS) {
      const t0 = performance.now();
      const results = new Map<PolicyName, RunResult[]>();
      for (const policy of POLICY_NAMES) {
        const rs: RunResult[] = [];
        for (let seed = 0; seed < SEEDS; seed++) rs.push(simulate(policy, setting, budget, seed));
        results.set(policy, rs);
      }
      out.push(`### ${setting}, budget ${budget} evaluations (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      out.push('');
      out.push('| policy | final (own rule) | final (ε-quantile) | final (best mean) | best in tree | evals→target | reached | nodes |');
      out.push('|---|---|---|---|---|---|---|---|');
      for (const policy of POLICY_NAMES) {
        const rs = results.get(policy)!;
        out.push(
          `| ${policy} | ${fmt(rs.map((r) => r.finalOwn))} | ${fmt(rs.map((r) => r.finalQuantile))} | ${fmt(rs.map((r) => r.finalMean))} | ${fmt(rs.map((r) => r.best))} | ${fmt(rs.map((r) => r.evalsToTarget), 0)} | ${rs.filter((r) => r.reached).length}/${rs.length} | ${fmt(rs.map((r) => r.nodes), 1)} |`,
        );
      }
      out.push('');
      const hgm = results.get('hgm')!;
      const diffs: string[] = [];
      for (const policy of POLICY_NAMES) {
        if (policy === 'hgm') continue;
        const rs = results.get(policy)!;
        const d = meanCi(hgm.map((r, k) => r.finalOwn - rs[k]!.finalOwn));
        const verdict = d.mean - d.half > 0 ? 'hgm better beyond the interval' : d.mean + d.half < 0 ? 'hgm WORSE beyond the interval' : 'within the interval';
        diffs.push(`hgm − ${policy}: ${d.mean.toFixed(3)} ± ${d.half.toFixed(3)} (${verdict})`);
      }
      out.push(`Paired final-answer skill differences (own rules): ${diffs.join('; ')}.`);
      out.push('');
      process.stderr.write(`done: ${setting} budget ${budget}\n`);
    }
  }
}

/** A synthetic archive: `shape` wide (parent uniform over all earlier nodes) or deep (among the last 50). */
function syntheticArchive(n: number, shape: 'wide' | 'deep', crossoverRate: number, seed: number): ArchiveSnapshot {
  const rng = createRng(seed);
  const nodes: ArchiveNode[] = [simNode('h0', [])];
  const evaluations = new Map<string, Evaluation[]>();
  for (let i = 1; i < n; i++) {
    const pick = () => (shape === 'wide' ? randomInt(rng, i) : Math.max(0, i - 1 - randomInt(rng, 50)));
    const p = pick();
    const parents = [`h${p}`];
    if (rng.next() < crossoverRate) {
      const q = pick();
      if (q !== p) parents.push(`h${q}`);
    }
    nodes.push(simNode(`h${i}`, parents));
  }
  for (let i = 0; i < n; i++) {
    const k = randomInt(rng, 5);
    if (k === 0) continue;
    const lines: Evaluation[] = [];
    for (let j = 0; j < k; j++) {
      lines.push({ node: `h${i}`, task: TASKS[j]!, outcome: rng.next() < 0.4 ? 'pass' : 'fail', durationMs: 0, harness: 'sim', writer: 'sim', time: '' });
    }
    evaluations.set(`h${i}`, lines);
  }
  return { root: 'h0', nodes, evaluations, claims: [] };
}

/**
 * The next snapshot as the archive's incremental refresh builds it: the same node objects, 100
 * new nodes (children of random nodes) merged in by depth, and a copy-on-write evaluations
 * map with 100 new lines on random nodes.
 */
function successorSnapshot(snap: ArchiveSnapshot, step: number): ArchiveSnapshot {
  const rng = createRng(1000 + step);
  const depth = depthOf(snap);
  const added: ArchiveNode[] = [];
  for (let k = 0; k < 100; k++) {
    const parent = snap.nodes[randomInt(rng, snap.nodes.length)]!;
    const node = simNode(`s${step}-${k}`, [parent.id]);
    depth.set(node.id, depth.get(parent.id)! + 1);
    added.push(node);
  }
  const nodes = [...snap.nodes, ...added].sort((a, b) => depth.get(a.id)! - depth.get(b.id)!);
  const evaluations = new Map(snap.evaluations);
  for (let k = 0; k < 100; k++) {
    const id = nodes[randomInt(rng, nodes.length)]!.id;
    evaluations.set(id, [...(evaluations.get(id) ?? []), { node: id, task: TASKS[5]!, outcome: rng.next() < 0.4 ? 'pass' : 'fail', durationMs: 0, harness: 'sim', writer: 'sim', time: '' }]);
  }
  const next: ArchiveSnapshot = { root: snap.root, nodes, evaluations, claims: [] };
  depths.set(next, depth);
  return next;
}

const depths = new WeakMap<ArchiveSnapshot, Map<string, number>>();
function depthOf(snap: ArchiveSnapshot): Map<string, number> {
  const known = depths.get(snap);
  if (known) return known;
  const depth = new Map<string, number>();
  for (const n of snap.nodes) depth.set(n.id, n.parents.length === 0 ? 0 : Math.max(...n.parents.map((p) => depth.get(p)! + 1)));
  depths.set(snap, depth);
  return depth;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function part2(out: { push(line: string): void }): void {
  const N = 100_000;
  const reps = quick ? 5 : 21;
  out.push(`### One decision on a ${N.toLocaleString('en')}-node archive (median of ${reps}, after a warm-up)`);
  out.push('');
  out.push('Each node has 0–4 evaluation lines (~200k lines). "iterate" walks the nodes and every line once;');
  out.push('"resolve ids" also maps every id and parent link through a Map and looks up each node\'s lines,');
  out.push('the least any reader of a snapshot must do. Cells: median / min wall time (median CPU time).');
  out.push(`Load average when timing started: ${loadavg().map((x) => x.toFixed(1)).join(', ')} on ${cpus().length} cores (other jobs share the machine).`);
  out.push('expand: α = 5 so the rule says expand (with a crossover mate); evaluate: the default α = 0.6.');
  out.push('');
  out.push('Three cases per policy: **fresh** — a snapshot the scorer has never seen, caches emptied (a new process, or a');
  out.push('snapshot unrelated to the last one); **cached** — the same snapshot again (the archive returns the memoized');
  out.push('snapshot when nothing changed); **incremental** — a successor snapshot built the way the archive\'s refresh builds');
  out.push('one (same node objects, 100 new nodes merged in depth order, copy-on-write evaluations map with 100 new lines),');
  out.push('what the agent loop decides on after each refresh. The ≤ 50 ms target is read on the incremental case.');
  out.push('');
  out.push('| archive | iterate once | resolve ids once | hgm evaluate: fresh / cached / incremental | hgm expand + mate: fresh / cached / incremental | dgm expand (incremental) | random evaluate (incremental) |');
  out.push('|---|---|---|---|---|---|---|');
  for (const [shape, rate] of [
    ['wide', 0],
    ['deep', 0],
    ['wide', 0.01],
    ['deep', 0.01],
  ] as const) {
    const snap = syntheticArchive(N, shape, rate, 42);
    // Wall time, median of reps; the machine is shared, so CPU time of this process is kept too.
    // `prepare` runs outside the timed region (building the next snapshot is the archive's cost, not the scorer's).
    const timeWith = <T>(prepare: () => T, fn: (x: T) => unknown, short = false): string => {
      fn(prepare());
      const wall: number[] = [];
      const cpu: number[] = [];
      for (let r = 0; r < reps; r++) {
        const x = prepare();
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        fn(x);
        wall.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
      return short ? `${median(wall).toFixed(1)} (cpu ${median(cpu).toFixed(1)})` : `${median(wall).toFixed(1)} / ${Math.min(...wall).toFixed(1)} ms (cpu ${median(cpu).toFixed(1)})`;
    };
    const time = (fn: () => unknown): string => timeWith(() => null, fn);
    let sink = 0;
    const iterate = time(() => {
      for (const node of snap.nodes) sink += node.parents.length;
      for (const lines of snap.evaluations.values()) for (const l of lines) sink += l.outcome === 'pass' ? 1 : 0;
      return sink;
    });
    // The least any reader of the snapshot does: map ids to nodes and resolve every parent link.
    const resolve = time(() => {
      const byId = new Map<string, number>();
      for (let i = 0; i < snap.nodes.length; i++) byId.set(snap.nodes[i]!.id, i);
      for (const node of snap.nodes) for (const p of node.parents) sink += byId.get(p) ?? 0;
      for (const node of snap.nodes) sink += snap.evaluations.get(node.id)?.length ?? 0;
      return sink;
    });
    const input = (s: ArchiveSnapshot, policy: PolicyName, alpha: number, crossover: boolean) => ({ snapshot: s, tasks: TASKS, now: 0, budget: {}, config: { ...BASE_CONFIG, policy, alpha }, rng: createRng(1), crossover });
    let current = snap;
    let step = 0;
    const successor = (): ArchiveSnapshot => {
      current = successorSnapshot(current, step++);
      // The scorer has seen the predecessor (the previous decision of the loop).
      decide(input(current === snap ? snap : current, 'random', 0.6, false));
      current = successorSnapshot(current, step++);
      return current;
    };
    const freshCopy = (): ArchiveSnapshot => {
      resetScorerCaches();
      return { ...current, nodes: current.nodes.slice(), evaluations: new Map(current.evaluations) };
    };
    const three = (policy: PolicyName, alpha: number, crossover = false) =>
      [freshCopy, () => current, successor].map((prep) => timeWith(prep, (s) => decide(input(s, policy, alpha, crossover)), true)).join(' / ');
    const run = (policy: PolicyName, alpha: number, crossover = false) => timeWith(successor, (s) => decide(input(s, policy, alpha, crossover)), true);
    const label = `${shape}${rate ? `, ${rate * 100}% crossovers` : ', tree'}`;
    out.push(
      `| ${label} | ${iterate} | ${resolve} | ${three('hgm', 0.6)} | ${three('hgm', 5, true)} | ${run('dgm', 5)} | ${run('random', 0.6)} |`,
    );
    process.stderr.write(`done: timing ${label}\n`);
  }
  out.push('');
}

/** Lines are written as they are produced, so a long run shows its progress. */
const out = {
  push(line: string): void {
    process.stdout.write(line + '\n');
  },
};
const cpu = cpus()[0]?.model ?? 'unknown CPU';
out.push(`Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}.`);
out.push('');
const started = performance.now();
if (SIMULATION) part1(out);
if (TIMING) part2(out);
if (CHEAP) {
  const t0 = performance.now();
  out.push('### Cheap children: one task per node, graded per test case');
  out.push('');
  for (const line of cheapReport(BASE_CONFIG, CHEAP_SEEDS, 200)) out.push(line);
  out.push('');
  out.push(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  out.push('');
}
out.push(`Total bench time ${((performance.now() - started) / 1000).toFixed(0)} s.`);

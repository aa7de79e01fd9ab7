/**
 * The evidence a pull request carries, gathered from the archive snapshot plus a diff stat
 * and the lineage's commit messages from git. Everything except the two git reads is pure.
 */
import type { ArchiveNode, ArchiveSnapshot, Evaluation } from '../archive/types.js';
import { globToRegExp } from '../tasks/glob.js';
import { EvogitError } from '../errors/index.js';
import { commitMessages, diffStat, type DiffStatEntry } from './git.js';
import { betaMean, type BetaQuantile, type PassFail } from './rule.js';

export interface ScoreSummary extends PassFail {
  /** Graded runs: pass + fail (infrastructure errors are not evidence). */
  evaluations: number;
  errors: number;
  /** Mean of Beta(1+pass, 1+fail). */
  mean: number;
  /** 95% credible interval of Beta(1+pass, 1+fail). */
  low: number;
  high: number;
  /** The ε-quantile the PR rule and the final answer use. */
  lower: number;
}

export interface LineageStep {
  id: string;
  subject: string;
  /** Full commit message without the Evogit-* trailers. */
  message: string;
  agent: string;
  operator: string;
  model?: string;
  cost?: number;
}

export interface FixedTask {
  task: string;
  /** Tail of the base's failing log. */
  before?: string;
  /** Tail of the node's passing log. */
  after?: string;
  /** Test ids that failed on the base and pass on the node, when the runner reported them. */
  tests: string[];
}

export interface PrEvidence {
  node: ArchiveNode;
  base: ArchiveNode;
  /** The first node after the root on the node's first-parent line: PRs of one clade replace each other. */
  clade: string;
  epsilon: number;
  scores: { node: ScoreSummary; base: ScoreSummary };
  /** Root excluded, oldest first, ending with the node. */
  lineage: LineageStep[];
  diffStat: DiffStatEntry[];
  fixed: FixedTask[];
  /** Protected paths the diff touches (and runs flagged as tampered). Non-empty means never a PR. */
  protectedHits: string[];
  reproduce: string;
}

export type CountEvidence = (evaluations: Evaluation[]) => PassFail;

/** One graded run = one unit of evidence; infrastructure errors and tampered runs are not counted. */
export function countRuns(evaluations: Evaluation[]): PassFail {
  let pass = 0;
  let fail = 0;
  for (const e of evaluations) {
    if (e.tampered) continue;
    if (e.outcome === 'pass') pass++;
    else if (e.outcome === 'fail') fail++;
  }
  return { pass, fail };
}

export function summarize(evaluations: Evaluation[], counts: CountEvidence, quantile: BetaQuantile, epsilon: number): ScoreSummary {
  const c = counts(evaluations);
  const a = 1 + c.pass;
  const b = 1 + c.fail;
  return {
    ...c,
    evaluations: c.pass + c.fail,
    errors: evaluations.filter((e) => e.outcome === 'error').length,
    mean: betaMean(c),
    low: quantile(a, b, 0.025),
    high: quantile(a, b, 0.975),
    lower: quantile(a, b, epsilon),
  };
}

/** First-parent line from the node back to the root, root excluded, oldest first. */
export function lineageOf(snapshot: ArchiveSnapshot, nodeId: string): ArchiveNode[] {
  const byId = new Map(snapshot.nodes.map((n) => [n.id, n]));
  const line: ArchiveNode[] = [];
  let cur = byId.get(nodeId);
  if (!cur) throw new EvogitError('E_NODE_UNKNOWN', `node ${nodeId} is not in the archive`, 'Run `evogit status` to list the nodes.');
  const seen = new Set<string>();
  while (cur && cur.id !== snapshot.root) {
    if (seen.has(cur.id)) break;
    seen.add(cur.id);
    line.push(cur);
    const parent: string | undefined = cur.parents[0];
    cur = parent ? byId.get(parent) : undefined;
  }
  if (!cur) {
    throw new EvogitError('E_NODE_NOT_IN_CLADE', `node ${nodeId} does not descend from the archive root ${snapshot.root}`, 'Only nodes grown from the root can become pull requests.');
  }
  return line.reverse();
}

export { globToRegExp };

export function protectedHits(paths: string[], globs: string[]): string[] {
  const res = [...new Set(['evogit.yml', ...globs])].map(globToRegExp);
  return paths.filter((p) => res.some((r) => r.test(p)));
}

/** Commit message minus the Evogit-* trailers (they are shown in the lineage table instead). */
export function stripTrailers(message: string): string {
  return message
    .split('\n')
    .filter((l) => !/^Evogit-[A-Za-z-]+:/.test(l))
    .join('\n')
    .trim();
}

function tail(log: string | undefined, lines = 8, chars = 600): string | undefined {
  if (!log) return undefined;
  const t = log.trimEnd().split('\n').slice(-lines).join('\n');
  return t.length > chars ? `…${t.slice(-chars)}` : t;
}

/** The last graded (pass/fail) run of each task. */
function latestGraded(evaluations: Evaluation[]): Map<string, Evaluation> {
  const out = new Map<string, Evaluation>();
  for (const e of [...evaluations].sort((x, y) => x.time.localeCompare(y.time))) {
    if (e.outcome === 'error' || e.tampered) continue;
    out.set(e.task, e);
  }
  return out;
}

/** Tasks that fail on the base and pass on the node, with short log excerpts of both. */
export function fixedTasks(baseEvals: Evaluation[], nodeEvals: Evaluation[]): FixedTask[] {
  const before = latestGraded(baseEvals);
  const after = latestGraded(nodeEvals);
  const fixed: FixedTask[] = [];
  for (const [task, a] of after) {
    const b = before.get(task);
    if (a.outcome !== 'pass' || b?.outcome !== 'fail') continue;
    const tests = Object.entries(a.testResults ?? {})
      .filter(([id, r]) => r === 'pass' && b.testResults?.[id] === 'fail')
      .map(([id]) => id);
    fixed.push({ task, before: tail(b.log), after: tail(a.log), tests });
  }
  return fixed.sort((x, y) => x.task.localeCompare(y.task));
}

export interface GatherOptions {
  repoDir: string;
  snapshot: ArchiveSnapshot;
  /** Full SHA of the node. */
  node: string;
  epsilon: number;
  quantile: BetaQuantile;
  /** Globs from `test.protected`; evogit.yml is always protected. */
  protectedPaths: string[];
  /** How runs become pass/fail evidence; default one graded run = one unit. The lead may wire the scorer's per-test counting. */
  counts?: CountEvidence;
  /**
   * A node's evaluation lines with their log tails (`Archive.evaluationLogs`): snapshots leave
   * the logs out, and the fixed-task excerpts need them. Without it the excerpts are empty.
   */
  logs?: EvaluationLogs;
}

export type EvaluationLogs = (node: string) => Promise<Evaluation[]>;

export async function gatherEvidence(opts: GatherOptions): Promise<PrEvidence> {
  const { snapshot, epsilon, quantile } = opts;
  const counts = opts.counts ?? countRuns;
  const lineageNodes = lineageOf(snapshot, opts.node);
  const base = snapshot.nodes.find((n) => n.id === snapshot.root);
  const node = lineageNodes.at(-1);
  if (!base || !node) {
    throw new EvogitError('E_NODE_IS_ROOT', `node ${opts.node} is the archive root`, 'Pick a node grown from the root.');
  }
  const [stat, messages] = await Promise.all([
    diffStat(opts.repoDir, base.id, node.id),
    commitMessages(opts.repoDir, lineageNodes.map((n) => n.id)),
  ]);
  const nodeEvals = snapshot.evaluations.get(node.id) ?? [];
  const baseEvals = snapshot.evaluations.get(base.id) ?? [];
  const fixed = fixedTasks(baseEvals, nodeEvals);
  if (fixed.length > 0 && opts.logs) {
    // Only the nodes whose excerpts are shown: the base and the node, read from their notes.
    const [baseFull, nodeFull] = await Promise.all([opts.logs(base.id), opts.logs(node.id)]);
    const excerpts = new Map(fixedTasks(baseFull, nodeFull).map((f) => [f.task, f]));
    for (const f of fixed) {
      const e = excerpts.get(f.task);
      if (e?.before !== undefined) f.before = e.before;
      if (e?.after !== undefined) f.after = e.after;
    }
  }
  const hits = protectedHits(stat.map((s) => s.path), opts.protectedPaths);
  for (const n of lineageNodes) {
    if ((snapshot.evaluations.get(n.id) ?? []).some((e) => e.tampered)) hits.push(`(a run of ${n.id.slice(0, 12)} was flagged as tampered)`);
  }
  return {
    node,
    base,
    clade: lineageNodes[0]!.id,
    epsilon,
    scores: {
      node: summarize(nodeEvals, counts, quantile, epsilon),
      base: summarize(baseEvals, counts, quantile, epsilon),
    },
    lineage: lineageNodes.map((n) => ({
      id: n.id,
      subject: n.subject,
      message: stripTrailers(messages.get(n.id) ?? n.subject),
      agent: n.agent,
      operator: n.operator,
      ...(n.model ? { model: n.model } : {}),
      ...(n.cost !== undefined ? { cost: n.cost } : {}),
    })),
    diffStat: stat,
    fixed,
    protectedHits: hits,
    reproduce: `evogit eval ${node.id}`,
  };
}

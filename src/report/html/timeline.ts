/**
 * The run over time, rebuilt from the archive alone: evaluation lines in the order they
 * finished (their `time`), nodes at their commit time. The best-node curves apply the final
 * answer's rule to the scorer's own evidence of the archive as it stood at each sample (the
 * last point is `evogit best` itself); quantiles are memoised by counts, which repeat.
 */
import type { ArchiveNode, ArchiveSnapshot, Evaluation } from '../../archive/index.js';
import { betaQuantile, evidence, finalAnswer, type EvidenceMode } from '../../scorer/index.js';
import type { ReportTimeline } from './data.js';

/** Samples per curve: enough for a smooth line at any budget, few enough to replay the scorer quickly. */
export const TIMELINE_SAMPLES = 120;

interface TimedLine {
  line: Evaluation;
  ms: number;
}

/** Every evaluation line of the snapshot's nodes, in the order the runs finished (ties: as stored). */
function linesInOrder(snapshot: ArchiveSnapshot, known: Set<string>): TimedLine[] {
  const out: TimedLine[] = [];
  for (const [node, lines] of snapshot.evaluations) {
    if (!known.has(node)) continue;
    for (const line of lines) {
      const ms = Date.parse(line.time);
      out.push({ line, ms: Number.isFinite(ms) ? ms : 0 });
    }
  }
  return out.sort((a, b) => a.ms - b.ms);
}

/** Sample positions 0 < … ≤ total, evenly spread, the last one always `total`. */
export function samplePoints(total: number, samples = TIMELINE_SAMPLES): number[] {
  if (total === 0) return [0];
  const n = Math.min(total, samples);
  const out = [0];
  for (let s = 1; s <= n; s++) out.push(Math.round((s * total) / n));
  return out;
}

/**
 * The archive as it grows, sample by sample: the nodes made and the lines written so far,
 * ancestors kept so it stays a tree. Each step copies the map but keeps every unchanged line
 * list, and appends new nodes last, as the archive's own refreshes do, so the scorer's
 * evidence cache counts only what changed.
 */
class GrowingArchive {
  private evaluations = new Map<string, Evaluation[]>();
  private line = 0;
  private readonly parents: number[][];

  constructor(
    private readonly snapshot: ArchiveSnapshot,
    private readonly ordered: TimedLine[],
  ) {
    const index = new Map(snapshot.nodes.map((n, i) => [n.id, i]));
    this.parents = snapshot.nodes.map((n) => n.parents.map((p) => index.get(p)).filter((p): p is number => p !== undefined));
  }

  at(k: number, nodeIn: (n: ArchiveNode) => boolean): ArchiveSnapshot {
    const added = new Map<string, Evaluation[]>();
    for (; this.line < k; this.line++) {
      const { line } = this.ordered[this.line]!;
      added.set(line.node, [...(added.get(line.node) ?? []), line]);
    }
    if (added.size) {
      const next = new Map(this.evaluations);
      for (const [node, lines] of added) next.set(node, [...(next.get(node) ?? []), ...lines]);
      this.evaluations = next;
    }
    const nodes = this.snapshot.nodes;
    const keep = new Uint8Array(nodes.length);
    for (let i = nodes.length - 1; i >= 0; i--) {
      const n = nodes[i]!;
      if (keep[i] || nodeIn(n) || this.evaluations.has(n.id) || n.id === this.snapshot.root) {
        keep[i] = 1;
        for (const p of this.parents[i]!) keep[p] = 1;
      }
    }
    return { root: this.snapshot.root, nodes: nodes.filter((_, i) => keep[i]), evaluations: this.evaluations, claims: [] };
  }
}

export function timeline(snapshot: ArchiveSnapshot, opts: { epsilon: number; evidence: EvidenceMode }): ReportTimeline {
  const index = new Map(snapshot.nodes.map((n, i) => [n.id, i]));
  const ordered = linesInOrder(snapshot, new Set(index.keys()));
  const at = samplePoints(ordered.length);
  const start = Math.min(...snapshot.nodes.map((n) => n.time * 1000), ordered[0]?.ms ?? Infinity);
  const writers = [...new Set(ordered.map((t) => t.line.writer))].sort();
  const agents = [...new Set(ordered.map((t) => snapshot.nodes[index.get(t.line.node)!]!.agent))].sort();
  const out: ReportTimeline = { at, time: [], bestQuantile: [], bestMean: [], bestNode: [], nodes: [], cost: [], errors: [], byWriter: {}, byAgent: {} };
  for (const w of writers) out.byWriter[w] = [];
  for (const a of agents) out.byAgent[a] = [];
  const pruned = new Set(snapshot.nodes.filter((n) => n.pruned).map((n) => n.id));
  const tampered = new Set(ordered.filter((t) => t.line.tampered).map((t) => t.line.node));
  const memo = new Map<string, number>();
  const quantileOf = (ns: number, nf: number) => {
    const key = `${ns},${nf}`;
    let q = memo.get(key);
    if (q === undefined) memo.set(key, (q = betaQuantile(opts.epsilon, 1 + ns, 1 + nf)));
    return q;
  };
  const growing = new GrowingArchive(snapshot, ordered);
  const perWriter = new Map<string, number>();
  const perAgent = new Map<string, number>();
  let line = 0;
  let errors = 0;
  for (const k of at) {
    for (; line < k; line++) {
      const e = ordered[line]!.line;
      if (e.outcome === 'error') errors++;
      perWriter.set(e.writer, (perWriter.get(e.writer) ?? 0) + 1);
      const agent = snapshot.nodes[index.get(e.node)!]!.agent;
      perAgent.set(agent, (perAgent.get(agent) ?? 0) + 1);
    }
    // The sample's moment: when its last line finished (the first sample: when the archive began).
    const ms = k === 0 ? start : ordered[k - 1]!.ms;
    // The last sample is the archive as it stands, nodes made after the last run included.
    const last = k === ordered.length;
    const then = growing.at(k, (n) => last || n.time * 1000 <= ms);
    const best = last ? finalBest(then, opts) : bestAt(then, opts.evidence, pruned, tampered, quantileOf);
    out.time.push(ms);
    out.bestQuantile.push(best?.quantile ?? null);
    out.bestMean.push(best?.mean ?? null);
    out.bestNode.push(best ? (index.get(best.node) ?? -1) : -1);
    out.time.push(ms);
    out.nodes.push(then.nodes.length);
    out.cost.push(then.nodes.reduce((sum, n) => sum + (n.cost ?? 0), 0));
    out.errors.push(errors);
    for (const w of writers) out.byWriter[w]!.push(perWriter.get(w) ?? 0);
    for (const a of agents) out.byAgent[a]!.push(perAgent.get(a) ?? 0);
  }
  return out;
}

interface Best {
  node: string;
  quantile: number;
  mean: number;
}

/** The final answer's rule (pruned and tampered nodes never win; ties to the earlier node) and the best mean. */
function bestAt(then: ArchiveSnapshot, mode: EvidenceMode, pruned: Set<string>, tampered: Set<string>, quantileOf: (ns: number, nf: number) => number): Best | null {
  let best: Best | null = null;
  let mean = 0;
  for (const [id, c] of evidence(then, { mode })) {
    if (pruned.has(id) || tampered.has(id) || c.ns + c.nf === 0) continue;
    const q = quantileOf(c.ns, c.nf);
    if (!best || q > best.quantile) best = { node: id, quantile: q, mean: 0 };
    mean = Math.max(mean, c.ns / (c.ns + c.nf));
  }
  return best && { ...best, mean };
}

/** The last sample is exactly what `evogit best` answers. */
function finalBest(then: ArchiveSnapshot, opts: { epsilon: number; evidence: EvidenceMode }): Best | null {
  const answer = finalAnswer(then, opts);
  if (answer.ns + answer.nf === 0) return null;
  return { node: answer.node, quantile: answer.quantile, mean: finalAnswer(then, { ...opts, rule: 'mean' }).quantile };
}

import { Archive } from '../../archive/index.js';
import { loadConfig } from '../../config/index.js';
import { finalAnswer, posterior } from '../../scorer/index.js';
import type { CommandOutput, GlobalArgs } from '../index.js';

export interface BestResult {
  node: string | null;
  branch: string | null;
  rule: string;
  pass: number;
  fail: number;
  mean: number | null;
  quantile: number | null;
  interval: [number, number] | null;
}

/** The final answer: the node with the best ε-quantile of Beta(1+pass, 1+fail). */
export async function best(opts: { repoDir: string }): Promise<BestResult> {
  const config = await loadConfig(opts.repoDir);
  const archive = await Archive.open({ repoDir: opts.repoDir, prefix: config.branchPrefix });
  const snapshot = await archive.load();
  const answer = finalAnswer(snapshot, { epsilon: config.scorer.epsilon, evidence: config.test.evidence });
  if (!answer) return { node: null, branch: null, rule: `highest ${config.scorer.epsilon}-quantile of Beta(1+pass, 1+fail)`, pass: 0, fail: 0, mean: null, quantile: null, interval: null };
  const p = posterior(answer.ns, answer.nf);
  return {
    node: answer.node,
    branch: snapshot.nodes.find((n) => n.id === answer.node)?.branch ?? null,
    rule: answer.rule,
    pass: answer.ns,
    fail: answer.nf,
    mean: p.mean,
    quantile: answer.quantile,
    interval: [p.lo, p.hi],
  };
}

export async function bestCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const r = await best({ repoDir: a.C });
  const text = r.node
    ? [
        `${r.branch ?? r.node.slice(0, 12)}  ${r.node}`,
        `  evidence: ${r.pass} pass, ${r.fail} fail; mean ${(r.mean! * 100).toFixed(1)}%, 95% interval ${(r.interval![0] * 100).toFixed(1)}–${(r.interval![1] * 100).toFixed(1)}%`,
        `  chosen by: ${r.rule} = ${(r.quantile! * 100).toFixed(1)}%`,
      ].join('\n')
    : 'No node has evidence yet: run `evogit run` or `evogit eval`.';
  return { data: r, text };
}

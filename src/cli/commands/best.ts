import { Archive, type Ignored } from '../../archive/index.js';
import { loadConfig } from '../../config/index.js';
import { verifyNode, type Verification } from '../../loop/verify.js';
import { renderIgnored } from '../../report/index.js';
import { finalAnswer, posterior } from '../../scorer/index.js';
import type { CommandOutput, GlobalArgs } from '../context.js';

export interface BestResult {
  node: string | null;
  branch: string | null;
  rule: string;
  pass: number;
  fail: number;
  mean: number | null;
  quantile: number | null;
  interval: [number, number] | null;
  /** The re-runs made here before naming a node on other writers' evidence (trust.verify), newest last. */
  verifications: Verification[];
  /** What the archive read and did not count. */
  ignored: Ignored[];
}

/** How many candidates best re-runs before it gives up naming one (each dispute removes one). */
const MAX_VERIFY_ROUNDS = 5;

/**
 * The final answer: the node with the best ε-quantile of Beta(1+pass, 1+fail). With
 * trust.verify (the default) a node whose passes come from other writers is re-run here first;
 * a contradicted one loses those passes and the answer is chosen again.
 */
export async function best(opts: { repoDir: string; verify?: boolean }): Promise<BestResult> {
  const config = await loadConfig(opts.repoDir);
  const archive = await Archive.open({ repoDir: opts.repoDir, prefix: config.branchPrefix, trust: config.trust });
  const verify = opts.verify ?? config.trust.verify;
  const verifications: Verification[] = [];
  let snapshot = await archive.load();
  let answer = finalAnswer(snapshot, { epsilon: config.scorer.epsilon, evidence: config.test.evidence });
  for (let round = 0; verify && answer && answer.node !== snapshot.root && round < MAX_VERIFY_ROUNDS; round++) {
    const v = await verifyNode({ archive, config, node: answer.node });
    if (v.reran.length === 0) break;
    verifications.push(v);
    if (v.disputed.length === 0) break;
    snapshot = await archive.load();
    answer = finalAnswer(snapshot, { epsilon: config.scorer.epsilon, evidence: config.test.evidence });
  }
  const ignored = snapshot.ignored ?? [];
  if (!answer) return { node: null, branch: null, rule: `highest ${config.scorer.epsilon}-quantile of Beta(1+pass, 1+fail)`, pass: 0, fail: 0, mean: null, quantile: null, interval: null, verifications, ignored };
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
    verifications,
    ignored,
  };
}

function verificationLines(vs: Verification[]): string[] {
  return vs.map((v) => {
    const runs = v.reran.map((r) => `${r.task} ${r.outcome}`).join(', ');
    const disputed = v.disputed.length ? `; disputed: ${v.disputed.map((d) => `${d.writer} on ${d.task}`).join(', ')}` : '';
    return `  verified here before naming it: ${v.node.slice(0, 12)} re-run (${runs})${disputed}${v.verified ? ' — confirmed' : ''}`;
  });
}

export async function bestCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const r = await best({ repoDir: a.C, ...(a.verify === false ? { verify: false } : {}) });
  const text = r.node
    ? [
        `${r.branch ?? r.node.slice(0, 12)}  ${r.node}`,
        `  evidence: ${r.pass} pass, ${r.fail} fail; mean ${(r.mean! * 100).toFixed(1)}%, 95% interval ${(r.interval![0] * 100).toFixed(1)}–${(r.interval![1] * 100).toFixed(1)}%`,
        `  chosen by: ${r.rule} = ${(r.quantile! * 100).toFixed(1)}%`,
        ...verificationLines(r.verifications),
        ...renderIgnored(r.ignored),
      ].join('\n')
    : ['No node has evidence yet: run `evogit run` or `evogit eval`.', ...renderIgnored(r.ignored)].join('\n');
  return { data: r, text };
}

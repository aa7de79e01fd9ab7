/** Small commands around the sandbox and the forge: gc, sandbox build, pr. */
import { Archive } from '../../archive/index.js';
import { loadConfig } from '../../config/index.js';
import { openPr, planPr } from '../../forge/index.js';
import { buildSandboxImages, gc } from '../../sandbox/index.js';
import { betaQuantile } from '../../scorer/index.js';
import type { CommandOutput, GlobalArgs } from '../index.js';

export async function gcCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const config = await loadConfig(a.C);
  const removed = await gc(config);
  return { data: { removed }, text: removed.length ? `Removed ${removed.length} left-over container(s): ${removed.join(', ')}` : 'No left-over containers.' };
}

export async function sandboxBuildCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const results = await buildSandboxImages({ offline: Boolean(a.offline), force: Boolean(a.force) });
  const text = results.map((r) => r.stdout.trim()).filter(Boolean).join('\n') || 'Sandbox images are ready.';
  return { data: { images: ['evogit/node:20', 'evogit/python:3'], steps: results.length }, text };
}

export async function prCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const config = await loadConfig(a.C);
  const archive = await Archive.open({ repoDir: a.C, prefix: config.branchPrefix });
  const node = await archive.resolve(String(a.node));
  const opts = {
    repoDir: archive.repoDir,
    snapshot: await archive.load(),
    node: node.id,
    forge: config.forge,
    protectedPaths: config.test.protected,
    epsilon: config.scorer.epsilon,
    quantile: (alpha: number, beta: number, p: number) => betaQuantile(p, alpha, beta),
    logs: (id: string) => archive.evaluationLogs(id),
  };
  if (a.dryRun) {
    const plan = await planPr(opts);
    const text = [
      plan.action === 'skipped' ? `No PR: ${plan.reasons.join('; ')}` : `Would push ${plan.push?.refspec} to ${plan.push?.remote} and make these requests:`,
      ...plan.requests.map((r) => `  ${r.method} ${r.path}`),
      '',
      `title: ${plan.title}`,
      '',
      plan.body,
    ].join('\n');
    return { data: plan, text };
  }
  const result = await openPr(opts);
  const text =
    result.action === 'skipped'
      ? `No PR for ${node.id.slice(0, 12)}: ${result.reasons.join('; ')}`
      : `${result.action} PR #${result.number} ${result.url ?? ''}`.trim();
  return { data: result, text };
}

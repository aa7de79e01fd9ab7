/** Small commands around the sandbox and the forge: gc, sandbox build, pr. */
import path from 'node:path';
import { Archive, remoteHook } from '../../archive/index.js';
import { loadConfig } from '../../config/index.js';
import { openPr, planPr } from '../../forge/index.js';
import { verifyNode } from '../../loop/verify.js';
import { keepsPasses, logDirOf, prepareWork } from '../../loop/work.js';
import { TOOLCHAINS, buildSandboxImages, createSandbox, gc, type ToolchainLanguage } from '../../sandbox/index.js';
import { UsageError } from '../../errors/index.js';
import { betaQuantile } from '../../scorer/index.js';
import type { CommandOutput, GlobalArgs } from '../context.js';

export async function gcCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const config = await loadConfig(a.C);
  const r = await gc(config);
  const mb = (n: number) => `${Math.round(n / 1e6)} MB`;
  const text = [
    r.removed.length ? `Removed ${r.removed.length} left-over container(s): ${r.removed.join(', ')}` : 'No left-over containers.',
    r.images.length ? `Removed ${r.images.length} environment image(s), least recently used first (${mb(r.freedBytes)}; ${mb(r.keptBytes)} kept, sandbox.envCache ${config.sandbox.envCache}): ${r.images.join(', ')}` : `Environment images: ${mb(r.keptBytes)}, within sandbox.envCache ${config.sandbox.envCache}.`,
  ].join('\n');
  return { data: r, text };
}

export async function remoteHookCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const prefix = typeof a.prefix === 'string' ? a.prefix : (await loadConfig(a.C).catch(() => null))?.branchPrefix ?? 'evo';
  const hook = remoteHook(prefix);
  return { data: { prefix, hook }, text: hook.trimEnd() };
}

export async function sandboxBuildCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const asked = ((a.lang as string[] | undefined) ?? []).flatMap((l) => String(l).split(',')).filter(Boolean);
  const known = Object.keys(TOOLCHAINS) as ToolchainLanguage[];
  const languages = asked.includes('all') ? known : (asked as ToolchainLanguage[]);
  const unknown = languages.filter((l) => !known.includes(l));
  if (unknown.length) throw new UsageError(`--lang takes ${known.join(', ')} or all, not ${unknown.join(', ')}`);
  const results = await buildSandboxImages({ offline: Boolean(a.offline), force: Boolean(a.force), languages });
  const text = results.map((r) => r.stdout.trim()).filter(Boolean).join('\n') || 'Sandbox images are ready.';
  return { data: { images: ['evogit/node:20', 'evogit/python:3', ...languages.map((l) => TOOLCHAINS[l].tag)], steps: results.length }, text };
}

export async function prCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const config = await loadConfig(a.C);
  const archive = await Archive.open({ repoDir: a.C, prefix: config.branchPrefix, trust: config.trust });
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
      plan.action === 'skipped'
        ? `No PR: ${plan.reasons.join('; ')}`
        : `Would push ${plan.push?.minimize ? `the smallest part of ${plan.push.refspec.split(':')[0]} that still passes its tasks (forge.minimize; re-run in the sandbox) as ${plan.push.refspec.split(':')[1]}` : plan.push?.refspec} to ${plan.push?.remote} and make these requests:`,
      ...plan.requests.map((r) => `  ${r.method} ${r.path}`),
      '',
      `title: ${plan.title}`,
      '',
      plan.body,
    ].join('\n');
    return { data: plan, text };
  }
  // Never a PR on other writers' word alone: their passes are re-run here first (trust.verify).
  if (config.trust.verify) {
    const v = await verifyNode({ archive, config, node: node.id });
    if (!v.verified) {
      const why = `re-run here: ${v.reran.filter((r) => r.outcome !== 'pass').map((r) => `${r.task} ${r.outcome}`).join(', ')}${v.disputed.length ? `; disputes ${v.disputed.map((d) => `${d.writer} on ${d.task}`).join(', ')}` : ''}`;
      return { data: { action: 'skipped', reasons: [why], verification: v }, text: `No PR for ${node.id.slice(0, 12)}: ${why}` };
    }
  }
  // forge.minimize: the node's passed tasks are re-run on smaller changes, in the configured sandbox.
  const work = config.forge.minimize ? await prepareWork({ repoDir: archive.repoDir, root: opts.snapshot.root, config, sandbox: createSandbox(config), agentKind: config.agents.kind }) : null;
  const stateDir = path.join(archive.gitCommonDir, 'evogit');
  try {
    const result = await openPr({ ...opts, ...(work ? { validate: keepsPasses(work, opts.snapshot, node.id, { writer: 'pr', logDirOf: (c) => logDirOf(stateDir, c) }) } : {}) });
    const text =
      result.action === 'skipped'
        ? `No PR for ${node.id.slice(0, 12)}: ${result.reasons.join('; ')}`
        : [`${result.action} PR #${result.number} ${result.url ?? ''}`.trim(), ...(result.minimized ? [`minimized: kept ${result.minimized.kept} of ${result.minimized.total} hunks, as ${result.minimized.commit.slice(0, 12)} (${result.minimized.validations} sandbox runs)`] : [])].join('\n');
    return { data: result, text };
  } finally {
    await work?.close();
  }
}

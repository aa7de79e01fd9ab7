import path from 'node:path';
import { Archive } from '../../archive/index.js';
import { loadConfig } from '../../config/index.js';
import { EvogitError, UsageError } from '../../errors/index.js';
import { diffStat } from '../../git/index.js';
import type { LoopEvent } from '../../loop/index.js';
import { spawnLines } from '../../proc/index.js';
import { Dashboard, renderEvent } from '../../report/events.js';
import { LiveReport } from '../../report/index.js';
import { finalAnswer } from '../../scorer/index.js';
import { packageRoot, type CommandOutput, type GlobalArgs, type Io } from '../context.js';
import { defaultWriter, type RunFlags } from './agent.js';

export interface RunResult {
  agents: { writer: string; exitCode: number | null; reason: string }[];
  best: { node: string; branch: string | null; passRate: number; quantile: number; pass: number; fail: number } | null;
  diff: { files: number; added: number; deleted: number } | null;
  review: string[];
}

/** Flags passed through to each `evogit agent` child. */
function childArgs(a: RunFlags & { sandbox?: string }): string[] {
  const out: string[] = [];
  if (a.agent) out.push('--agent', a.agent);
  if (a.maxEvals !== undefined) out.push('--max-evals', String(a.maxEvals));
  if (a.maxExpansions !== undefined) out.push('--max-expansions', String(a.maxExpansions));
  if (a.maxTime !== undefined) out.push('--max-time', a.maxTime);
  if (a.maxCost !== undefined) out.push('--max-cost', String(a.maxCost));
  if (a.remote) out.push('--remote', a.remote);
  if (a.sandbox) out.push('--sandbox', a.sandbox);
  return out;
}

export async function runCommand(a: GlobalArgs & Record<string, unknown> & RunFlags & { agents?: number; sandbox?: string; report?: string }, io: Io): Promise<CommandOutput> {
  const n = a.agents ?? 2;
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--agents must be a whole number from 1 to 64 (got ${a.agents})`);
  const config = await loadConfig(a.C);
  const archive = await Archive.open({ repoDir: a.C, prefix: config.branchPrefix, trust: config.trust });
  if (!(await archive.root())) throw new EvogitError('E_NOT_INITIALISED', 'this repository has no evogit root', 'Run `evogit init` first.');

  const report = a.report ? await LiveReport.start({ repoDir: a.C, file: path.resolve(a.C, a.report), onError: (m) => io.stderr(`${m}\n`) }) : null;
  const bin = path.join(packageRoot(), 'bin', 'evogit.js');
  const dashboard = new Dashboard();
  const live = io.isTTY && !a.json;
  let drawn = 0;
  const redraw = () => {
    if (!live) return;
    const text = dashboard.render();
    io.stderr(`${drawn ? `\x1b[${drawn}F\x1b[J` : ''}${text}\n`);
    drawn = text.split('\n').length;
  };
  const timer = live ? setInterval(redraw, 500) : null;
  const reasons = new Map<string, string>();
  const onEvent = (e: LoopEvent) => {
    dashboard.apply(e);
    report?.poke();
    if (e.type === 'done') reasons.set(e.writer, e.reason);
    if (a.json) io.stdout(`${JSON.stringify(e)}\n`);
    else if (!live) {
      const line = renderEvent(e);
      if (line) io.stderr(`${line}\n`);
    }
  };

  const children = Array.from({ length: n }, (_, i) => {
    const writer = defaultWriter(i + 1, a.remote);
    const seed = a.seed !== undefined ? ['--seed', String(a.seed + i)] : [];
    const child = spawnLines(process.execPath, [bin, 'agent', '-C', a.C, '--json', '--writer', writer, ...seed, ...childArgs(a)], {
      cwd: a.C,
      // The agents are evogit itself: they need the LLM key; containers never see it.
      cleanEnv: true,
      env: { ...process.env, CI: process.env.CI ?? '' },
      onLine: (line) => {
        try {
          const e = JSON.parse(line) as LoopEvent | { type: 'result' };
          if (e.type !== 'result') onEvent(e as LoopEvent);
        } catch {
          io.stderr(`${writer}: ${line}\n`); // not an event: pass it through verbatim
        }
      },
      onStderr: (line) => io.stderr(`${writer}: ${line}\n`),
    });
    return { writer, child };
  });

  let interrupted = 0;
  const onSignal = () => {
    interrupted++;
    // First Ctrl-C: agents finish or abandon their current work and clean up. Second: kill.
    for (const c of children) c.child.kill(interrupted > 1 ? 'SIGKILL' : 'SIGTERM');
    io.stderr(interrupted > 1 ? 'killing agents\n' : 'stopping agents (Ctrl-C again to kill)…\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let results;
  try {
    results = await Promise.all(children.map(async (c) => ({ writer: c.writer, result: await c.child.done })));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (timer) clearInterval(timer);
    redraw();
    await report?.close();
  }

  const snapshot = await archive.load();
  const answer = finalAnswer(snapshot, { epsilon: config.scorer.epsilon, evidence: config.test.evidence });
  const bestNode = answer ? snapshot.nodes.find((x) => x.id === answer.node) ?? null : null;
  const diff = bestNode ? await diffStat(archive.repoDir, snapshot.root, bestNode.id) : null;
  const name = bestNode?.branch ?? bestNode?.id.slice(0, 12) ?? '';
  const review = bestNode
    ? [
        `git log --graph --oneline ${config.branchPrefix}/root..${name}`,
        `git diff ${config.branchPrefix}/root ${name}`,
        `git log --notes='evogit/*' -1 ${name}`,
        `evogit show ${name}`,
        `evogit promote ${name}`,
        `evogit prune <node> --clade   # or: git branch -D <branch>`,
      ]
    : [];
  const result: RunResult = {
    agents: results.map((r) => ({ writer: r.writer, exitCode: r.result.exitCode, reason: reasons.get(r.writer) ?? `exited with ${r.result.exitCode ?? r.result.signal}` })),
    best: answer && bestNode ? { node: bestNode.id, branch: bestNode.branch, passRate: answer.ns / Math.max(1, answer.ns + answer.nf), quantile: answer.quantile, pass: answer.ns, fail: answer.nf } : null,
    diff: diff ? { files: diff.files.length, added: diff.added, deleted: diff.deleted } : null,
    review,
  };
  const failed = result.agents.filter((x) => x.exitCode !== 0);
  const lines = [
    '',
    ...result.agents.map((x) => `${x.writer}: ${x.reason}`),
    '',
    result.best
      ? `Best node: ${name} (${result.best.pass} pass, ${result.best.fail} fail; pass rate ${(result.best.passRate * 100).toFixed(0)}%, ${Math.round((1 - config.scorer.epsilon) * 100)}% sure it is at least ${(result.best.quantile * 100).toFixed(0)}%)`
      : 'No node has evidence yet.',
    ...(diff ? [`  against the root: ${diff.files.length} files changed, +${diff.added} -${diff.deleted}`, ...diff.files.map((f) => `    ${f.path} +${f.added} -${f.deleted}`)] : []),
    ...(review.length ? ['', 'Review it with git:', ...review.map((r) => `  ${r}`)] : []),
  ];
  return { data: result, text: lines.join('\n'), exitCode: failed.length && !interrupted ? 1 : 0, ...(a.json ? { jsonLines: true } : {}) };
}

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Archive, ownCounts, type ArchiveNode, type Evaluation } from '../../archive/index.js';
import { loadConfig } from '../../config/index.js';
import { EvogitError } from '../../errors/index.js';
import { diffStat, type DiffStat } from '../../git/index.js';
import { pct } from '../../report/index.js';
import { summarise, type StatusNode } from '../../report/index.js';
import { branchName, maker } from '../../report/node.js';
import type { CommandOutput, GlobalArgs } from '../context.js';

export interface ShowResult {
  node: StatusNode & { model?: string; cost?: number; time: number };
  lineage: { id: string; branch: string | null; pruned: boolean; operator: string; agent: string; subject: string }[];
  evaluations: Evaluation[];
  diff: { parent: DiffStat | null; root: DiffStat };
  log?: { task: string; text: string; file: string | null };
}

export function logDir(gitCommonDir: string, node: string): string {
  return path.join(gitCommonDir, 'evogit', 'logs', node);
}

export async function show(opts: { repoDir: string; node: string; log?: string }): Promise<ShowResult> {
  const config = await loadConfig(opts.repoDir);
  const archive = await Archive.open({ repoDir: opts.repoDir, prefix: config.branchPrefix, trust: config.trust });
  const snapshot = await archive.load();
  const target = await archive.resolve(opts.node);
  const byId = new Map(snapshot.nodes.map((n) => [n.id, n]));
  const summary = summarise(snapshot, config.test.evidence).find((n) => n.id === target.id)!;

  const lineage: ShowResult['lineage'] = [];
  for (let n: ArchiveNode | undefined = target; n; n = n.id === snapshot.root ? undefined : byId.get(n.parents[0] ?? '')) {
    lineage.push({ id: n.id, branch: n.branch, pruned: n.pruned, operator: n.operator, agent: n.agent, subject: n.subject });
  }
  // As written in the notes, log tails included (the snapshot leaves them out).
  const evaluations = await archive.evaluationLogs(target.id);
  const parent = target.parents[0];
  const result: ShowResult = {
    node: { ...summary, model: target.model, cost: target.cost, time: target.time },
    lineage,
    evaluations,
    diff: {
      parent: parent && target.id !== snapshot.root ? await diffStat(archive.repoDir, parent, target.id) : null,
      root: await diffStat(archive.repoDir, snapshot.root, target.id),
    },
  };
  if (opts.log !== undefined) result.log = await readLog(archive.gitCommonDir, target.id, opts.log, evaluations);
  return result;
}

async function readLog(gitCommonDir: string, node: string, task: string, evaluations: Evaluation[]): Promise<NonNullable<ShowResult['log']>> {
  const dir = logDir(gitCommonDir, node);
  const safe = task.replace(/[^A-Za-z0-9._-]+/g, '_');
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.startsWith(`${safe}.`) || f === `${safe}.log`).sort();
  const latest = files.at(-1);
  if (latest) return { task, text: await readFile(path.join(dir, latest), 'utf8'), file: path.join(dir, latest) };
  const line = [...evaluations].reverse().find((e) => e.task === task);
  if (!line) {
    throw new EvogitError('E_UNKNOWN_TASK', `node ${node.slice(0, 12)} has no run of task "${task}"`, 'See the task ids under "evaluations" in `evogit show NODE`.');
  }
  // The full log lives only on the machine that ran it; the note keeps the tail everywhere.
  return { task, text: line.log ?? '', file: null };
}

function renderDiff(d: DiffStat): string[] {
  return [
    ...d.files.map((f) => `    ${String(f.added).padStart(5)} + ${String(f.deleted).padStart(5)} -  ${f.path}`),
    `    ${d.files.length} file${d.files.length === 1 ? '' : 's'} changed, ${d.added} insertions(+), ${d.deleted} deletions(-)`,
  ];
}

export function renderShow(r: ShowResult): string {
  const n = r.node;
  const own = ownCounts(r.evaluations);
  const out = [
    `node ${n.id}  ${n.branch ? `(${n.branch})` : branchName(n)}${n.promoted ? '  ★ promoted' : ''}`,
    `  ${n.subject}`,
    `  made by ${maker(n)} with ${n.operator}${n.model ? ` (${n.model})` : ''}${n.cost ? `, $${n.cost.toFixed(4)}` : ''}, ${new Date(n.time * 1000).toISOString()}`,
    `  own evidence:   ${own.pass} pass, ${own.fail} fail, ${own.error} error`,
    `  clade evidence: ${n.clade.pass} pass, ${n.clade.fail} fail, CMP ${pct(n.cmp).trim()} [${pct(n.interval[0]).trim()}–${pct(n.interval[1]).trim()}]`,
    '',
    'lineage (newest first):',
    ...r.lineage.map((l) => `  ${l.id.slice(0, 10)}  ${branchName(l).padEnd(16)} ${l.operator.padEnd(9)} ${l.subject}`),
    '',
    `evaluations (${r.evaluations.length}):`,
    ...r.evaluations.map((e) => {
      const tests = e.tests ? `  tests ${e.tests.passed}/${e.tests.total}` : '';
      return `  ${e.outcome.padEnd(5)} ${e.task}${tests}  ${(e.durationMs / 1000).toFixed(1)}s  ${e.harness} by ${e.writer}${e.tampered ? '  TAMPERED' : ''}${e.reason ? `  (${e.reason})` : ''}`;
    }),
  ];
  if (r.diff.parent) out.push('', 'diff against its parent:', ...renderDiff(r.diff.parent));
  out.push('', 'diff against the root:', ...renderDiff(r.diff.root));
  if (r.log) out.push('', `log of ${r.log.task}${r.log.file ? ` (${r.log.file})` : ' (tail kept in the note)'}:`, r.log.text);
  return out.join('\n');
}

export async function showCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const result = await show({ repoDir: a.C, node: String(a.node), log: a.log as string | undefined });
  return { data: result, text: renderShow(result) };
}

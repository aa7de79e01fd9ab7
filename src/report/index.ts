/**
 * Text renderers for command results. Plain text, no colours: output is meant to be read in a
 * terminal, pasted into an issue, or diffed. Machines use --json instead.
 */
import type { Ignored } from '../archive/index.js';
import { branchName, maker } from './node.js';
import type { StatusNode, StatusResult } from './status.js';

export { status, summarise, type StatusNode, type StatusResult } from './status.js';

export const pct = (x: number | null): string => (x === null ? '  –' : `${Math.round(x * 100)}%`.padStart(4));

function nodeLine(n: StatusNode): string {
  const name = n.branch ?? `${branchName(n)} ${n.id.slice(0, 12)}`;
  const marks = [n.promoted ? '★ promoted' : '', n.pruned && n.branch === null ? '' : n.pruned ? 'pruned' : '', n.untrusted ? 'untrusted' : ''].filter(Boolean).join(' ');
  const own = `runs ${n.own.pass}✓ ${n.own.fail}✗${n.own.error ? ` ${n.own.error}!` : ''}  evidence ${n.evidence.pass}✓ ${n.evidence.fail}✗`;
  const clade = `clade ${n.clade.pass}✓ ${n.clade.fail}✗ ${pct(n.cmp)} [${pct(n.interval[0]).trim()}–${pct(n.interval[1]).trim()}]`;
  const who = n.operator === 'root' ? 'root' : `${n.operator} by ${maker(n)}`;
  return `${name}  ${n.id.slice(0, 10)}  ${who}  ${own}  ${clade}${marks ? `  ${marks}` : ''}`;
}

/** The archive as a tree along first parents; a crossover also names its second parent. */
export function renderStatus(result: StatusResult): string {
  const byId = new Map(result.nodes.map((n) => [n.id, n]));
  const children = new Map<string, StatusNode[]>();
  const tops: StatusNode[] = [];
  for (const n of result.nodes) {
    const parent = n.parents.find((p) => byId.has(p));
    if (parent === undefined || n.id === result.root) tops.push(n);
    else children.set(parent, [...(children.get(parent) ?? []), n]);
  }
  const lines: string[] = [];
  const walk = (n: StatusNode, prefix: string, last: boolean, top: boolean) => {
    const mate = n.parents.length > 1 ? `  × ${n.parents.slice(1).map((p) => byId.get(p)?.branch ?? p.slice(0, 10)).join(', ')}` : '';
    lines.push(`${top ? '' : `${prefix}${last ? '└─ ' : '├─ '}`}${nodeLine(n)}${mate}`);
    const kids = children.get(n.id) ?? [];
    const next = top ? '' : `${prefix}${last ? '   ' : '│  '}`;
    kids.forEach((k, i) => walk(k, next, i === kids.length - 1, false));
  };
  for (const t of tops) walk(t, '', true, true);
  const pruned = result.nodes.filter((n) => n.pruned).length;
  lines.push('');
  lines.push(`${result.nodes.length} nodes (${pruned} pruned), ${result.evaluations} evaluations`);
  lines.push('runs: task runs passed/failed (! = infrastructure errors, retried); evidence and clade: in the scorer\'s units; clade % is the CMP estimate [95% interval]');
  for (const c of result.claims) lines.push(`  working: ${c.writer} ${c.kind}s ${c.node.slice(0, 10)}${c.task ? ` on ${c.task}` : ''}`);
  lines.push(...renderIgnored(result.ignored));
  return lines.join('\n');
}

export { LiveReport, openReportSource, writeReport, type ReportResult } from './html/report.js';
export type { ReportData, ReportNode, ReportEvaluation, ReportTimeline } from './html/data.js';

/** What the archive read and did not count, one line each (status, best). */
export function renderIgnored(ignored: Ignored[]): string[] {
  if (ignored.length === 0) return [];
  const out = [`ignored (${ignored.length}):`];
  for (const i of ignored) {
    const where = [i.writer ? `writer ${i.writer}` : '', i.node ? `node ${i.node.slice(0, 12)}` : '', i.ref ? `ref ${i.ref}` : ''].filter(Boolean).join(', ');
    out.push(`  ${where}: ${i.reason}${i.count > 1 ? ` (${i.count})` : ''}`);
  }
  return out;
}

/** The pull request's title and body, rendered from the evidence. Pure. */
import type { PrEvidence, ScoreSummary } from './evidence.js';

export interface PrMarker {
  node: string;
  clade: string;
}

export function renderMarker(m: PrMarker): string {
  return `<!-- evogit:node=${m.node} clade=${m.clade} -->`;
}

/** The hidden marker that makes opening idempotent; null when the body has none. */
export function parseMarker(body: string | null | undefined): PrMarker | null {
  const m = /<!-- evogit:node=([0-9a-f]{40,64}) clade=([0-9a-f]{40,64}) -->/.exec(body ?? '');
  return m ? { node: m[1]!, clade: m[2]! } : null;
}

export function renderPrTitle(e: PrEvidence): string {
  const s = e.node.subject.trim().replace(/\s+/g, ' ');
  if (!s) return `evogit: node ${e.node.id.slice(0, 12)}`;
  return s.length > 100 ? `${s.slice(0, 99)}…` : s;
}

const short = (sha: string) => sha.slice(0, 12);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
/** Text inside a table cell: no pipes, no newlines. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

/** A fenced block whose fence is longer than any backtick run inside, so a log cannot close it. */
function fenced(text: string, lang = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${text}\n${fence}`;
}

function scoreRow(label: string, s: ScoreSummary): string {
  return `| ${label} | ${s.pass} | ${s.fail} | ${s.evaluations} | ${pct(s.mean)} | ${pct(s.low)} – ${pct(s.high)} | ${pct(s.lower)} |`;
}

export function renderPrBody(e: PrEvidence): string {
  const out: string[] = [];
  const n = e.lineage.length;

  out.push('## Summary', '');
  out.push(
    `evogit grew this change in ${n} commit${n === 1 ? '' : 's'} from the base \`${short(e.base.id)}\`; every commit was validated in a sandbox against tests the agents could not edit.`,
    '',
  );
  for (const step of e.lineage) out.push(`- ${step.subject.trim() || '(no subject)'}`);
  const own = e.lineage.at(-1)?.message.split('\n').slice(1).join('\n').trim();
  if (own) out.push('', own);

  out.push('', '## Score against the base', '');
  out.push(`Pass rates are Beta(1 + passes, 1 + fails) posteriors over graded task runs (infrastructure errors are not counted).`, '');
  out.push(`| | passes | fails | graded runs | mean | 95% interval | ${e.epsilon}-quantile |`);
  out.push('|---|---:|---:|---:|---:|---|---:|');
  out.push(scoreRow(`base \`${short(e.base.id)}\``, e.scores.base));
  out.push(scoreRow(`this PR \`${short(e.node.id)}\``, e.scores.node));

  out.push('', '## Lineage', '');
  out.push('| commit | agent | operator | model | subject |');
  out.push('|---|---|---|---|---|');
  for (const s of e.lineage) {
    out.push(`| \`${short(s.id)}\` | ${cell(s.agent || '—')} | ${s.operator} | ${cell(s.model ?? '—')} | ${cell(s.subject)} |`);
  }

  out.push('', '## Diff stat', '');
  const added = e.diffStat.reduce((a, d) => a + (d.added ?? 0), 0);
  const deleted = e.diffStat.reduce((a, d) => a + (d.deleted ?? 0), 0);
  out.push(`${e.diffStat.length} file${e.diffStat.length === 1 ? '' : 's'} changed, ${added} insertions(+), ${deleted} deletions(-)`, '');
  if (e.diffStat.length > 0) {
    out.push('| file | + | − |', '|---|---:|---:|');
    for (const d of e.diffStat.slice(0, 50)) {
      out.push(`| \`${cell(d.path)}\` | ${d.added ?? 'bin'} | ${d.deleted ?? 'bin'} |`);
    }
    if (e.diffStat.length > 50) out.push(`| … ${e.diffStat.length - 50} more | | |`);
  }

  out.push('', '## Failing on the base, passing here', '');
  if (e.fixed.length === 0) out.push('No single task flipped from fail to pass; the gain is spread over repeated runs.');
  for (const f of e.fixed.slice(0, 10)) {
    out.push(`### \`${cell(f.task)}\``, '');
    if (f.tests.length > 0) out.push(`Tests fixed: ${f.tests.slice(0, 20).map((t) => `\`${cell(t)}\``).join(', ')}`, '');
    if (f.before) out.push('Base (fail):', '', fenced(f.before), '');
    if (f.after) out.push('This PR (pass):', '', fenced(f.after), '');
  }
  if (e.fixed.length > 10) out.push(`…and ${e.fixed.length - 10} more tasks.`);

  out.push('', '## Reproduce', '', fenced(e.reproduce, 'sh'), '');
  out.push(renderMarker({ node: e.node.id, clade: e.clade }));
  return out.join('\n');
}

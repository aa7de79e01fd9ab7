/**
 * bench/repair's tables: per class and overall, per label (an evogit build × strategy), side by
 * side. A repair is *correct* when its program agrees with the known fix on the extra inputs
 * of bench/repair/check.py (cached per label in <label>.check.json).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/proc/index.js';
import { BUG_CLASSES, type Program } from './corpus.js';
import type { LoadedResult as RunResult } from './results.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface Verdict {
  correct: boolean;
  agreed: number;
  inputs: number;
  detail: string;
}

/** Compare a repaired program with the known fix on the checker's extra inputs. */
export async function checkRepair(program: Program, source: string): Promise<Verdict> {
  const dir = await mkdtemp(path.join(tmpdir(), 'evogit-check-'));
  try {
    const candidate = path.join(dir, path.basename(program.buggy));
    await writeFile(candidate, source);
    const name = program.id.split('/')[1]!;
    const [command, args] =
      program.language === 'python' ? ['python3', [path.join(HERE, 'check.py'), 'python', name, candidate, program.fix]] : ['node', [path.join(HERE, 'check-js.mjs'), name, candidate, program.fix]];
    const r = await run(command, args, { cwd: dir, reject: false, timeoutMs: 300_000, env: { PYTHONDONTWRITEBYTECODE: '1' } });
    const last = r.stdout.trim().split('\n').at(-1) ?? '';
    try {
      return JSON.parse(last) as Verdict;
    } catch {
      return { correct: false, agreed: 0, inputs: 0, detail: `checker failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-2).join(' | ')}` };
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function verdicts(label: string, results: RunResult[], programs: Map<string, Program>, resultsDir: string): Promise<Map<string, Verdict>> {
  const file = path.join(resultsDir, `${label}.check.json`);
  // Keyed by the repair's SHA-256, so a verdict stays valid without the (uncommitted) source.
  const cached = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, Verdict & { sha?: string }>;
  const out = new Map<string, Verdict>();
  for (const r of results) {
    if (!r.repaired || r.repairSha === undefined) continue;
    const key = `${r.program}#${r.seed}`;
    const hit = cached[key];
    if (hit && hit.sha === r.repairSha) {
      out.set(key, hit);
      continue;
    }
    const program = programs.get(r.program);
    if (!program || r.repairSource === undefined) continue;
    const v = await checkRepair(program, r.repairSource);
    cached[key] = { ...v, sha: r.repairSha };
    out.set(key, v);
  }
  await writeFile(file, `${JSON.stringify(cached, null, 1)}\n`);
  return out;
}

const verdictNote = (v: Verdict | undefined): string => (v === undefined ? ' (unchecked)' : v.correct ? '' : ' (overfit)');

interface Cell {
  runs: number;
  repaired: number;
  correct: number;
  evals: number[];
  wallMs: number[];
  /** Evaluations of every run, a miss counted as the whole budget. */
  cost: number;
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

function cellOf(results: RunResult[], v: Map<string, Verdict>): Cell {
  const c: Cell = { runs: results.length, repaired: 0, correct: 0, evals: [], wallMs: [], cost: 0 };
  for (const r of results) {
    c.cost += r.repaired ? r.evaluations : r.budget;
    if (!r.repaired) continue;
    c.repaired++;
    c.evals.push(r.evaluations);
    c.wallMs.push(r.wallMs);
    if (v.get(`${r.program}#${r.seed}`)?.correct) c.correct++;
  }
  return c;
}

function fmtCell(c: Cell): string {
  if (c.runs === 0) return '–';
  const m = mean(c.evals);
  const w = median(c.wallMs);
  return `${c.repaired}/${c.runs} · ${c.correct} correct · ${m === null ? '–' : m.toFixed(1)} evals · ${w === null ? '–' : `${(w / 1000).toFixed(1)} s`}`;
}

export async function report(opts: { programs: Program[]; results: Map<string, RunResult[]>; machine: string; resultsDir: string }): Promise<string> {
  const byId = new Map(opts.programs.map((p) => [p.id, p]));
  const labels = [...opts.results.keys()];
  const checked = new Map<string, Map<string, Verdict>>();
  for (const [label, rs] of opts.results) checked.set(label, await verdicts(label, rs, byId, opts.resultsDir));
  const lines: string[] = [];
  lines.push(`Machine: ${opts.machine}.`, '');
  lines.push('Each cell: programs repaired (all tests pass) / runs · of those, correct on the extra inputs · mean evaluations to the first repair (repairs only) · median wall time to it.', '');
  lines.push(`| class | programs | ${labels.join(' | ')} |`);
  lines.push(`|---|---|${labels.map(() => '---').join('|')}|`);
  const classes = [...BUG_CLASSES].filter((c) => opts.programs.some((p) => p.bugClass === c));
  for (const cls of [...classes, 'all'] as const) {
    const ids = new Set(opts.programs.filter((p) => cls === 'all' || p.bugClass === cls).map((p) => p.id));
    const cells = labels.map((l) => fmtCell(cellOf(opts.results.get(l)!.filter((r) => ids.has(r.program)), checked.get(l)!)));
    lines.push(`| ${cls === 'all' ? '**all**' : cls} | ${ids.size} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  // Labels may have run different programs: the side-by-side is on the programs every label ran.
  const common = new Set(opts.programs.map((p) => p.id).filter((id) => labels.every((l) => opts.results.get(l)!.some((r) => r.program === id))));
  for (const [title, keep] of [
    [`On the ${common.size} programs every label ran`, (r: RunResult) => common.has(r.program)],
    ['On every program each label ran', () => true],
  ] as const) {
    lines.push(`${title}:`, '');
    lines.push(`| label | runs | repaired | correct | mean evals per repair | evals per run (miss = budget) | median wall per repair | root children (median) | deepest node (median) |`);
    lines.push('|---|---|---|---|---|---|---|---|---|');
    for (const l of labels) {
      const rs = opts.results.get(l)!.filter(keep);
      const c = cellOf(rs, checked.get(l)!);
      const m = mean(c.evals);
      const w = median(c.wallMs);
      lines.push(
        `| ${l} | ${c.runs} | ${c.repaired} (${c.runs ? Math.round((100 * c.repaired) / c.runs) : 0}%) | ${c.correct} | ${m === null ? '–' : m.toFixed(1)} | ${c.runs ? (c.cost / c.runs).toFixed(1) : '–'} | ${w === null ? '–' : `${(w / 1000).toFixed(1)} s`} | ${median(rs.map((r) => r.rootChildren)) ?? '–'} | ${median(rs.map((r) => r.maxDepth)) ?? '–'} |`,
      );
    }
    lines.push('');
  }
  lines.push('');
  lines.push(`| program | class | known fix | ${labels.join(' | ')} |`);
  lines.push(`|---|---|---|${labels.map(() => '---').join('|')}|`);
  for (const p of opts.programs) {
    const cells = labels.map((l) => {
      const rs = opts.results.get(l)!.filter((r) => r.program === p.id);
      if (rs.length === 0) return '–';
      return rs
        .map((r) => (r.repaired ? `${r.evaluations}${verdictNote(checked.get(l)!.get(`${r.program}#${r.seed}`))}` : '✗'))
        .join(', ');
    });
    lines.push(`| ${p.id} | ${p.bugClass} | \`${p.fixNote.replace(/\|/g, '\\|')}\` | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * bench/agents: how fast the mutate agent repairs the bundled example bugs, against a
 * uniform-random-edit baseline measured in the same run.
 *
 *   npx tsx bench/agents.ts [--seeds 10] [--budget 300] [--no-write]
 *
 * mutate: the real agent (targeted by the failing test log, small-edit bias, weighted
 * operators). uniform: one edit drawn uniformly from every concrete edit of the same operators
 * in the buggy module (it is even told which file holds the bug; mutate is not). Each run
 * searches children of the buggy parent with successive seeds until the bug's real tests pass.
 */
import { appendFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXAMPLE_BUGS, repairSearch, testRuns, type RepairResult } from '../test/agents/mutate-repair.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const seeds = option('seeds', 10);
const budget = option('budget', 300);
const write = !process.argv.includes('--no-write');

interface Summary {
  runs: number;
  repaired: number;
  /** Mean evaluations of the runs that found a repair. */
  meanEvaluations: number | null;
  /** Mean evaluations of all runs, a failed run counting the whole budget (a lower bound on the true cost). */
  meanCost: number;
}

function summarize(results: RepairResult[]): Summary {
  const ok = results.filter((r) => r.repaired);
  return {
    runs: results.length,
    repaired: ok.length,
    meanEvaluations: ok.length === 0 ? null : ok.reduce((s, r) => s + r.evaluations, 0) / ok.length,
    meanCost: results.reduce((s, r) => s + (r.repaired ? r.evaluations : budget), 0) / Math.max(1, results.length),
  };
}

const fmt = (s: Summary): string =>
  `${s.repaired}/${s.runs} (${Math.round((100 * s.repaired) / s.runs)}%), ${s.meanEvaluations === null ? '—' : s.meanEvaluations.toFixed(1)} evals, ≥${s.meanCost.toFixed(0)}`;
const ratioOf = (m: Summary, u: Summary): string =>
  `${m.meanEvaluations && u.meanEvaluations ? (u.meanEvaluations / m.meanEvaluations).toFixed(2) : '—'} (≥${(u.meanCost / m.meanCost).toFixed(2)})`;

const started = Date.now();
const rows: string[] = [];
const all: Record<'mutate' | 'uniform', RepairResult[]> = { mutate: [], uniform: [] };
for (const bug of EXAMPLE_BUGS) {
  const per: Record<'mutate' | 'uniform', RepairResult[]> = { mutate: [], uniform: [] };
  for (let run = 0; run < seeds; run++) {
    for (const strategy of ['mutate', 'uniform'] as const) {
      // Independent seed streams per run: 1, 100001, 200001, …
      const result = await repairSearch(bug, { strategy, budget, firstSeed: 1 + run * 100_000 });
      per[strategy].push(result);
      all[strategy].push(result);
    }
  }
  const m = summarize(per.mutate);
  const u = summarize(per.uniform);
  rows.push(`| ${bug.id} | ${fmt(m)} | ${fmt(u)} | ${ratioOf(m, u)} |`);
  process.stdout.write(`${rows.at(-1)}\n`);
}
const m = summarize(all.mutate);
const u = summarize(all.uniform);
rows.push(`| **all** | ${fmt(m)} | ${fmt(u)} | ${ratioOf(m, u)} |`);

const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch((error: unknown) => `model name: unknown (${String(error)})`);
const cpu = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
const machine = `${os.cpus().length} CPUs (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, node ${process.version}, ${os.platform()}`;
const report = [
  '',
  '## bench/agents',
  '',
  `\`npx tsx bench/agents.ts --seeds ${seeds} --budget ${budget}\` on ${new Date().toISOString().slice(0, 10)}; machine: ${machine};`,
  `${Math.round((Date.now() - started) / 1000)} s wall-clock, sharing the machine with other jobs;`,
  `${testRuns.real} real test runs, ${testRuns.reused} candidates identical to one already run reused its outcome`,
  '(deterministic tests; wall-clock saving only, every candidate counts as an evaluation).',
  '',
  `Each cell: runs that found a repair within ${budget} candidates; mean candidates evaluated per repair`,
  '(the real test command of the bug on each child); after ≥, mean candidates per run with a failed run',
  `counted as the whole budget (${budget}), a lower bound on the cost when some runs fail.`,
  'mutate = the agent (targeted by the failing log); uniform = one uniformly random concrete edit of the',
  'same operators in the buggy module (told which file holds the bug), no targeting, no small-edit bias.',
  'Ratio = uniform mean / mutate mean over repairs, and in brackets the same for the budget-counted means',
  '(higher: mutate needs fewer evaluations).',
  '',
  '| bug | mutate | uniform | ratio |',
  '|---|---|---|---|',
  ...rows,
  '',
].join('\n');
process.stdout.write(`${report}\n`);
if (write) {
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../BENCHMARKS.md');
  await appendFile(file, report);
}

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
import { EXAMPLE_BUGS, repairSearch, type RepairResult } from '../test/agents/mutate-repair.js';

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
  meanEvaluations: number | null;
}

function summarize(results: RepairResult[]): Summary {
  const ok = results.filter((r) => r.repaired);
  return {
    runs: results.length,
    repaired: ok.length,
    meanEvaluations: ok.length === 0 ? null : ok.reduce((s, r) => s + r.evaluations, 0) / ok.length,
  };
}

const fmt = (s: Summary): string =>
  `${s.repaired}/${s.runs} (${Math.round((100 * s.repaired) / s.runs)}%), ${s.meanEvaluations === null ? '—' : s.meanEvaluations.toFixed(1)} evals`;

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
  const ratio = m.meanEvaluations && u.meanEvaluations ? (u.meanEvaluations / m.meanEvaluations).toFixed(2) : '—';
  rows.push(`| ${bug.id} | ${fmt(m)} | ${fmt(u)} | ${ratio} |`);
  process.stdout.write(`${rows.at(-1)}\n`);
}
const m = summarize(all.mutate);
const u = summarize(all.uniform);
const ratio = m.meanEvaluations && u.meanEvaluations ? (u.meanEvaluations / m.meanEvaluations).toFixed(2) : '—';
rows.push(`| **all** | ${fmt(m)} | ${fmt(u)} | ${ratio} |`);

const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch((error: unknown) => `model name: unknown (${String(error)})`);
const cpu = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
const machine = `${os.cpus().length} CPUs (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, node ${process.version}, ${os.platform()}`;
const report = [
  '',
  '## bench/agents',
  '',
  `\`npx tsx bench/agents.ts --seeds ${seeds} --budget ${budget}\` on ${new Date().toISOString().slice(0, 10)}; machine: ${machine};`,
  `${Math.round((Date.now() - started) / 1000)} s wall-clock, sharing the machine with other jobs.`,
  '',
  `Each cell: runs that found a repair within ${budget} candidates, and mean candidates evaluated per repair`,
  '(the real test command of the bug on each child). mutate = the agent (targeted by the failing log);',
  'uniform = one uniformly random concrete edit of the same operators in the buggy module, no targeting,',
  'no small-edit bias. Ratio = uniform mean / mutate mean (higher: mutate needs fewer evaluations).',
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

/**
 * bench/repair: how many real one-bug programs evogit repairs, through the real CLI.
 *
 *   npx tsx bench/repair.ts validate                     # buggy fails, known fix passes; per-program timeouts
 *   npx tsx bench/repair.ts run --label current [--evogit DIR] [--strategy mutate|uniform]
 *        [--seeds 1] [--budget 200] [--jobs 2] [--only gcd,knapsack] [--sandbox local|docker]
 *   npx tsx bench/repair.ts report --labels base,uniform,current [--write]
 *
 * Corpus: `--quixbugs PATH` (a QuixBugs checkout; default the committed copy under
 * bench/repair/corpus/quixbugs) and `--js PATH` (default bench/repair/corpus/js).
 * Each (program, seed) is one `evogit init` + `evogit run --agents 1` on a fresh temp repo of
 * the program, stopped at its first plausible repair (every task passes). Results are appended
 * to bench/repair/results/<label>.jsonl; a run already there is skipped, so an interrupted
 * bench resumes. `report` checks every repair against the known fix on extra inputs
 * (bench/repair/check.py) and prints the per-class tables.
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCorpus, type Program } from './repair/corpus.js';
import { repairRun, runTestsOnce, type RunResult, type Strategy } from './repair/run.js';
import { report } from './repair/report.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.join(HERE, 'repair', 'results');

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

const command = process.argv[2];
const corpus = loadCorpus({ quixbugs: flag('quixbugs'), js: flag('js') });
const only = flag('only')?.split(',');
const programs = only ? corpus.filter((p) => only.some((o) => p.id === o || p.id.endsWith(`/${o}`))) : corpus;

interface Validation {
  program: string;
  buggyPassed: boolean;
  fixPassed: boolean;
  fixMs: number;
  /** test.timeout for runs of this program: 4× the known fix's test time, at least 3 s. */
  timeout: string;
  tail: string;
}

const validationFile = path.join(RESULTS, 'validate.json');

async function readValidation(): Promise<Record<string, Validation>> {
  return JSON.parse(await readFile(validationFile, 'utf8').catch(() => '{}')) as Record<string, Validation>;
}

async function validate(list: Program[]): Promise<Record<string, Validation>> {
  const all = await readValidation();
  for (const p of list) {
    const buggy = await runTestsOnce(p, 'buggy', 20_000);
    const fix = await runTestsOnce(p, 'fix', 60_000);
    const timeout = `${Math.max(3, Math.ceil((4 * fix.ms) / 1000))}s`;
    all[p.id] = { program: p.id, buggyPassed: buggy.passed, fixPassed: fix.passed, fixMs: fix.ms, timeout, tail: buggy.tail };
    const ok = !buggy.passed && fix.passed;
    process.stdout.write(`${ok ? 'ok  ' : 'BAD '} ${p.id}: buggy ${buggy.passed ? 'passes' : 'fails'}, fix ${fix.passed ? 'passes' : 'fails'} in ${fix.ms} ms → timeout ${timeout}\n`);
  }
  await mkdir(RESULTS, { recursive: true });
  await writeFile(validationFile, `${JSON.stringify(all, null, 2)}\n`);
  return all;
}

async function readResults(label: string): Promise<RunResult[]> {
  const text = await readFile(path.join(RESULTS, `${label}.jsonl`), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RunResult);
}

async function runBench(): Promise<void> {
  const label = flag('label');
  if (!label) throw new Error('run needs --label NAME');
  const evogit = path.resolve(flag('evogit') ?? path.join(HERE, '..'));
  const strategy = (flag('strategy') ?? 'mutate') as Strategy;
  const seeds = Number(flag('seeds') ?? 1);
  const budget = Number(flag('budget') ?? 200);
  const jobs = Number(flag('jobs') ?? 2);
  const sandbox = (flag('sandbox') ?? 'local') as 'local' | 'docker';
  let validation = await readValidation();
  const unvalidated = programs.filter((p) => !validation[p.id]);
  if (unvalidated.length > 0) validation = await validate(unvalidated);
  const done = new Set((await readResults(label)).map((r) => `${r.program}#${r.seed}`));
  const queue: { program: Program; seed: number }[] = [];
  for (let s = 1; s <= seeds; s++) for (const program of programs) if (!done.has(`${program.id}#${s}`)) queue.push({ program, seed: s });
  process.stdout.write(`${label}: ${queue.length} runs (${done.size} already done), ${jobs} at a time, evogit ${evogit}, ${strategy}, ${sandbox} sandbox\n`);
  await mkdir(RESULTS, { recursive: true });
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      const { program, seed } = item;
      const timeout = validation[program.id]?.timeout ?? '10s';
      const r = await repairRun({ program, evogit, label, strategy, seed, budget, timeout, sandbox });
      await appendFile(path.join(RESULTS, `${label}.jsonl`), `${JSON.stringify(r)}\n`);
      process.stdout.write(`${label} ${program.id} seed ${seed}: ${r.repaired ? `repaired at evaluation ${r.evaluations} (depth ${r.repairDepth}, ${(r.wallMs / 1000).toFixed(1)} s): ${r.repairSubject}` : `no repair in ${r.evaluations} evaluations (${r.reason})`}\n`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
}

async function machine(): Promise<string> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const cpu = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  return `${os.cpus().length} CPUs (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, node ${process.version}`;
}

if (command === 'validate') {
  const v = await validate(programs);
  const bad = Object.values(v).filter((x) => x.buggyPassed || !x.fixPassed);
  if (bad.length > 0) process.exitCode = 1;
} else if (command === 'run') {
  await runBench();
} else if (command === 'report') {
  const labels = (flag('labels') ?? 'current').split(',');
  const results = new Map<string, RunResult[]>();
  for (const l of labels) results.set(l, await readResults(l));
  const text = await report({ programs: corpus, results, machine: await machine(), resultsDir: RESULTS });
  process.stdout.write(`${text}\n`);
  if (process.argv.includes('--write')) await writeFile(path.join(RESULTS, 'report.md'), `${text}\n`);
} else {
  process.stderr.write('usage: npx tsx bench/repair.ts validate|run|report [options] (see the comment at the top)\n');
  process.exitCode = 2;
}

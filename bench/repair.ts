/**
 * bench/repair: how many real one-bug programs evogit repairs, through the real CLI.
 *
 *   npx tsx bench/repair.ts validate [--retime]         # buggy fails, known fix passes; per-program timeouts
 *   npx tsx bench/repair.ts run --label current [--evogit DIR] [--strategy mutate|uniform]
 *        [--seeds 1] [--budget 30] [--jobs 1] [--only gcd,knapsack] [--sample K/N] [--sandbox local|docker]
 *   npx tsx bench/repair.ts report --labels base,uniform,current [--write]
 *   npx tsx bench/repair.ts sources                     # what the corpus reads, and whether it is here
 *   npx tsx bench/repair.ts reach [--only …]            # which known fixes are one mutation away (no runs)
 *
 * Corpus: built at bench time in a temp directory from local snapshots of the public
 * repositories it comes from (none of their code is committed here): `--sources DIR` or
 * EVOGIT_REPAIR_SOURCES=DIR, a directory of clones (`DIR/owner+name`, see repair/sources.ts),
 * and `--source owner/name=PATH` for one; without either, /work/.mirror (where an evogit session's
 * `fetch github:owner/name` puts them) when it exists. A missing one is named with the command that gets it.
 * `--only` picks programs by name; `--sample K/N` every N-th program of the corpus from the K-th
 * (0-based), a subset fixed in advance rather than chosen by result.
 * Each (program, seed) is one `evogit init` + `evogit run --agents 1` on a fresh temp repo of
 * the program, stopped at its first plausible repair (every task passes). Results are appended
 * to bench/repair/results/<label>.jsonl; a run already there is skipped, so an interrupted
 * bench resumes. `report` checks every repair against the known fix on extra inputs
 * (bench/repair/check.py, check-js.mjs) and prints the per-class tables.
 */
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusNeeds, loadCorpus, type Program } from './repair/corpus.js';
import { locateSources, MissingSourcesError, SOURCES_ENV, type SourceOptions } from './repair/sources.js';
import { run } from '../src/proc/index.js';
import { appendResult, readResults, type LoadedResult } from './repair/results.js';
import { repairRun, runTestsOnce, type Strategy } from './repair/run.js';
import { checkRepair, report } from './repair/report.js';
import { reach } from './repair/reach.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.join(HERE, 'repair', 'results');
/** Where an evogit session's `fetch github:owner/name` leaves a snapshot (`owner+name/repo`). */
const SESSION_MIRROR = '/work/.mirror';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

function flags(name: string): string[] {
  return process.argv.flatMap((a, i) => (a === `--${name}` && process.argv[i + 1] !== undefined ? [process.argv[i + 1]!] : []));
}

const command = process.argv[2];
const sourceOptions: SourceOptions = {
  dir: flag('sources') ?? process.env[SOURCES_ENV] ?? (existsSync(SESSION_MIRROR) ? SESSION_MIRROR : undefined),
  explicit: Object.fromEntries(
    flags('source').map((s) => {
      const eq = s.indexOf('=');
      if (eq < 1) throw new Error(`--source takes OWNER/NAME=PATH, not "${s}"`);
      return [s.slice(0, eq), path.resolve(s.slice(eq + 1))];
    }),
  ),
};
const only = flag('only')?.split(',');
const sample = flag('sample');

/** The programs `--only` and `--sample K/N` leave of the corpus. */
function pick(all: Program[]): Program[] {
  let out = only ? all.filter((p) => only.some((o) => p.id === o || p.id.endsWith(`/${o}`))) : all;
  if (sample) {
    const m = /^(\d+)\/(\d+)$/.exec(sample);
    if (!m || Number(m[1]) >= Number(m[2])) throw new Error(`--sample takes K/N with 0 ≤ K < N, not "${sample}"`);
    out = out.filter((p) => all.indexOf(p) % Number(m[2]) === Number(m[1]));
  }
  return out;
}
let corpus: Program[] = [];
let programs: Program[] = [];

interface Validation {
  program: string;
  buggyPassed: boolean;
  fixPassed: boolean;
  fixMs: number;
  /** test.timeout for runs of this program: 4× the known fix's test time, at least 3 s. */
  timeout: string;
  /** The check on extra inputs (check.py, check-js.mjs) passes the known fix and catches the buggy program. */
  checkPassesFix: boolean;
  checkCatchesBuggy: boolean;
  tail: string;
}

const validationFile = path.join(RESULTS, 'validate.json');

const valid = (v: Validation): boolean => !v.buggyPassed && v.fixPassed && v.checkPassesFix && v.checkCatchesBuggy;

async function readValidation(): Promise<Record<string, Validation>> {
  return JSON.parse(await readFile(validationFile, 'utf8').catch(() => '{}')) as Record<string, Validation>;
}

async function validate(list: Program[]): Promise<Record<string, Validation>> {
  const all = await readValidation();
  for (const p of list) {
    const buggy = await runTestsOnce(p, 'buggy', 20_000);
    const fix = await runTestsOnce(p, 'fix', 60_000);
    // A program's timeout is set once, so every label runs it with the same one (--retime sets it anew).
    const timeout = (!process.argv.includes('--retime') && all[p.id]?.timeout) || `${Math.max(3, Math.ceil((4 * fix.ms) / 1000))}s`;
    const onFix = await checkRepair(p, await readFile(p.fix, 'utf8'));
    const onBuggy = await checkRepair(p, await readFile(p.files.find(([rel]) => rel === p.buggy)![1], 'utf8'));
    const v = { program: p.id, buggyPassed: buggy.passed, fixPassed: fix.passed, fixMs: fix.ms, timeout, checkPassesFix: onFix.correct, checkCatchesBuggy: !onBuggy.correct, tail: buggy.tail };
    all[p.id] = v;
    const check = `check ${v.checkPassesFix ? 'passes' : `FAILS (${onFix.detail})`} the fix, ${v.checkCatchesBuggy ? `catches the bug (${onBuggy.agreed}/${onBuggy.inputs} agree)` : 'MISSES the bug'}`;
    process.stdout.write(`${valid(v) ? 'ok  ' : 'BAD '} ${p.id}: buggy ${buggy.passed ? 'passes' : 'fails'}, fix ${fix.passed ? 'passes' : 'fails'} in ${fix.ms} ms → timeout ${timeout}; ${check}\n`);
  }
  await mkdir(RESULTS, { recursive: true });
  await writeFile(validationFile, `${JSON.stringify(all, null, 2)}\n`);
  return all;
}

async function runBench(): Promise<void> {
  const label = flag('label');
  if (!label) throw new Error('run needs --label NAME');
  const evogit = path.resolve(flag('evogit') ?? path.join(HERE, '..'));
  const strategy = (flag('strategy') ?? 'mutate') as Strategy;
  const seeds = Number(flag('seeds') ?? 1);
  const budget = Number(flag('budget') ?? 30);
  const jobs = Number(flag('jobs') ?? 1);
  const sandbox = (flag('sandbox') ?? 'local') as 'local' | 'docker';
  let validation = await readValidation();
  const unvalidated = programs.filter((p) => validation[p.id]?.checkPassesFix === undefined);
  if (unvalidated.length > 0) validation = await validate(unvalidated);
  const done = new Set((await readResults(RESULTS, label)).map((r) => `${r.program}#${r.seed}`));
  const queue: { program: Program; seed: number }[] = [];
  for (let s = 1; s <= seeds; s++) for (const program of programs) if (!done.has(`${program.id}#${s}`)) queue.push({ program, seed: s });
  // The build's last commit, or (a `git archive` copy) its directory's name.
  const build = (await run('git', ['-C', evogit, 'log', '-1', '--format=%h %s'], { cwd: evogit, reject: false })).stdout.trim() || path.basename(evogit);
  process.stdout.write(`${label}: ${queue.length} runs (${done.size} already done), ${jobs} at a time, evogit ${evogit}, ${strategy}, ${sandbox} sandbox\n`);
  await mkdir(RESULTS, { recursive: true });
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      const { program, seed } = item;
      const timeout = validation[program.id]?.timeout ?? '10s';
      const r = await appendResult(RESULTS, { ...(await repairRun({ program, evogit, label, strategy, seed, budget, timeout, sandbox })), build, load: os.loadavg()[0]!.toFixed(1) });
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

async function main(): Promise<void> {
  if (command === 'sources') {
    const needs = await corpusNeeds();
    for (const n of needs) process.stdout.write(`${n.repo}: ${n.commits.join(' ')}\n`);
    await locateSources(needs, sourceOptions);
    process.stdout.write(`all ${needs.length} repositories found\n`);
    return;
  }
  if (!['validate', 'run', 'report', 'reach'].includes(command ?? '')) {
    process.stderr.write('usage: npx tsx bench/repair.ts validate|run|report|reach|sources [options] (see the comment at the top)\n');
    process.exitCode = 2;
    return;
  }
  const buildDir = await mkdtemp(path.join(os.tmpdir(), 'evogit-repair-corpus-'));
  // Interrupted (Ctrl-C, kill), the built corpus goes too; finished runs are already in the results.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      rmSync(buildDir, { recursive: true, force: true });
      process.exit(130);
    });
  try {
    corpus = await loadCorpus(buildDir, sourceOptions);
    programs = pick(corpus);
    if (command === 'validate') {
      const v = await validate(programs);
      const bad = programs.filter((p) => !valid(v[p.id]!));
      if (bad.length > 0) process.exitCode = 1;
    } else if (command === 'run') {
      await runBench();
    } else if (command === 'reach') {
      await reach(programs, (line) => process.stdout.write(`${line}\n`));
    } else {
      const labels = (flag('labels') ?? 'current').split(',');
      const results = new Map<string, LoadedResult[]>();
      for (const l of labels) results.set(l, await readResults(RESULTS, l));
      const text = await report({ programs, results, machine: await machine(), resultsDir: RESULTS });
      process.stdout.write(`${text}\n`);
      if (process.argv.includes('--write')) await writeFile(path.join(RESULTS, 'report.md'), `${text}\n`);
    }
  } finally {
    await rm(buildDir, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (e) {
  if (!(e instanceof MissingSourcesError)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exitCode = 2;
}

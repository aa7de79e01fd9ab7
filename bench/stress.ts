/**
 * bench/stress: what a new user meets, run many times. A fresh repository of a three-file
 * library (bench/fixtures/stress-lib: one bug per file, `node --test` files of about 0.4 s),
 * `evogit init` with its defaults, then `evogit run --agents N --agent mutate --max-evals 40
 * --json`, repeated with a different seed each time. Mutants of its loops often loop forever;
 * what such a mutant costs decides the worst run. Per configuration (agents × sandbox): the
 * median, 90th percentile and worst wall time, worst ÷ median (target ≤ 3), the slowest single
 * evaluation, and the runs where an agent polled or Node warned of leaked abort listeners.
 *
 * Run: npx tsx bench/stress.ts
 *   EVOGIT_STRESS_RUNS=50           runs per configuration
 *   EVOGIT_STRESS_AGENTS=2,4        agents per run
 *   EVOGIT_STRESS_SANDBOXES=docker,local   (docker is skipped, saying so, without a daemon)
 *   EVOGIT_STRESS_BIN=path/to/bin/evogit.js   the evogit to measure (default: this checkout's;
 *                                   point it at an older checkout's to measure "before")
 *   EVOGIT_STRESS_CAP=900           seconds after which a run is stopped and counted at the cap
 *   EVOGIT_STRESS_OUT=file.jsonl    appends one line per run (resumable; the table is made from
 *                                   every line in the file for the same bin)
 */
import { spawn } from 'node:child_process';
import { appendFile, cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { run } from '../src/proc/index.js';
import { dockerReachable } from '../src/sandbox/index.js';

const HERE = import.meta.dirname;
const BIN = path.resolve(process.env.EVOGIT_STRESS_BIN ?? path.join(HERE, '..', 'bin', 'evogit.js'));
const RUNS = Number(process.env.EVOGIT_STRESS_RUNS ?? 50);
const AGENTS = (process.env.EVOGIT_STRESS_AGENTS ?? '2,4').split(',').map(Number);
const SANDBOXES = (process.env.EVOGIT_STRESS_SANDBOXES ?? 'docker,local').split(',');
const CAP_S = Number(process.env.EVOGIT_STRESS_CAP ?? 900);
const OUT = process.env.EVOGIT_STRESS_OUT ?? null;
const FIXTURE = path.join(HERE, 'fixtures', 'stress-lib');
const ENV = { GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'b@evogit.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'b@evogit.invalid' };

interface RunRecord {
  bin: string;
  sandbox: string;
  agents: number;
  seed: number;
  wallMs: number;
  capped: boolean;
  exitCode: number | null;
  evaluations: number;
  slowestEvalMs: number;
  /** Events that said an agent was waiting (old builds: a `decision` of kind wait, twice a second). */
  waitEvents: number;
  leakWarnings: number;
}

async function oneRun(sandbox: string, agents: number, seed: number): Promise<RunRecord> {
  const dir = await mkdtemp(path.join(tmpdir(), 'evogit-stress-'));
  try {
    await cp(FIXTURE, dir, { recursive: true });
    const git = (args: string[]) => run('git', args, { cwd: dir, env: ENV });
    await git(['init', '--quiet', '--initial-branch=main']);
    await git(['add', '--all']);
    await git(['commit', '--quiet', '-m', 'a small library']);
    const init = await run(process.execPath, [BIN, 'init', '--sandbox', sandbox], { cwd: dir, env: ENV, reject: false });
    if (init.exitCode !== 0) throw new Error(`evogit init failed: ${init.stderr}`);
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, 'run', '--agents', String(agents), '--agent', 'mutate', '--max-evals', '40', '--seed', String(seed), '--json'], {
      cwd: dir,
      env: { ...process.env, ...ENV, CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    let capped = false;
    const cap = setTimeout(() => {
      capped = true;
      process.kill(-child.pid!, 'SIGKILL');
    }, CAP_S * 1000);
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    clearTimeout(cap);
    const wallMs = capped ? CAP_S * 1000 : performance.now() - started;
    let evaluations = 0;
    let slowestEvalMs = 0;
    let waitEvents = 0;
    for (const line of stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as { type: string; kind?: string; durationMs?: number };
      if (e.type === 'evaluated') {
        evaluations++;
        slowestEvalMs = Math.max(slowestEvalMs, e.durationMs ?? 0);
      }
      if (e.type === 'waiting' || (e.type === 'decision' && e.kind === 'wait')) waitEvents++;
    }
    const leakWarnings = (stderr.match(/MaxListenersExceededWarning/g) ?? []).length;
    return { bin: BIN, sandbox, agents, seed, wallMs: Math.round(wallMs), capped, exitCode, evaluations, slowestEvalMs, waitEvents, leakWarnings };
  } finally {
    // Containers of a killed run are removed by the next evogit process (gc of dead owners).
    await rm(dir, { recursive: true, force: true });
  }
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function table(records: RunRecord[]): string {
  const rows = ['| sandbox | agents | runs | median | p90 | worst | worst ÷ median | slowest evaluation | runs > 90 s | runs that polled | leak warnings |', '|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const sandbox of SANDBOXES) {
    for (const agents of AGENTS) {
      const mine = records.filter((r) => r.sandbox === sandbox && r.agents === agents);
      if (!mine.length) continue;
      const walls = mine.map((r) => r.wallMs).sort((a, b) => a - b);
      const median = quantile(walls, 0.5);
      const worst = walls.at(-1)!;
      rows.push(
        `| ${sandbox} | ${agents} | ${mine.length} | ${s(median)} | ${s(quantile(walls, 0.9))} | ${s(worst)}${mine.some((r) => r.capped) ? ' (cap)' : ''} | ${(worst / median).toFixed(2)}× | ${s(Math.max(...mine.map((r) => r.slowestEvalMs)))} | ${mine.filter((r) => r.wallMs > 90_000).length} | ${mine.filter((r) => r.waitEvents > 0).length} | ${mine.reduce((n, r) => n + r.leakWarnings, 0)} |`,
      );
    }
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  const sandboxes = [];
  for (const sb of SANDBOXES) {
    if (sb === 'docker') {
      const ok = await dockerReachable('evogit/node:20');
      if (!ok.ok) {
        console.log(`docker: skipped (${ok.detail})`);
        continue;
      }
    }
    sandboxes.push(sb);
  }
  const records: RunRecord[] = [];
  if (OUT) {
    const old = await readFile(OUT, 'utf8').catch(() => '');
    for (const line of old.split('\n')) if (line.startsWith('{')) records.push(JSON.parse(line) as RunRecord);
  }
  const mine = (sb: string, n: number) => records.filter((r) => r.bin === BIN && r.sandbox === sb && r.agents === n);
  for (const sandbox of sandboxes) {
    for (const agents of AGENTS) {
      for (let seed = mine(sandbox, agents).length + 1; seed <= RUNS; seed++) {
        const r = await oneRun(sandbox, agents, seed);
        records.push(r);
        if (OUT) await appendFile(OUT, `${JSON.stringify(r)}\n`);
        console.error(`${sandbox} ${agents} agents seed ${seed}: ${s(r.wallMs)}${r.capped ? ' (cap)' : ''}, ${r.evaluations} evaluations, slowest ${s(r.slowestEvalMs)}`);
      }
    }
  }
  console.log(`evogit: ${BIN}`);
  console.log(`machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ${cpus()[0]?.model ?? '?'}, load average ${loadavg()[0]!.toFixed(1)} at the end`);
  console.log(table(records.filter((r) => r.bin === BIN)));
}

await main();

/**
 * bench/loop: how fast the agent loop itself turns, and what it costs on top of the work.
 *
 * A tiny repository whose one task is a test that passes instantly, and a `command` agent that
 * appends a line to a file (so every candidate is a real, distinct tree). With the local sandbox,
 * and with the Docker sandbox (the default a user runs; image evogit/node:20) when a daemon is
 * reachable. `evogit run --agents N --max-evals E` at N = 1, 2, 4; from the --json events:
 *   - candidates (nodes written) and evaluations per minute of wall time;
 *   - orchestration overhead per agent = its wall time − Σ agent time (agentMs of expansions)
 *     − Σ runTask time (durationMs of evaluations), as a share of its wall time (the whole run:
 *     start-up, and the idle tail at the budget's end, when the rest of the budget is other
 *     agents' work in flight, and the clean-up);
 *   - the same per candidate: over the steps only (each from the end of the one before, or the
 *     agent's start, to its result), so without that tail: the issue's "share of the candidate's
 *     wall time".
 *
 * EVOGIT_BENCH_WORK=demo measures realistic work instead: `evogit demo` (the bundled example's
 * real test files, the offline mutate agent), where a step is a real mutation and a real test
 * run, so the orchestration's share is the one a user meets.
 *
 * Run: npx tsx bench/loop.ts   (EVOGIT_BENCH_EVALS=60, EVOGIT_BENCH_AGENTS=1,2,4 and
 * EVOGIT_BENCH_SANDBOXES=local,docker by default; docker is skipped, saying so, without a daemon;
 * EVOGIT_BENCH_EVENTS=DIR keeps each run's --json events as DIR/<sandbox>-<agents>.jsonl;
 * EVOGIT_BENCH_BIN=path/to/bin/evogit.js measures another checkout's build, for before/after)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../src/proc/index.js';
import type { LoopEvent } from '../src/loop/index.js';

const BIN = path.resolve(process.env.EVOGIT_BENCH_BIN ?? path.join(import.meta.dirname, '..', 'bin', 'evogit.js'));
const DEMO = process.env.EVOGIT_BENCH_WORK === 'demo';
const EVALS = Number(process.env.EVOGIT_BENCH_EVALS ?? 60);
const ENV = { GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'b@evogit.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'b@evogit.invalid' };

const config = (sandbox: string) => `version: 1
language: javascript
test:
  command: [node, test/ok.test.js]
  format: none
  tasks:
    mode: single
  timeout: 10s
sandbox:
  kind: ${sandbox}
agents:
  kind: command
  command:
    run: [node, -e, "require('fs').appendFileSync(process.argv[1] + '/log.txt', process.hrtime.bigint() + ' ' + Math.random() + '\\\\n')", "{worktree}"]
`;

async function fixture(sandbox: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'evogit-bench-loop-'));
  await mkdir(path.join(dir, 'test'));
  await writeFile(path.join(dir, 'test', 'ok.test.js'), 'process.exit(0);\n');
  await writeFile(path.join(dir, 'log.txt'), 'start\n');
  await writeFile(path.join(dir, 'evogit.yml'), config(sandbox));
  const git = (args: string[]) => run('git', args, { cwd: dir, env: ENV });
  await git(['init', '--quiet', '--initial-branch=main']);
  await git(['add', '--all']);
  await git(['commit', '--quiet', '-m', 'base']);
  await git(['branch', 'evo/root']);
  return dir;
}

type Timed = LoopEvent & { at?: number };

/** `evogit run` on the fixture, or (EVOGIT_BENCH_WORK=demo) `evogit demo` into an empty dir. */
function runAgents(dir: string, agents: number, sandbox: string): Promise<{ events: Timed[]; wallMs: number }> {
  const args = DEMO ? ['demo', '--dir', path.join(dir, 'demo'), '--sandbox', sandbox, '--seed', '1'] : ['run'];
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, ...args, '--agents', String(agents), '--max-evals', String(EVALS), '--json'], { cwd: dir, env: { ...process.env, ...ENV, CI: '1' }, stdio: ['ignore', 'pipe', 'ignore'] });
    const events: Timed[] = [];
    let rest = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      const lines = (rest + c).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('{')) events.push(JSON.parse(l) as Timed);
    });
    child.on('close', (code) => (code === 0 ? resolve({ events, wallMs: Date.now() - started }) : reject(new Error(`evogit run exited ${code}`))));
  });
}

interface Row {
  sandbox: string;
  agents: number;
  wallS: number;
  candidates: number;
  evaluations: number;
  candidatesPerMin: number;
  evaluationsPerMin: number;
  overheadShare: number;
  /** Over the steps only (without the tail after each agent's last result). */
  stepShare: number;
  overheadPerStepMs: number;
  workPerStepMs: number;
  /** Means over the run's steps: lock + refresh + scorer + claim, then each kind's own overhead. */
  decideMs: number;
  expandMs: number;
  evaluateMs: number;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

function measure(sandbox: string, agents: number, events: Timed[], wallMs: number): Row {
  let loopMs = 0;
  let stepsMs = 0;
  let workMs = 0;
  let steps = 0;
  const decide: number[] = [];
  const expand: number[] = [];
  const evaluate: number[] = [];
  for (const w of new Set(events.map((e) => e.writer))) {
    const mine = events.filter((e) => e.writer === w && e.at !== undefined);
    const start = mine.find((e) => e.type === 'start')?.at ?? 0;
    const done = mine.find((e) => e.type === 'done')?.at ?? 0;
    loopMs += done - start;
    // A step: from the last step's end (or the start) to its decision, then to its result.
    let stepStart = start;
    let decided = start;
    for (const e of mine) {
      if (e.type === 'decision') {
        decide.push(e.at! - stepStart);
        decided = e.at!;
      }
      if (e.type === 'expanded' || e.type === 'rejected') {
        workMs += e.agentMs ?? 0;
        expand.push(e.at! - decided - (e.agentMs ?? 0));
        stepsMs += e.at! - stepStart;
        stepStart = e.at!;
        steps++;
      }
      if (e.type === 'evaluated') {
        workMs += e.durationMs;
        evaluate.push(e.at! - decided - e.durationMs);
        stepsMs += e.at! - stepStart;
        stepStart = e.at!;
        steps++;
      }
    }
  }
  const candidates = events.filter((e) => e.type === 'expanded').length;
  const evaluations = events.filter((e) => e.type === 'evaluated' && e.outcome !== 'error').length;
  return {
    sandbox,
    agents,
    wallS: wallMs / 1000,
    candidates,
    evaluations,
    candidatesPerMin: (candidates / wallMs) * 60_000,
    evaluationsPerMin: (evaluations / wallMs) * 60_000,
    overheadShare: (loopMs - workMs) / loopMs,
    stepShare: (stepsMs - workMs) / stepsMs,
    overheadPerStepMs: (loopMs - workMs) / steps,
    workPerStepMs: workMs / steps,
    decideMs: mean(decide),
    expandMs: mean(expand),
    evaluateMs: mean(evaluate),
  };
}

const rows: Row[] = [];
const sandboxes = (process.env.EVOGIT_BENCH_SANDBOXES ?? 'local,docker').split(',');
for (const sandbox of sandboxes) {
  if (sandbox === 'docker' && (await run('docker', ['info'], { cwd: tmpdir(), reject: false }).catch(() => null))?.exitCode !== 0) {
    process.stdout.write('docker: no daemon reachable, the Docker rows are skipped\n');
    continue;
  }
  for (const agents of (process.env.EVOGIT_BENCH_AGENTS ?? '1,2,4').split(',').map(Number)) {
    const dir = DEMO ? await mkdtemp(path.join(tmpdir(), 'evogit-bench-demo-')) : await fixture(sandbox);
    try {
      const { events, wallMs } = await runAgents(dir, agents, sandbox);
      if (process.env.EVOGIT_BENCH_EVENTS) await writeFile(path.join(process.env.EVOGIT_BENCH_EVENTS, `${sandbox}-${agents}.jsonl`), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
      rows.push(measure(sandbox, agents, events, wallMs));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

const cpu = cpus()[0]?.model ?? 'unknown';
process.stdout.write(`evogit: ${BIN}; work: ${DEMO ? 'evogit demo (mutate agent, the example\'s tests)' : 'command agent, a test that passes at once'}\n`);
process.stdout.write(`machine: ${cpus().length} cpus (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; budget ${EVALS} evaluations per run\n`);
process.stdout.write(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
process.stdout.write('| sandbox | agents | wall s | candidates | evaluations | candidates/min | evaluations/min | vs 1 agent | overhead share (run) | per candidate | overhead ms/step | work ms/step | decide ms | expand ms | evaluate ms |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n');
for (const r of rows) {
  const base = rows.find((b) => b.sandbox === r.sandbox && b.agents === 1) ?? r;
  process.stdout.write(
    `| ${r.sandbox} | ${r.agents} | ${r.wallS.toFixed(1)} | ${r.candidates} | ${r.evaluations} | ${r.candidatesPerMin.toFixed(0)} | ${r.evaluationsPerMin.toFixed(0)} | ${(r.evaluationsPerMin / base.evaluationsPerMin).toFixed(2)}× | ${(r.overheadShare * 100).toFixed(0)}% | ${(r.stepShare * 100).toFixed(1)}% | ${r.overheadPerStepMs.toFixed(0)} | ${r.workPerStepMs.toFixed(0)} | ${r.decideMs.toFixed(1)} | ${r.expandMs.toFixed(1)} | ${r.evaluateMs.toFixed(1)} |\n`,
  );
}

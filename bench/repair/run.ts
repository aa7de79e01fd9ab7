/**
 * One repair run through the real CLI: the program's buggy repository in a temp dir,
 * `evogit init`, then `evogit run --agents 1 --json`, followed event by event and stopped
 * (Ctrl-C, as a user would) at the first node that passes every task: a plausible repair.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, spawnLines } from '../../src/proc/index.js';
import type { Program } from './corpus.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ENV = { PYTHONDONTWRITEBYTECODE: '1', GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@evogit.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@evogit.invalid' };

export type Strategy = 'mutate' | 'uniform';

export interface RunSpec {
  program: Program;
  /** The evogit checkout whose bin/evogit.js runs (built). */
  evogit: string;
  label: string;
  strategy: Strategy;
  seed: number;
  budget: number;
  /** test.timeout of the run, e.g. `3s`. */
  timeout: string;
  sandbox: 'local' | 'docker';
}

export interface RunResult {
  program: string;
  bugClass: string;
  label: string;
  strategy: Strategy;
  seed: number;
  budget: number;
  timeout: string;
  repaired: boolean;
  /** Graded evaluations when the first plausible repair was graded (the whole run's when none). */
  evaluations: number;
  /** Nodes made (root excluded) until then. */
  nodes: number;
  rootChildren: number;
  maxDepth: number;
  /** Depth of the repairing node (root = 0). */
  repairDepth?: number;
  /** From `evogit run` starting to the repair being graded (or the run ending). */
  wallMs: number;
  /** init included, cleanup excluded. */
  totalMs: number;
  /** The repairing node's commit subject and its version of the buggy file. */
  repairSubject?: string;
  repairSource?: string;
  repairDiff?: string;
  /** Why the run ended (from its last event), when no repair was found. */
  reason?: string;
  at: string;
  /** The evogit build that ran (`git log -1` of --evogit), and the 1-minute load average when the run ended. */
  build?: string;
  load?: string;
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await run('git', args, { cwd, env: ENV, timeoutMs: 60_000 })).stdout;
}

/** The buggy repository with one commit. */
export async function checkoutProgram(program: Program, replaceBuggyWith?: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), 'evogit-repair-'));
  const dir = path.join(root, 'repo');
  for (const [rel, abs] of program.files) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await copyFile(rel === program.buggy && replaceBuggyWith ? replaceBuggyWith : abs, path.join(dir, rel));
  }
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-qm', `${program.id}: the buggy program and its tests`);
  return { dir, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Run the program's test command once, as a check of the corpus (buggy fails, fix passes). */
export async function runTestsOnce(program: Program, version: 'buggy' | 'fix', timeoutMs = 60_000): Promise<{ passed: boolean; ms: number; tail: string }> {
  const { dir, cleanup } = await checkoutProgram(program, version === 'fix' ? program.fix : undefined);
  try {
    const [command, ...args] = program.testCommand.split(' ') as [string, ...string[]];
    const started = performance.now();
    const r = await run(command, args, { cwd: dir, env: ENV, reject: false, timeoutMs, ownGroup: true });
    return { passed: r.exitCode === 0 && !r.timedOut, ms: Math.round(performance.now() - started), tail: `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-3).join(' | ') };
  } finally {
    await cleanup();
  }
}

interface Event {
  type: string;
  node?: string;
  parents?: string[];
  outcome?: string;
  task?: string;
  tasks?: number;
  summary?: string;
  reason?: string;
}

/** The config a uniform-random-edit run adds: a command agent that makes one uniformly drawn edit. */
function uniformAgentConfig(evogit: string): string {
  const script = path.join(BENCH_DIR, 'uniform-agent.mjs');
  return ['agents:', '  command:', `    run: [node, ${JSON.stringify(script)}, ${JSON.stringify(evogit)}, "{worktree}", "{context_file}"]`, '    timeout: 60s', ''].join('\n');
}

export async function repairRun(spec: RunSpec): Promise<RunResult> {
  const started = performance.now();
  const { dir, cleanup } = await checkoutProgram(spec.program);
  const bin = path.join(spec.evogit, 'bin', 'evogit.js');
  try {
    await run('node', [bin, 'init', '--test', spec.program.testCommand, '--sandbox', spec.sandbox, '--timeout', spec.timeout], { cwd: dir, env: ENV, timeoutMs: 120_000 });
    if (spec.strategy === 'uniform') {
      // Read from the working tree by `evogit run`; the root's copy (what the sandbox uses) is unchanged.
      const yml = path.join(dir, 'evogit.yml');
      await writeFile(yml, `${await readFile(yml, 'utf8')}${uniformAgentConfig(spec.evogit)}`);
    }
    const runStarted = performance.now();
    const depth = new Map<string, number>();
    const passedTasks = new Map<string, Set<string>>();
    const subjects = new Map<string, string>();
    let root: string | null = null;
    let tasks = 1;
    let evaluations = 0;
    let nodes = 0;
    let rootChildren = 0;
    let maxDepth = 0;
    let repair: { node: string; evaluations: number; nodes: number; wallMs: number } | null = null;
    let lastReason = '';
    const args = [bin, 'run', '--agents', '1', '--agent', spec.strategy === 'uniform' ? 'command' : 'mutate', '--max-evals', String(spec.budget), '--max-expansions', String(spec.budget * 4), '--seed', String(spec.seed), '--json'];
    const child = spawnLines('node', args, {
      cwd: dir,
      env: ENV,
      reject: false,
      onLine: (line) => {
        if (!line.startsWith('{')) return;
        const e = JSON.parse(line) as Event;
        if (e.type === 'start') tasks = e.tasks ?? 1;
        if (e.type === 'done' && e.reason) lastReason = e.reason;
        if (repair) return;
        if (e.type === 'expanded' && e.node) {
          const parent = e.parents?.[0] ?? '';
          const d = (depth.get(parent) ?? 0) + 1;
          depth.set(e.node, d);
          subjects.set(e.node, e.summary ?? '');
          nodes++;
          if (parent === root || !depth.has(parent)) rootChildren++;
          maxDepth = Math.max(maxDepth, d);
        }
        if (e.type === 'evaluated' && e.node && e.outcome !== 'error') {
          evaluations++;
          // The first node graded is the root (nothing else exists yet).
          if (root === null && !depth.has(e.node)) {
            root = e.node;
            depth.set(root, 0);
          }
          if (e.outcome === 'pass' && e.task) {
            let set = passedTasks.get(e.node);
            if (!set) passedTasks.set(e.node, (set = new Set()));
            set.add(e.task);
            if (set.size >= tasks && e.node !== root) {
              repair = { node: e.node, evaluations, nodes, wallMs: performance.now() - runStarted };
              child.kill('SIGINT');
            }
          }
        }
      },
    });
    const ended = await child.done;
    const found = repair as { node: string; evaluations: number; nodes: number; wallMs: number } | null;
    const base = {
      program: spec.program.id,
      bugClass: spec.program.bugClass,
      label: spec.label,
      strategy: spec.strategy,
      seed: spec.seed,
      budget: spec.budget,
      timeout: spec.timeout,
      rootChildren,
      maxDepth,
      at: new Date().toISOString(),
    };
    if (!found) {
      return {
        ...base,
        repaired: false,
        evaluations,
        nodes,
        wallMs: Math.round(performance.now() - runStarted),
        totalMs: Math.round(performance.now() - started),
        reason: lastReason || `evogit run exited ${ended.exitCode}: ${ended.stderr.trim().split('\n').slice(-2).join(' | ')}`,
      };
    }
    const source = await git(dir, 'show', `${found.node}:${spec.program.buggy}`);
    const diff = await git(dir, 'diff', 'evo/root', found.node, '--', spec.program.buggy);
    return {
      ...base,
      repaired: true,
      evaluations: found.evaluations,
      nodes: found.nodes,
      repairDepth: depth.get(found.node) ?? 0,
      wallMs: Math.round(found.wallMs),
      totalMs: Math.round(performance.now() - started),
      repairSubject: subjects.get(found.node) ?? '',
      repairSource: source,
      repairDiff: diff,
    };
  } finally {
    await cleanup();
  }
}

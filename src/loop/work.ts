/**
 * What the loop evaluates and who expands, by mode. In project mode a task is one of the
 * repository's own test files, run on the node's commit, and the configured agent edits.
 * In agent mode (DGM) a node is a coding agent: a task is a benchmark instance that the node's
 * own agent must solve, and the node's agent edits itself.
 */
import path from 'node:path';
import type { ArchiveSnapshot, Claim, Evaluation } from '../archive/types.js';
import { createAgent, type Agent, type AgentKind } from '../agents/index.js';
import { AGENT_PROTECTED, createSelfAgent, evaluateAgentOnTask, startDgmHost, suiteOf } from '../agents/self/index.js';
import type { Config } from '../config/index.js';
import { InfraError } from '../errors/index.js';
import { discoverTasks, rootReference, runTask, type Sandbox } from '../sandbox/index.js';
import { evaluationTaskId, loadSuite, tasksOf } from '../suites/index.js';
import type { TaskSpec } from '../tasks/types.js';

export interface Work {
  /** Task ids the scorer may choose from. */
  taskIds: string[];
  /** Tasks whose hidden files are protected from edits (project mode). */
  tasks: TaskSpec[];
  /** Paths no child may change, beyond the config's and the tasks' hidden files. */
  extraProtected: string[];
  /** Run each task on the root before anything else: with test.timeout "auto" every later run's limit derives from it. */
  measureRootFirst: boolean;
  agent: Agent;
  /** `snapshot`: the archive the decision was made on, for what the run is measured against (the root's runs). */
  evaluate(req: { node: string; task: string; writer: string; logDir: string; snapshot?: ArchiveSnapshot; signal?: AbortSignal }): Promise<Evaluation>;
  close(): Promise<void>;
}

export async function prepareWork(opts: { repoDir: string; root: string; config: Config; sandbox: Sandbox; agentKind: AgentKind }): Promise<Work> {
  const { repoDir, root, config, sandbox } = opts;
  if (config.dgm.mode === 'agent') {
    const s = suiteOf(config);
    const suite = await loadSuite(repoDir, s.name, root);
    const byId = new Map(tasksOf(suite, s.split).map((t) => [evaluationTaskId(suite.name, t.id), t]));
    const host = await startDgmHost(config);
    return {
      taskIds: [...byId.keys()],
      tasks: [],
      extraProtected: AGENT_PROTECTED,
      // A suite task's limit is its own (or the ceiling): nothing to measure on the root.
      measureRootFirst: false,
      agent: createSelfAgent({ sandbox, llm: host.llm, chat: host.chat }),
      evaluate: (r) =>
        evaluateAgentOnTask({ repoDir, node: r.node, root, suite, task: byId.get(r.task)!, config, sandbox, llm: host.llm, writer: r.writer, logDir: r.logDir, ...(r.signal ? { signal: r.signal } : {}) }),
      close: () => host.close(),
    };
  }
  const tasks = await discoverTasks(repoDir, root, config);
  const byId = new Map(tasks.map((t) => [t.id, t]));
  return {
    taskIds: tasks.map((t) => t.id),
    tasks,
    extraProtected: [],
    measureRootFirst: config.test.timeout === 'auto',
    agent: createAgent(opts.agentKind, config),
    evaluate: (r) =>
      runTask({
        repoDir,
        commit: r.node,
        root,
        task: byId.get(r.task)!,
        config,
        sandbox,
        writer: r.writer,
        logDir: r.logDir,
        ...(r.snapshot ? rootReference(r.snapshot, r.task, config) : {}),
        ...(r.signal ? { signal: r.signal } : {}),
      }),
    close: async () => undefined,
  };
}

/**
 * A task the root has no graded run of and nobody else is running on it, or null: the first
 * runs of a search measure the root (as a mutation-testing tool's initial run does), so that a
 * candidate's time limit can derive from it instead of the ceiling (tasks/timeout.ts).
 */
export function unmeasuredRootTask(snapshot: ArchiveSnapshot, tasks: readonly string[], othersClaims: readonly Claim[]): string | null {
  const measured = rootMeasured(snapshot);
  const running = new Set(othersClaims.filter((c) => c.kind === 'evaluate' && c.node === snapshot.root).map((c) => c.task));
  return tasks.find((t) => !measured.has(t) && !running.has(t)) ?? null;
}

/**
 * The tasks other nodes may be run on: those the root has a graded run of. While another agent
 * still measures the root on a task, a candidate's run of it would have only the ceiling for a
 * limit (two minutes for a mutant that loops); the scorer then expands or takes another task.
 */
export function measuredTasks(snapshot: ArchiveSnapshot, tasks: readonly string[]): string[] {
  const measured = rootMeasured(snapshot);
  return tasks.filter((t) => measured.has(t));
}

const rootMeasured = (snapshot: ArchiveSnapshot): Set<string> => new Set((snapshot.evaluations.get(snapshot.root) ?? []).filter((e) => e.outcome !== 'error').map((e) => e.task));

/**
 * For forge.minimize: whether a commit passes, in the sandbox, every task `node` has passed in
 * `snapshot` (one run each, stopping at the first that does not pass). The runs are not
 * recorded in the archive: the commit is not a node.
 */
export function keepsPasses(work: Work, snapshot: ArchiveSnapshot, node: string, run: { writer: string; logDirOf: (commit: string) => string; signal?: AbortSignal }): (commit: string) => Promise<boolean> {
  const known = new Set(work.taskIds);
  const passed = [...new Set((snapshot.evaluations.get(node) ?? []).filter((e) => e.outcome === 'pass' && known.has(e.task)).map((e) => e.task))];
  return async (commit) => {
    if (passed.length === 0) return false;
    for (const task of passed) {
      const e = await work.evaluate({ node: commit, task, writer: run.writer, logDir: run.logDirOf(commit), snapshot, ...(run.signal ? { signal: run.signal } : {}) });
      // Stopped (Ctrl-C): no verdict, and no PR from a minimisation cut short.
      if (run.signal?.aborted) throw new InfraError('E_ABORTED', 'stopped while re-running tasks for forge.minimize', 'Run again; the PR is proposed then.');
      if (e.outcome !== 'pass') return false;
    }
    return true;
  };
}

export const logDirOf = (stateDir: string, node: string): string => path.join(stateDir, 'logs', node);

/**
 * One independent agent: refresh the archive → ask the scorer → expand or evaluate → write
 * only its own refs → until the run's budget, counted from the archive, is spent.
 * Agents never talk to each other; git (and, on one machine, a budget lock file) is all
 * they share.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Archive, type ArchiveNode, type ArchiveSnapshot, type Evaluation } from '../archive/index.js';
import { createAgent } from '../agents/index.js';
import type { AgentInput } from '../agents/types.js';
import { parseDuration, type Config } from '../config/index.js';
import { errorMessage } from '../errors/index.js';
import { git } from '../git/index.js';
import { createRng, finalAnswer, policyFor, type Decision } from '../scorer/index.js';
import { createSandbox, discoverTasks, runTask, type Sandbox } from '../sandbox/index.js';
import { changedFiles, protectedPatterns, tamperedPaths } from '../tasks/index.js';
import type { TaskSpec } from '../tasks/types.js';
import type { EventSink } from './events.js';
import { withLock } from './lock.js';

export type { LoopEvent, EventSink } from './events.js';

export interface Budget {
  evaluations: number;
  expansions?: number;
  timeMs?: number;
  costUsd?: number;
}

export interface AgentLoopOptions {
  repoDir: string;
  config: Config;
  writer: string;
  budget: Budget;
  emit: EventSink;
  seed?: number;
  /** Share the archive through this git remote (many machines). */
  remote?: string;
  signal?: AbortSignal;
  /** Override the configured agent kind. */
  agentKind?: Config['agents']['kind'];
  /** How long a claim lives before other agents ignore it (a dead agent's claim). */
  claimTtlMs?: number;
  sandbox?: Sandbox;
}

export interface AgentLoopResult {
  writer: string;
  expansions: number;
  evaluations: number;
  rejected: number;
  reason: string;
}

/** What the archive says has been spent, all writers together. */
export function spent(snapshot: ArchiveSnapshot): { evaluations: number; expansions: number; cost: number } {
  let evaluations = 0;
  for (const lines of snapshot.evaluations.values()) for (const e of lines) if (e.outcome !== 'error') evaluations++;
  let cost = 0;
  for (const n of snapshot.nodes) cost += n.cost ?? 0;
  return { evaluations, expansions: snapshot.nodes.length - 1, cost };
}

export function budgetFromConfig(config: Config, overrides: Partial<Budget> = {}): Budget {
  return {
    evaluations: overrides.evaluations ?? config.budget.evaluations,
    expansions: overrides.expansions ?? config.budget.expansions,
    timeMs: overrides.timeMs ?? (config.budget.time !== undefined ? parseDuration(config.budget.time) : undefined),
    costUsd: overrides.costUsd ?? config.budget.cost,
  };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

function hashSeed(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export async function runAgentLoop(opts: AgentLoopOptions): Promise<AgentLoopResult> {
  const { config, writer, emit, signal } = opts;
  const started = Date.now();
  const archive = await Archive.open({ repoDir: opts.repoDir, prefix: config.branchPrefix });
  const repoDir = archive.repoDir;
  const stateDir = path.join(archive.gitCommonDir, 'evogit');
  const worktree = path.join(stateDir, 'worktrees', writer);
  const lockFile = path.join(stateDir, 'budget.lock');
  await mkdir(path.dirname(worktree), { recursive: true });
  await removeWorktree(repoDir, worktree);

  const sandbox = opts.sandbox ?? createSandbox(config);
  // Containers of evogit processes that died (a SIGKILLed agent) are removed before we start.
  await sandbox.gc().catch((e: unknown) => emit({ type: 'warning', writer, message: `could not clean up old containers: ${errorMessage(e)}` }));
  const root = await archive.root();
  if (!root) throw new Error('no root node: run `evogit init` first');
  if (opts.remote) await sync(archive, opts.remote, writer, emit, 'fetch');
  // A previous life of this writer may have died holding claims: they are ours to drop.
  for (const c of (await archive.load()).claims) if (c.writer === writer && c.ref) await archive.releaseClaim(c.ref);

  const tasks: TaskSpec[] = await discoverTasks(repoDir, root, config);
  const taskById = new Map(tasks.map((t) => [t.id, t]));
  const agentKind = opts.agentKind ?? config.agents.kind;
  const agent = createAgent(agentKind, config);
  const crossover = config.agents.crossoverRate > 0 ? createAgent('crossover', config) : null;
  const policy = policyFor(config.scorer.policy);
  const seed = opts.seed ?? config.scorer.seed ?? Date.now();
  const rng = createRng(seed ^ hashSeed(writer));
  const ttl = opts.claimTtlMs ?? Math.max(parseDuration(config.test.timeout), parseDuration(config.agents.command.timeout)) + 60_000;
  emit({ type: 'start', writer, agent: agentKind, sandbox: sandbox.kind, tasks: tasks.length, time: new Date().toISOString() });

  const result: AgentLoopResult = { writer, expansions: 0, evaluations: 0, rejected: 0, reason: '' };
  const finish = (reason: string): AgentLoopResult => {
    result.reason = reason;
    return { ...result };
  };
  let best: string | null = null;
  let consecutiveErrors = 0;
  let step = 0;

  try {
    for (;;) {
      if (signal?.aborted) return finish('stopped');
      if (opts.budget.timeMs !== undefined && Date.now() - started >= opts.budget.timeMs) return finish('time budget spent');
      if (opts.remote) await sync(archive, opts.remote, writer, emit, 'fetch');

      // Check the budget and claim the next piece of work under the lock, so agents on
      // this machine never start more evaluations than the budget allows.
      const claimed = await withLock(lockFile, async () => {
        const snapshot = await archive.load();
        const used = spent(snapshot);
        const now = Date.now();
        const live = snapshot.claims.filter((c) => c.expires > now && c.writer !== writer);
        const pendingEvals = live.filter((c) => c.kind === 'evaluate').length;
        const pendingExpansions = live.filter((c) => c.kind === 'expand').length;
        emit({ type: 'budget', writer, evaluations: used.evaluations, maxEvaluations: opts.budget.evaluations, expansions: used.expansions, cost: used.cost, elapsedMs: now - started });
        if (opts.budget.costUsd !== undefined && used.cost >= opts.budget.costUsd) return { stop: 'cost budget spent' } as const;
        if (used.evaluations >= opts.budget.evaluations) return { stop: 'evaluation budget spent' } as const;
        if (used.evaluations + pendingEvals >= opts.budget.evaluations) return { wait: true } as const;
        const canExpand = opts.budget.expansions === undefined || used.expansions + pendingExpansions < opts.budget.expansions;
        const decision: Decision = policy.decide({
          snapshot,
          tasks: tasks.map((t) => t.id),
          now,
          writer,
          config: config.scorer,
          evidence: config.test.evidence,
          budget: {
            evaluations: opts.budget.evaluations,
            spentEvaluations: used.evaluations,
            // Other agents' claimed expansions count against the node budget too.
            ...(opts.budget.expansions !== undefined ? { expansions: canExpand ? opts.budget.expansions : used.expansions } : {}),
          },
          crossover: crossover !== null && rng.next() < config.agents.crossoverRate,
          rng,
        });
        if (decision.kind === 'done') return { stop: decision.reason } as const;
        const node = snapshot.nodes.find((n) => n.id === decision.node)!;
        const ref = await archive.putClaim({
          writer,
          node: node.id,
          kind: decision.kind,
          ...(decision.kind === 'evaluate' ? { task: decision.task } : {}),
          expires: now + ttl,
        });
        return { decision, node, snapshot, ref } as const;
      });

      if ('stop' in claimed) return finish(claimed.stop ?? 'done');
      if ('wait' in claimed) {
        emit({ type: 'decision', writer, kind: 'wait', node: '' });
        await sleep(500, signal);
        continue;
      }
      step++;
      const { decision, node, snapshot, ref } = claimed;
      try {
        if (decision.kind === 'expand') {
          const mate = decision.mate ?? null;
          emit({ type: 'decision', writer, kind: 'expand', node: node.id, ...(mate ? { mate } : {}) });
          const made = await expand({
            archive,
            tasks,
            snapshot,
            root,
            parent: node,
            mate: mate ? snapshot.nodes.find((n) => n.id === mate) : undefined,
            agent: mate && crossover ? crossover : agent,
            agentName: writer,
            worktree,
            config,
            seed: (seed + step * 7919 + hashSeed(writer)) >>> 0,
            writer,
            signal,
          });
          if (made.node) {
            result.expansions++;
            emit({ type: 'expanded', writer, node: made.node.id, branch: made.node.branch ?? '', parents: made.node.parents, operator: made.node.operator, cost: made.node.cost ?? 0, summary: made.node.subject });
          } else {
            result.rejected++;
            emit({ type: 'rejected', writer, parent: node.id, reason: made.reason, ...(made.detail ? { detail: made.detail } : {}) });
          }
        } else {
          const task = taskById.get(decision.task)!;
          emit({ type: 'decision', writer, kind: 'evaluate', node: node.id, task: task.id });
          const evaluation: Evaluation = await runTask({
            repoDir,
            commit: node.id,
            root,
            task,
            config,
            sandbox,
            writer,
            signal,
            logDir: path.join(stateDir, 'logs', node.id),
          });
          if (signal?.aborted && evaluation.outcome === 'error') return finish('stopped');
          await archive.appendEvaluations(writer, [evaluation]);
          result.evaluations++;
          emit({
            type: 'evaluated',
            writer,
            node: node.id,
            task: task.id,
            outcome: evaluation.outcome,
            durationMs: evaluation.durationMs,
            ...(evaluation.tests ? { tests: { passed: evaluation.tests.passed, total: evaluation.tests.total } } : {}),
          });
          consecutiveErrors = evaluation.outcome === 'error' ? consecutiveErrors + 1 : 0;
          if (consecutiveErrors >= 5) {
            return finish(`the sandbox failed 5 times in a row (last: ${evaluation.reason ?? 'unknown'}); fix it and run again to resume`);
          }
          if (consecutiveErrors > 0) await sleep(Math.min(30_000, 1000 * 2 ** consecutiveErrors), signal);
          const answer = finalAnswer(await archive.load(), { epsilon: config.scorer.epsilon, evidence: config.test.evidence });
          if (answer && answer.node !== best) {
            best = answer.node;
            const bestNode = snapshot.nodes.find((n) => n.id === answer.node);
            emit({ type: 'best', writer, node: answer.node, branch: bestNode?.branch ?? null, passRate: answer.ns / Math.max(1, answer.ns + answer.nf), quantile: answer.quantile });
          }
        }
      } finally {
        await archive.releaseClaim(ref);
      }
      if (opts.remote) await sync(archive, opts.remote, writer, emit, 'push');
    }
  } finally {
    await removeWorktree(repoDir, worktree);
    emit({ type: 'done', writer, reason: result.reason || 'stopped' });
  }
}

interface ExpandRequest {
  archive: Archive;
  tasks: TaskSpec[];
  snapshot: ArchiveSnapshot;
  root: string;
  parent: ArchiveNode;
  mate: ArchiveNode | undefined;
  agent: ReturnType<typeof createAgent>;
  agentName: string;
  worktree: string;
  config: Config;
  seed: number;
  writer: string;
  signal?: AbortSignal;
}

async function expand(req: ExpandRequest): Promise<{ node: ArchiveNode; reason?: undefined; detail?: undefined } | { node: null; reason: string; detail?: string }> {
  const { archive, snapshot, parent, worktree } = req;
  const repoDir = archive.repoDir;
  await removeWorktree(repoDir, worktree);
  await git(repoDir, ['worktree', 'add', '--detach', '--force', worktree, parent.id]);
  const evaluations = await archive.evaluationLogs(parent.id);
  const input: AgentInput = {
    worktree,
    parent,
    ...(req.mate ? { mate: req.mate } : {}),
    goal: req.config.goal,
    failingLogs: evaluations.filter((e) => e.outcome === 'fail').map((e) => ({ task: e.task, log: e.log ?? '' })),
    lineage: lineageNotes(snapshot, parent),
    budget: {},
    seed: req.seed,
    config: req.config,
    transcriptDir: path.join(archive.gitCommonDir, 'evogit', 'transcripts', `${req.writer}-${Date.now()}`),
    ...(req.signal ? { signal: req.signal } : {}),
  };
  await mkdir(input.transcriptDir, { recursive: true });
  const out = await req.agent.propose(input);
  if (out.outcome !== 'edited') return { node: null, reason: out.outcome, detail: out.reason };

  await git(worktree, ['add', '--all']);
  const tree = (await git(worktree, ['write-tree'])).stdout.trim();
  if (tree === parent.tree) return { node: null, reason: 'empty edit' };
  const twin = snapshot.nodes.find((n) => n.tree === tree);
  if (twin) return { node: null, reason: 'duplicate', detail: `same tree as ${twin.branch ?? twin.id.slice(0, 12)}` };
  const touched = tamperedPaths(await changedFiles(repoDir, req.root, tree), protectedPatterns(req.config.test.protected, req.tasks));
  if (touched.length > 0) return { node: null, reason: 'protected paths touched', detail: touched.slice(0, 5).join(', ') };

  const node = await archive.writeNode({
    writer: req.writer,
    parents: [parent.id, ...(out.extraParents ?? [])],
    tree,
    message: out.message,
    agent: req.agentName,
    operator: out.operator,
    ...(out.model ? { model: out.model } : {}),
    ...(out.cost ? { cost: out.cost } : {}),
  });
  return { node };
}

/** What siblings and ancestors tried and how it scored: short lines the agent can use. */
function lineageNotes(snapshot: ArchiveSnapshot, parent: ArchiveNode): AgentInput['lineage'] {
  const byId = new Map(snapshot.nodes.map((n) => [n.id, n]));
  const rate = (id: string): number | null => {
    const lines = (snapshot.evaluations.get(id) ?? []).filter((e) => e.outcome !== 'error');
    return lines.length ? lines.filter((e) => e.outcome === 'pass').length / lines.length : null;
  };
  const notes: AgentInput['lineage'] = [];
  for (let n: ArchiveNode | undefined = parent; n && notes.length < 8; n = byId.get(n.parents[0] ?? '')) {
    notes.push({ node: n.id, operator: n.operator, summary: n.subject, passRate: rate(n.id) });
  }
  for (const s of snapshot.nodes.filter((n) => n.parents[0] === parent.id).slice(-8)) {
    notes.push({ node: s.id, operator: s.operator, summary: s.subject, passRate: rate(s.id) });
  }
  return notes;
}

async function removeWorktree(repoDir: string, worktree: string): Promise<void> {
  await git(repoDir, ['worktree', 'remove', '--force', worktree], { reject: false });
  await rm(worktree, { recursive: true, force: true });
  await git(repoDir, ['worktree', 'prune'], { reject: false });
}

async function sync(archive: Archive, remote: string, writer: string, emit: EventSink, what: 'fetch' | 'push'): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (what === 'fetch') await archive.fetch(remote, writer);
      else await archive.push(remote, writer);
      return;
    } catch (e) {
      emit({ type: 'sync', writer, remote, ok: false, detail: `${what} failed (attempt ${attempt}): ${errorMessage(e)}` });
      // A failed fetch only delays news; a failed push is retried at the next step too.
      if (attempt >= 3) return;
      await sleep(500 * 2 ** attempt);
    }
  }
}

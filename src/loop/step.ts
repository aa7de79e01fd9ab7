/**
 * The parts of one agent's loop (index.ts runs them in order): open the agent, claim the next
 * piece of work under the budget lock, run the step (an expansion or an evaluation), close.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Archive, type ArchiveNode, type ArchiveSnapshot, type Claim, type Evaluation } from '../archive/index.js';
import { createAgent } from '../agents/index.js';
import type { Config } from '../config/index.js';
import { EvogitError, errorMessage } from '../errors/index.js';
import { git } from '../git/index.js';
import { stopForkServers, useForkServers } from '../proc/index.js';
import { createRng, finalAnswer, policyFor, type Decision, type Rng } from '../scorer/index.js';
import { createSandbox, type Sandbox } from '../sandbox/index.js';
import { DEFAULT_CLAIM_TTL_MS, keepClaimAlive } from './claims.js';
import type { EventSink } from './events.js';
import { expand } from './expand.js';
import { processAlive, withLock } from './lock.js';
import { proposePr, sync } from './share.js';
import { heartbeat, sleep } from './wait.js';
import { keepsPasses, logDirOf, measuredTasks, prepareWork, unmeasuredRootTask, type Work } from './work.js';
import { AgentWorktree } from './worktree.js';
import { cleanDeadWriters, ownerFile, readOwner } from './writers.js';
import { spent } from './budget.js';
import type { AgentLoopOptions, AgentLoopResult } from './types.js';

/** Everything one agent holds from its start to its end. */
export interface AgentState {
  opts: AgentLoopOptions;
  config: Config;
  writer: string;
  signal: AbortSignal | undefined;
  emit: EventSink;
  started: number;
  archive: Archive;
  stateDir: string;
  worktreesDir: string;
  worktree: AgentWorktree;
  lockFile: string;
  sandbox: Sandbox;
  root: string;
  work: Work;
  agent: ReturnType<typeof createAgent>;
  crossover: ReturnType<typeof createAgent> | null;
  policy: ReturnType<typeof policyFor>;
  seed: number;
  rng: Rng;
  ttl: number;
  result: AgentLoopResult;
  /** The best node said so far, and the last one proposed as a PR (the PR rule may still say no). */
  best: string | null;
  proposed: string | null;
  consecutiveErrors: number;
  step: number;
}

/** A piece of work claimed under the lock. */
export interface Claimed {
  decision: Exclude<Decision, { kind: 'done' }>;
  node: ArchiveNode;
  snapshot: ArchiveSnapshot;
  ref: string;
  checkout: Promise<void> | null;
}

export function hashSeed(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * Open the archive with its long-lived git processes, register this writer (cleaning up after
 * local writers that died), and prepare the agent, the sandbox and the tasks.
 */
export async function openAgent(opts: AgentLoopOptions): Promise<AgentState> {
  const { config, writer } = opts;
  // Every event carries the time it was emitted (after the write it reports).
  const emit: EventSink = (e) => opts.emit({ ...e, at: Date.now() });
  const started = Date.now();
  // Long-lived git processes for the claims, nodes and notes written every step (closed in closeAgent).
  const archive = await Archive.open({ repoDir: opts.repoDir, prefix: config.branchPrefix, keepGitOpen: true, trust: config.trust });
  // And the step's short git commands (checkout, add, clean, archive…) through fork servers.
  useForkServers();
  const stateDir = path.join(archive.gitCommonDir, 'evogit');
  const worktreesDir = path.join(stateDir, 'worktrees');
  const worktree = new AgentWorktree(archive.repoDir, archive.gitCommonDir, path.join(worktreesDir, writer));
  const lockFile = path.join(stateDir, 'budget.lock');
  await mkdir(worktreesDir, { recursive: true });
  // A fresh clone has the root and the others' claims only once it fetched the archive refs.
  if (opts.remote) await sync(archive, opts.remote, writer, emit, 'fetch');
  // Register this writer and clean up after every local writer that died (SIGKILL, power
  // loss): its worktree, its claims, and git lock files it left on its own refs.
  await withLock(lockFile, async () => {
    const owner = await readOwner(worktreesDir, writer);
    if (owner !== null && owner !== process.pid && processAlive(owner)) {
      throw new EvogitError('E_WRITER_BUSY', `writer ${writer} is already running here (process ${owner})`, 'Give every agent its own --writer name.');
    }
    await writeFile(ownerFile(worktreesDir, writer), String(process.pid));
    await cleanDeadWriters(archive, worktreesDir, writer, emit);
  });
  archive.holdClaimsDir(writer);

  const sandbox = opts.sandbox ?? createSandbox(config);
  // Containers of evogit processes that died (a SIGKILLed agent) are removed before we start.
  await sandbox.gc().catch((e: unknown) => emit({ type: 'warning', writer, message: `could not clean up old containers: ${errorMessage(e)}` }));
  const root = await archive.root();
  if (!root) throw new EvogitError('E_NOT_INITIALISED', 'this repository has no evogit root', 'Run `evogit init` first (or fetch the archive from the shared remote).');

  const agentKind = opts.agentKind ?? (config.dgm.mode === 'agent' ? 'self' : config.agents.kind);
  const work = await prepareWork({ repoDir: archive.repoDir, root, config, sandbox, agentKind });
  const seed = opts.seed ?? config.scorer.seed ?? Date.now();
  emit({ type: 'start', writer, agent: agentKind, sandbox: sandbox.kind, tasks: work.taskIds.length, time: new Date().toISOString() });
  return {
    opts,
    config,
    writer,
    signal: opts.signal,
    emit,
    started,
    archive,
    stateDir,
    worktreesDir,
    worktree,
    lockFile,
    sandbox,
    root,
    work,
    agent: work.agent,
    crossover: config.agents.crossoverRate > 0 ? createAgent('crossover', config) : null,
    policy: policyFor(config.scorer.policy),
    seed,
    rng: createRng(seed ^ hashSeed(writer)),
    ttl: opts.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS,
    result: { writer, expansions: 0, evaluations: 0, rejected: 0, reason: '' },
    best: null,
    proposed: null,
    consecutiveErrors: 0,
    step: 0,
  };
}

/**
 * Check the budget and claim the next piece of work under the lock, so agents on this machine
 * never start more evaluations than the budget allows: a claim, a reason to stop, or the
 * others' claims to wait for (the rest of the budget is in flight).
 */
export async function claimNext(a: AgentState): Promise<Claimed | { stop: string } | { wait: Claim[] }> {
  const { opts, config, writer, archive, work } = a;
  let report = (): void => undefined;
  const claimed = await withLock(a.lockFile, async (): Promise<Claimed | { stop: string } | { wait: Claim[] }> => {
    const snapshot = await archive.load();
    const used = spent(snapshot);
    const now = Date.now();
    const live = snapshot.claims.filter((c) => c.expires > now && c.writer !== writer);
    const pendingEvals = live.filter((c) => c.kind === 'evaluate').length;
    const pendingExpansions = live.filter((c) => c.kind === 'expand').length;
    // Said once the lock is released (a write to the run's pipe is not for the critical section).
    const budget = { type: 'budget', writer, evaluations: used.evaluations, maxEvaluations: opts.budget.evaluations, expansions: used.expansions, cost: used.cost, elapsedMs: now - a.started } as const;
    report = () => a.emit(budget);
    if (opts.budget.costUsd !== undefined && used.cost >= opts.budget.costUsd) return { stop: 'cost budget spent' };
    if (used.evaluations >= opts.budget.evaluations) return { stop: 'evaluation budget spent' };
    if (used.evaluations + pendingEvals >= opts.budget.evaluations) return { wait: live.filter((c) => c.kind === 'evaluate') };
    const canExpand = opts.budget.expansions === undefined || used.expansions + pendingExpansions < opts.budget.expansions;
    // The root's run of each task first (the time limits of every later run derive from it).
    const baseline = work.measureRootFirst ? unmeasuredRootTask(snapshot, work.taskIds, live) : null;
    const decision: Decision = baseline !== null ? { kind: 'evaluate', node: snapshot.root, task: baseline } : a.policy.decide({
      snapshot,
      tasks: work.measureRootFirst ? measuredTasks(snapshot, work.taskIds) : work.taskIds,
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
      crossover: a.crossover !== null && a.rng.next() < config.agents.crossoverRate,
      rng: a.rng,
    });
    if (decision.kind === 'done') return { stop: decision.reason ?? 'done' };
    const node = snapshot.nodes.find((n) => n.id === decision.node)!;
    // The parent's checkout runs while the claim is written and shared.
    const checkout = decision.kind === 'expand' ? a.worktree.reset(node.id) : null;
    // Handled where it is awaited (in expand); not an unhandled rejection if the claim fails first.
    checkout?.catch(() => undefined);
    const ref = await archive.putClaim({
      writer,
      node: node.id,
      kind: decision.kind,
      ...(decision.kind === 'evaluate' ? { task: decision.task } : {}),
      expires: now + a.ttl,
    });
    return { decision, node, snapshot, ref, checkout };
  });
  report();
  return claimed;
}

/** Run a claimed step with its claim kept alive and a heartbeat; a reason to stop, or null to go on. */
export async function runStep(a: AgentState, claimed: Claimed): Promise<string | null> {
  a.step++;
  const { decision, node } = claimed;
  const what = { writer: a.writer, node: node.id, kind: decision.kind, ...(decision.kind === 'evaluate' ? { task: decision.task } : {}) };
  const claim = keepClaimAlive(a.archive, claimed.ref, what, a.ttl, a.emit);
  const quiet = heartbeat(a.emit, what);
  try {
    if (decision.kind === 'expand') {
      await expandStep(a, claimed, claim);
      return null;
    }
    return await evaluateStep(a, claimed, decision.task, claim);
  } finally {
    quiet();
    await claim.release();
  }
}

async function expandStep(a: AgentState, claimed: Claimed, claim: ReturnType<typeof keepClaimAlive>): Promise<void> {
  const { decision, node, snapshot } = claimed;
  const { opts, writer } = a;
  const mate = decision.kind === 'expand' ? (decision.mate ?? null) : null;
  a.emit({ type: 'decision', writer, kind: 'expand', node: node.id, ...(mate ? { mate } : {}) });
  const made = await expand({
    claim,
    archive: a.archive,
    tasks: a.work.tasks,
    extraProtected: a.work.extraProtected,
    ...(opts.budget.costUsd !== undefined ? { maxCostUsd: Math.max(0, opts.budget.costUsd - spent(snapshot).cost) } : {}),
    snapshot,
    root: a.root,
    parent: node,
    mate: mate ? snapshot.nodes.find((n) => n.id === mate) : undefined,
    agent: mate && a.crossover ? a.crossover : a.agent,
    agentName: writer,
    worktree: a.worktree,
    checkout: claimed.checkout,
    config: a.config,
    seed: (a.seed + a.step * 7919 + hashSeed(writer)) >>> 0,
    writer,
    signal: a.signal,
  });
  // The agent's leftovers are cleaned away while the next steps run.
  a.worktree.tidy();
  if (made.node) {
    a.result.expansions++;
    a.emit({ type: 'expanded', writer, node: made.node.id, branch: made.node.branch ?? '', parents: made.node.parents, operator: made.node.operator, cost: made.node.cost ?? 0, summary: made.node.subject, agentMs: made.agentMs ?? 0 });
  } else {
    a.result.rejected++;
    a.emit({ type: 'rejected', writer, parent: node.id, reason: made.reason, ...(made.detail ? { detail: made.detail } : {}), ...(made.agentMs !== undefined ? { agentMs: made.agentMs } : {}) });
  }
}

/** Run the task, record the run (releasing the claim in the same write), then say the best node and maybe propose it. */
async function evaluateStep(a: AgentState, claimed: Claimed, task: string, claim: ReturnType<typeof keepClaimAlive>): Promise<string | null> {
  const { node, snapshot } = claimed;
  const { config, writer, signal } = a;
  a.emit({ type: 'decision', writer, kind: 'evaluate', node: node.id, task });
  const evaluation: Evaluation = await a.work.evaluate({ node: node.id, task, writer, logDir: logDirOf(a.stateDir, node.id), snapshot, ...(signal ? { signal } : {}) });
  if (signal?.aborted && evaluation.outcome === 'error') return 'stopped';
  await claim.handOver((ref) => a.archive.appendEvaluations(writer, [evaluation], { releaseClaim: ref }));
  a.result.evaluations++;
  a.emit({
    type: 'evaluated',
    writer,
    node: node.id,
    task,
    outcome: evaluation.outcome,
    durationMs: evaluation.durationMs,
    ...(evaluation.tests ? { tests: { passed: evaluation.tests.passed, total: evaluation.tests.total } } : {}),
  });
  a.consecutiveErrors = evaluation.outcome === 'error' ? a.consecutiveErrors + 1 : 0;
  if (a.consecutiveErrors >= 5) return `the sandbox failed 5 times in a row (last: ${evaluation.reason ?? 'unknown'}); fix it and run again to resume`;
  if (a.consecutiveErrors > 0) await sleep(Math.min(30_000, 1000 * 2 ** a.consecutiveErrors), signal);
  // The snapshot taken under the lock plus this evaluation: no second load per step.
  const current = withEvaluation(snapshot, evaluation);
  const answer = finalAnswer(current, { epsilon: config.scorer.epsilon, evidence: config.test.evidence });
  if (answer && answer.node !== a.best) {
    a.best = answer.node;
    const bestNode = snapshot.nodes.find((n) => n.id === answer.node);
    a.emit({ type: 'best', writer, node: answer.node, branch: bestNode?.branch ?? null, passRate: answer.ns / Math.max(1, answer.ns + answer.nf), quantile: answer.quantile });
  }
  if (answer && answer.node !== a.proposed && answer.node !== a.root && config.forge.auto && config.forge.repo && process.env.GITHUB_TOKEN) {
    a.proposed = answer.node;
    // forge.minimize re-runs the node's passed tasks on smaller changes (runs outside the budget, not recorded).
    const validate = config.forge.minimize ? keepsPasses(a.work, current, answer.node, { writer, logDirOf: (c) => logDirOf(a.stateDir, c), ...(signal ? { signal } : {}) }) : undefined;
    await proposePr(a.archive, answer.node, config, writer, a.emit, validate);
  }
  return null;
}

/** Share the last step and the released claims, and leave nothing behind (a stop returns mid-step). */
export async function closeAgent(a: AgentState): Promise<void> {
  const { opts, writer, emit, archive } = a;
  if (opts.remote) await sync(archive, opts.remote, writer, emit, 'push');
  await a.work.close().catch((e: unknown) => emit({ type: 'warning', writer, message: `could not stop the LLM proxy: ${errorMessage(e)}` }));
  await a.worktree.remove();
  archive.releaseClaimsDir(writer);
  await rm(ownerFile(a.worktreesDir, writer), { force: true });
  // Containers of agents that died while this one ran.
  await a.sandbox.gc().catch((e: unknown) => emit({ type: 'warning', writer, message: `could not clean up old containers: ${errorMessage(e)}` }));
  // Auto-gc is off inside the loop (see agentCommand); pack here, in the foreground, once.
  await archive.close();
  await stopForkServers();
  await git(archive.repoDir, ['-c', 'gc.autoDetach=false', 'gc', '--auto', '--quiet'], { reject: false });
  emit({ type: 'done', writer, reason: a.result.reason || 'stopped' });
}

/**
 * The snapshot with one more evaluation line, as the next load would show it (the log tail
 * left out, the graded-run count updated). Copies: the archive's snapshot is shared.
 */
function withEvaluation(snapshot: ArchiveSnapshot, evaluation: Evaluation): ArchiveSnapshot {
  const line: Evaluation = { ...evaluation };
  delete line.log;
  const evaluations = new Map(snapshot.evaluations);
  evaluations.set(line.node, [...(evaluations.get(line.node) ?? []), line]);
  const graded = line.outcome === 'error' ? 0 : 1;
  return { ...snapshot, evaluations, ...(snapshot.gradedRuns !== undefined ? { gradedRuns: snapshot.gradedRuns + graded } : {}) };
}


/**
 * One independent agent: refresh the archive → ask the scorer → expand or evaluate → write
 * only its own refs → until the run's budget, counted from the archive, is spent.
 * Agents never talk to each other; git (and, on one machine, a budget lock file) is all
 * they share.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Archive, thisHost, type ArchiveNode, type ArchiveSnapshot, type Claim, type Evaluation } from '../archive/index.js';
import { createAgent } from '../agents/index.js';
import type { AgentInput } from '../agents/types.js';
import { parseDuration, type Config } from '../config/index.js';
import { stopForkServers, useForkServers } from '../proc/index.js';
import { EvogitError, InfraError, errorMessage } from '../errors/index.js';
import { git } from '../git/index.js';
import { openPr } from '../forge/index.js';
import { verifyNode } from './verify.js';
import { betaQuantile, createRng, finalAnswer, policyFor, type Decision } from '../scorer/index.js';
import { createSandbox, type Sandbox } from '../sandbox/index.js';
import { changedFiles } from '../git/reads.js';
import { protectedPatterns, tamperedPaths } from '../tasks/index.js';
import type { TaskSpec } from '../tasks/types.js';
import type { EventSink } from './events.js';
import { killProcessesIn, processAlive, withLock } from './lock.js';
import { awaitedOf, heartbeat, othersFinishTheBudget, sleep, waitKey } from './wait.js';
import { keepsPasses, logDirOf, measuredTasks, prepareWork, unmeasuredRootTask } from './work.js';

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
  /**
   * How long a claim lives before other agents ignore it (a dead agent's claim). A live agent
   * renews its claim every third of this while it works, so a short TTL is safe.
   */
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
  // Every graded run in the notes counts, a pruned node's too: pruning never gives budget back.
  let evaluations = snapshot.gradedRuns ?? 0;
  if (snapshot.gradedRuns === undefined) for (const lines of snapshot.evaluations.values()) for (const e of lines) if (e.outcome !== 'error') evaluations++;
  let cost = 0;
  // An untrusted node (screen.ts) spends nothing: forged trailers never move the budget.
  for (const n of snapshot.nodes) if (n.untrusted === undefined) cost += n.cost ?? 0;
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

/** Waiting for others' work in flight: the first look again, and the longest pause between looks. */
const WAIT_FIRST_MS = 20;
const WAIT_MAX_MS = 500;

function hashSeed(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export async function runAgentLoop(opts: AgentLoopOptions): Promise<AgentLoopResult> {
  const { config, writer, signal } = opts;
  // Every event carries the time it was emitted (after the write it reports).
  const emit: EventSink = (e) => opts.emit({ ...e, at: Date.now() });
  const started = Date.now();
  // Long-lived git processes for the claims, nodes and notes written every step (closed below).
  const archive = await Archive.open({ repoDir: opts.repoDir, prefix: config.branchPrefix, keepGitOpen: true, trust: config.trust });
  // And the step's short git commands (checkout, add, clean, archive…) through fork servers.
  useForkServers();
  const repoDir = archive.repoDir;
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
  const work = await prepareWork({ repoDir, root, config, sandbox, agentKind });
  const agent = work.agent;
  const crossover = config.agents.crossoverRate > 0 ? createAgent('crossover', config) : null;
  const policy = policyFor(config.scorer.policy);
  const seed = opts.seed ?? config.scorer.seed ?? Date.now();
  const rng = createRng(seed ^ hashSeed(writer));
  const ttl = opts.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS;
  emit({ type: 'start', writer, agent: agentKind, sandbox: sandbox.kind, tasks: work.taskIds.length, time: new Date().toISOString() });

  const result: AgentLoopResult = { writer, expansions: 0, evaluations: 0, rejected: 0, reason: '' };
  const finish = (reason: string): AgentLoopResult => {
    result.reason = reason;
    return { ...result };
  };
  let best: string | null = null;
  // The last node this agent asked the forge about (the PR rule may still say no).
  let proposed: string | null = null;
  let consecutiveErrors = 0;
  let step = 0;
  let waitMs = 0;
  let waitingFor = '';

  try {
    for (;;) {
      if (signal?.aborted) return finish('stopped');
      if (opts.budget.timeMs !== undefined && Date.now() - started >= opts.budget.timeMs) return finish('time budget spent');
      if (opts.remote) await sync(archive, opts.remote, writer, emit, 'fetch');

      // Check the budget and claim the next piece of work under the lock, so agents on
      // this machine never start more evaluations than the budget allows.
      let report = (): void => undefined;
      const claimed = await withLock(lockFile, async () => {
        const snapshot = await archive.load();
        const used = spent(snapshot);
        const now = Date.now();
        const live = snapshot.claims.filter((c) => c.expires > now && c.writer !== writer);
        const pendingEvals = live.filter((c) => c.kind === 'evaluate').length;
        const pendingExpansions = live.filter((c) => c.kind === 'expand').length;
        // Said once the lock is released (a write to the run's pipe is not for the critical section).
        const budget = { type: 'budget', writer, evaluations: used.evaluations, maxEvaluations: opts.budget.evaluations, expansions: used.expansions, cost: used.cost, elapsedMs: now - started } as const;
        report = () => emit(budget);
        if (opts.budget.costUsd !== undefined && used.cost >= opts.budget.costUsd) return { stop: 'cost budget spent' } as const;
        if (used.evaluations >= opts.budget.evaluations) return { stop: 'evaluation budget spent' } as const;
        if (used.evaluations + pendingEvals >= opts.budget.evaluations) return { wait: live.filter((c) => c.kind === 'evaluate') } as const;
        const canExpand = opts.budget.expansions === undefined || used.expansions + pendingExpansions < opts.budget.expansions;
        // The root's run of each task first (the time limits of every later run derive from it).
        const baseline = work.measureRootFirst ? unmeasuredRootTask(snapshot, work.taskIds, live) : null;
        const decision: Decision = baseline !== null ? { kind: 'evaluate', node: snapshot.root, task: baseline } : policy.decide({
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
          crossover: crossover !== null && rng.next() < config.agents.crossoverRate,
          rng,
        });
        if (decision.kind === 'done') return { stop: decision.reason } as const;
        const node = snapshot.nodes.find((n) => n.id === decision.node)!;
        // The parent's checkout runs while the claim is written and shared.
        const checkout = decision.kind === 'expand' ? worktree.reset(node.id) : null;
        // Handled where it is awaited (in expand); not an unhandled rejection if the claim fails first.
        checkout?.catch(() => undefined);
        const ref = await archive.putClaim({
          writer,
          node: node.id,
          kind: decision.kind,
          ...(decision.kind === 'evaluate' ? { task: decision.task } : {}),
          expires: now + ttl,
        });
        return { decision, node, snapshot, ref, checkout } as const;
      });

      report();
      if ('stop' in claimed) return finish(claimed.stop ?? 'done');
      if ('ref' in claimed && opts.remote) await sync(archive, opts.remote, writer, emit, 'push');
      if ('wait' in claimed && claimed.wait) {
        // The rest of the budget is others' work in flight. Agents here finish it (or retry
        // their slot): this one's part is done. Others' may be dead: look again soon (it may
        // just be finishing, or fail and free its slot), then less and less often.
        if (othersFinishTheBudget(claimed.wait)) return finish(`the rest of the budget is in flight with ${[...new Set(claimed.wait.map((c) => c.writer))].join(', ')}`);
        const awaited = awaitedOf(claimed.wait);
        const key = waitKey(awaited);
        if (key !== waitingFor) emit({ type: 'waiting', writer, for: awaited });
        waitingFor = key;
        waitMs = Math.min(WAIT_MAX_MS, waitMs ? waitMs * 2 : WAIT_FIRST_MS);
        await sleep(waitMs, signal);
        continue;
      }
      waitMs = 0;
      waitingFor = '';
      step++;
      const { decision, node, snapshot } = claimed;
      const claim = keepClaimAlive(archive, claimed.ref, { writer, node: node.id, kind: decision.kind, ...(decision.kind === 'evaluate' ? { task: decision.task } : {}) }, ttl, emit);
      const quiet = heartbeat(emit, { writer, kind: decision.kind, node: node.id, ...(decision.kind === 'evaluate' ? { task: decision.task } : {}) });
      try {
        if (decision.kind === 'expand') {
          const mate = decision.mate ?? null;
          emit({ type: 'decision', writer, kind: 'expand', node: node.id, ...(mate ? { mate } : {}) });
          const made = await expand({
            claim,
            archive,
            tasks: work.tasks,
            extraProtected: work.extraProtected,
            ...(opts.budget.costUsd !== undefined ? { maxCostUsd: Math.max(0, opts.budget.costUsd - spent(snapshot).cost) } : {}),
            snapshot,
            root,
            parent: node,
            mate: mate ? snapshot.nodes.find((n) => n.id === mate) : undefined,
            agent: mate && crossover ? crossover : agent,
            agentName: writer,
            worktree,
            checkout: claimed.checkout,
            config,
            seed: (seed + step * 7919 + hashSeed(writer)) >>> 0,
            writer,
            signal,
          });
          // The agent's leftovers are cleaned away while the next steps run.
          worktree.tidy();
          if (made.node) {
            result.expansions++;
            emit({ type: 'expanded', writer, node: made.node.id, branch: made.node.branch ?? '', parents: made.node.parents, operator: made.node.operator, cost: made.node.cost ?? 0, summary: made.node.subject, agentMs: made.agentMs ?? 0 });
          } else {
            result.rejected++;
            emit({ type: 'rejected', writer, parent: node.id, reason: made.reason, ...(made.detail ? { detail: made.detail } : {}), ...(made.agentMs !== undefined ? { agentMs: made.agentMs } : {}) });
          }
        } else {
          const task = { id: decision.task };
          emit({ type: 'decision', writer, kind: 'evaluate', node: node.id, task: task.id });
          const evaluation: Evaluation = await work.evaluate({ node: node.id, task: task.id, writer, logDir: logDirOf(stateDir, node.id), snapshot, ...(signal ? { signal } : {}) });
          if (signal?.aborted && evaluation.outcome === 'error') return finish('stopped');
          await claim.handOver((ref) => archive.appendEvaluations(writer, [evaluation], { releaseClaim: ref }));
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
          // The snapshot taken under the lock plus this evaluation: no second load per step.
          const current = withEvaluation(snapshot, evaluation);
          const answer = finalAnswer(current, { epsilon: config.scorer.epsilon, evidence: config.test.evidence });
          if (answer && answer.node !== best) {
            best = answer.node;
            const bestNode = snapshot.nodes.find((n) => n.id === answer.node);
            emit({ type: 'best', writer, node: answer.node, branch: bestNode?.branch ?? null, passRate: answer.ns / Math.max(1, answer.ns + answer.nf), quantile: answer.quantile });
          }
          if (answer && answer.node !== proposed && answer.node !== root && config.forge.auto && config.forge.repo && process.env.GITHUB_TOKEN) {
            proposed = answer.node;
            // forge.minimize re-runs the node's passed tasks on smaller changes (runs outside the budget, not recorded).
            const validate = config.forge.minimize ? keepsPasses(work, current, answer.node, { writer, logDirOf: (c) => logDirOf(stateDir, c), ...(signal ? { signal } : {}) }) : undefined;
            await proposePr(archive, answer.node, config, writer, emit, validate);
          }
        }
      } finally {
        quiet();
        await claim.release();
      }
      if (opts.remote) await sync(archive, opts.remote, writer, emit, 'push');
    }
  } finally {
    // Share the last step and the released claims before leaving (a stop returns mid-step).
    if (opts.remote) await sync(archive, opts.remote, writer, emit, 'push');
    await work.close().catch((e: unknown) => emit({ type: 'warning', writer, message: `could not stop the LLM proxy: ${errorMessage(e)}` }));
    await worktree.remove();
    archive.releaseClaimsDir(writer);
    await rm(ownerFile(worktreesDir, writer), { force: true });
    // Containers of agents that died while this one ran.
    await sandbox.gc().catch((e: unknown) => emit({ type: 'warning', writer, message: `could not clean up old containers: ${errorMessage(e)}` }));
    // Auto-gc is off inside the loop (see agentCommand); pack here, in the foreground, once.
    await archive.close();
    await stopForkServers();
    await git(repoDir, ['-c', 'gc.autoDetach=false', 'gc', '--auto', '--quiet'], { reject: false });
    emit({ type: 'done', writer, reason: result.reason || 'stopped' });
  }
}

interface ExpandRequest {
  archive: Archive;
  /** Released in the transaction that creates the node. */
  claim: ClaimHolder;
  tasks: TaskSpec[];
  extraProtected: string[];
  /** What is left of the archive's money budget: no single proposal may spend more. */
  maxCostUsd?: number;
  snapshot: ArchiveSnapshot;
  root: string;
  parent: ArchiveNode;
  mate: ArchiveNode | undefined;
  agent: ReturnType<typeof createAgent>;
  agentName: string;
  worktree: AgentWorktree;
  /** The parent's checkout into the worktree, already under way (worktree.reset). */
  checkout: Promise<void> | null;
  config: Config;
  seed: number;
  writer: string;
  signal?: AbortSignal;
}

async function expand(req: ExpandRequest): Promise<({ node: ArchiveNode; reason?: undefined; detail?: undefined } | { node: null; reason: string; detail?: string }) & { agentMs?: number }> {
  const { archive, snapshot, parent } = req;
  const repoDir = archive.repoDir;
  const worktree = req.worktree.dir;
  await (req.checkout ?? req.worktree.reset(parent.id));
  // Only failing runs' logs reach the agent: no note blob to read when the snapshot shows none.
  const evaluations = (snapshot.evaluations.get(parent.id) ?? []).some((e) => e.outcome === 'fail') ? await archive.evaluationLogs(parent.id) : [];
  const input: AgentInput = {
    worktree,
    parent,
    ...(req.mate ? { mate: req.mate } : {}),
    goal: req.config.goal,
    failingLogs: evaluations.filter((e) => e.outcome === 'fail').map((e) => ({ task: e.task, log: e.log ?? '' })),
    lineage: lineageNotes(snapshot, parent),
    archive: snapshot,
    // Crossover takes each conflicting hunk from the better of the two parents.
    passRates: Object.fromEntries([parent, ...(req.mate ? [req.mate] : [])].map((n) => [n.id, passRate(snapshot, n.id)])),
    budget: req.maxCostUsd !== undefined ? { maxCostUsd: req.maxCostUsd } : {},
    seed: req.seed,
    config: req.config,
    transcriptDir: path.join(archive.gitCommonDir, 'evogit', 'transcripts', `${req.writer}-${Date.now()}`),
    ...(req.signal ? { signal: req.signal } : {}),
  };
  const agentStarted = performance.now();
  const out = await req.agent.propose(input);
  const agentMs = Math.round(performance.now() - agentStarted);
  if (out.outcome !== 'edited') return { node: null, reason: out.outcome, detail: out.reason, agentMs };

  await git(worktree, ['add', '--all']);
  // The index's tree, computed in-process from the index git add just wrote (git write-tree when unsure).
  const tree = await archive.git.writeTree(worktree);
  if (tree === parent.tree) return { node: null, reason: 'empty edit', agentMs };
  const twin = snapshot.nodes.find((n) => n.tree === tree);
  if (twin) return { node: null, reason: 'duplicate', detail: `same tree as ${twin.branch ?? twin.id.slice(0, 12)}`, agentMs };
  // The paths `git diff --name-only --no-renames root tree` lists, walked over the kept-open
  // cat-file when the edit is small (no process); git itself for large ones and gitlinks.
  const changed = (await archive.git.diffTrees(`${req.root}^{tree}`, tree))?.map((c) => c.path) ?? (await changedFiles(repoDir, req.root, tree));
  const touched = tamperedPaths(changed, [...protectedPatterns(req.config.test.protected, req.tasks), ...req.extraProtected]);
  if (touched.length > 0) return { node: null, reason: 'protected paths touched', detail: touched.slice(0, 5).join(', '), agentMs };

  // The parent may have been pruned (`git branch -D`) while the agent worked: the node's branch
  // is created only if the parent's still points at it (same ref transaction), else no child.
  const written = await req.claim
    .handOver((claimRef) =>
      archive.writeNode({
        writer: req.writer,
        parents: [parent.id, ...(out.extraParents ?? [])],
        tree,
        message: out.message,
        agent: req.agentName,
        operator: out.operator,
        ...(out.model ? { model: out.model } : {}),
        ...(out.cost ? { cost: out.cost } : {}),
        ...(parent.branch ? { parentBranch: parent.branch } : {}),
        releaseClaim: claimRef,
      }),
    )
    .catch((e: unknown) => {
      if (e instanceof EvogitError && e.code === 'E_PARENT_PRUNED') return e;
      throw e;
    });
  if (written instanceof EvogitError) return { node: null, reason: 'parent pruned', detail: written.message, agentMs };
  return { node: written, agentMs };
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

/** A node's share of passed task runs (errors left out), or null before any. */
function passRate(snapshot: ArchiveSnapshot, id: string): number | null {
  const lines = (snapshot.evaluations.get(id) ?? []).filter((e) => e.outcome !== 'error');
  return lines.length ? lines.filter((e) => e.outcome === 'pass').length / lines.length : null;
}

/** What siblings and ancestors tried and how it scored: short lines the agent can use. */
function lineageNotes(snapshot: ArchiveSnapshot, parent: ArchiveNode): AgentInput['lineage'] {
  const byId = new Map(snapshot.nodes.map((n) => [n.id, n]));
  const rate = (id: string) => passRate(snapshot, id);
  const notes: AgentInput['lineage'] = [];
  for (let n: ArchiveNode | undefined = parent; n && notes.length < 8; n = byId.get(n.parents[0] ?? '')) {
    notes.push({ node: n.id, operator: n.operator, summary: n.subject, passRate: rate(n.id) });
  }
  for (const s of snapshot.nodes.filter((n) => n.parents[0] === parent.id).slice(-8)) {
    notes.push({ node: s.id, operator: s.operator, summary: s.subject, passRate: rate(s.id) });
  }
  return notes;
}

/**
 * The writer's one worktree, reused from expansion to expansion. After each expansion what
 * the agent left outside the index (untracked and ignored files, nested repositories) is
 * removed in the background while the loop goes on to its next steps; the next expansion
 * then only checks out its parent, which with --force also undoes every change to the index
 * and the tracked files (staged new files included).
 */
class AgentWorktree {
  private tidying: Promise<boolean> | null = null;
  private resetting: Promise<void> = Promise.resolve();

  constructor(
    readonly repoDir: string,
    readonly gitCommonDir: string,
    readonly dir: string,
  ) {}

  /**
   * Put the worktree at `commit`, exactly as a fresh `worktree add --detach` would leave it: a
   * healthy worktree tidied after the last expansion needs one checkout; one not tidied (the
   * first, or a tidy that failed) a clean and a checkout; anything doubtful is made afresh.
   */
  reset(commit: string): Promise<void> {
    const done = this.resetNow(commit);
    // Whoever started it awaits it; remove() waits for it too, whatever the outcome.
    this.resetting = done.catch(() => undefined);
    return done;
  }

  private async resetNow(commit: string): Promise<void> {
    const tidy = await this.settle();
    if (isOurWorktree(this.gitCommonDir, this.dir)) {
      // clean -ffdx removes untracked and ignored files and nested repositories; then
      // checkout --force drops edits, staged files and a merge in progress: nothing of the
      // last agent's work is left.
      const clean = tidy || (await git(this.dir, ['clean', '-ffdxq'], { reject: false })).exitCode === 0;
      if (clean && (await git(this.dir, ['checkout', '--quiet', '--detach', '--force', commit], { reject: false })).exitCode === 0) return;
    }
    await removeWorktree(this.repoDir, this.dir);
    await git(this.repoDir, ['worktree', 'add', '--detach', '--force', this.dir, commit]);
  }

  /** Remove (in the background) what the agent left outside the index; the next reset's checkout does the rest. */
  tidy(): void {
    const last = this.tidying ?? Promise.resolve(false);
    this.tidying = last.then(async () => {
      if (!isOurWorktree(this.gitCommonDir, this.dir)) return false;
      return (await git(this.dir, ['clean', '-ffdxq'], { reject: false }).catch(() => null))?.exitCode === 0;
    });
  }

  /** Wait for a tidy under way; whether it left the worktree clean. */
  async settle(): Promise<boolean> {
    const t = this.tidying;
    this.tidying = null;
    return t ? t.catch(() => false) : false;
  }

  async remove(): Promise<void> {
    await this.resetting;
    await this.settle();
    await removeWorktree(this.repoDir, this.dir);
  }
}

/**
 * Is `dir` a complete linked worktree of this repository (its .git file names an admin dir
 * under .git/worktrees/ that names it back, no add left half-done, no rebase or bisect in
 * progress)? A few file reads, synchronous (microseconds): no git process.
 */
function isOurWorktree(gitCommonDir: string, dir: string): boolean {
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return null;
    }
  };
  const dotGit = path.join(dir, '.git');
  const link = /^gitdir: (.+)$/m.exec(read(dotGit))?.[1]?.trim();
  if (!link) return false;
  const admin = path.resolve(dir, link);
  const home = real(path.join(gitCommonDir, 'worktrees'));
  if (home === null || real(path.dirname(admin)) !== home) return false;
  const back = read(path.join(admin, 'gitdir')).trim();
  if (!back || real(path.resolve(admin, back)) !== real(dotGit)) return false;
  return !['locked', 'rebase-merge', 'rebase-apply', 'BISECT_LOG'].some((f) => existsSync(path.join(admin, f)));
}

/** The real path of `p` (as /proc shows working directories), or `p` itself when it does not exist. */
function realpathOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

async function removeWorktree(repoDir: string, worktree: string): Promise<void> {
  // Twice --force: a `worktree add` killed midway leaves the worktree locked ("initializing").
  await git(repoDir, ['worktree', 'remove', '--force', '--force', worktree], { reject: false });
  await rm(worktree, { recursive: true, force: true });
  await git(repoDir, ['worktree', 'prune'], { reject: false });
}

/**
 * Open (or update) the pull request of the best node when the PR rule holds. Idempotent, and
 * an API failure is only a warning: the run goes on and the node stays in the archive.
 */
async function proposePr(archive: Archive, node: string, config: Config, writer: string, emit: EventSink, validate?: (commit: string) => Promise<boolean>): Promise<void> {
  try {
    // Never a PR on other writers' word alone: their passes are re-run here first (trust.verify).
    if (config.trust.verify) {
      const v = await verifyNode({ archive, config, node });
      if (!v.verified) {
        emit({ type: 'warning', writer, message: `no pull request for ${node.slice(0, 12)}: re-run here, ${v.reran.filter((r) => r.outcome !== 'pass').map((r) => `${r.task} ${r.outcome}`).join(', ')}${v.disputed.length ? ` (disputes ${v.disputed.map((d) => d.writer).join(', ')})` : ''}` });
        return;
      }
    }
    const result = await openPr({
      ...(validate ? { validate } : {}),
      repoDir: archive.repoDir,
      snapshot: await archive.load(),
      node,
      forge: config.forge,
      protectedPaths: config.test.protected,
      epsilon: config.scorer.epsilon,
      quantile: (a, b, p) => betaQuantile(p, a, b),
      logs: (id: string) => archive.evaluationLogs(id),
    });
    if (result.action !== 'skipped') emit({ type: 'pr', writer, node, action: result.action, ...(result.number !== undefined ? { number: result.number } : {}), ...(result.url ? { url: result.url } : {}) });
  } catch (e) {
    emit({ type: 'warning', writer, message: `could not open a pull request for ${node.slice(0, 12)}: ${errorMessage(e)}` });
  }
}

async function sync(archive: Archive, remote: string, writer: string, emit: EventSink, what: 'fetch' | 'push'): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (what === 'fetch') {
        const { ignored } = await archive.fetch(remote, writer, { localWriters: await localWriters(archive) });
        // A ref the remote rewrote (not a fast-forward of ours): kept as it is here, and said.
        if (ignored.length) emit({ type: 'warning', writer, message: `${remote} rewrote ${ignored.length} archive ref(s), kept as they are here: ${ignored.slice(0, 3).join(', ')}${ignored.length > 3 ? ', …' : ''}` });
      } else await archive.push(remote, writer);
      return;
    } catch (e) {
      // The user's to fix (a remote in another object format): retrying cannot help.
      if (e instanceof EvogitError && !(e instanceof InfraError)) throw e;
      emit({ type: 'sync', writer, remote, ok: false, detail: `${what} failed (attempt ${attempt}): ${errorMessage(e)}` });
      // A failed fetch only delays news; a failed push is retried at the next step too.
      if (attempt >= 3) return;
      await sleep(500 * 2 ** attempt);
    }
  }
}

/** Claims live a minute; a working agent renews its claim every 20 s (heartbeat). */
export const DEFAULT_CLAIM_TTL_MS = 60_000;

/**
 * Renew a claim every ttl/3 while the work runs, so a short TTL frees a dead agent's slots
 * soon while a slow evaluation stays claimed. The new claim is written before the old one is
 * released: other agents may count it twice for a moment (they wait), never zero times.
 */
function keepClaimAlive(archive: Archive, first: string, claim: Omit<Claim, 'expires'>, ttl: number, emit: EventSink): ClaimHolder {
  let ref = first;
  let released = false;
  let chain: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    chain = chain.then(async () => {
      try {
        const next = await archive.putClaim({ ...claim, expires: Date.now() + ttl });
        await archive.releaseClaim(ref);
        ref = next;
      } catch (e) {
        emit({ type: 'warning', writer: claim.writer, message: `could not renew a claim: ${errorMessage(e)}` });
      }
    });
  }, Math.max(1000, Math.floor(ttl / 3)));
  const settle = async () => {
    clearInterval(timer);
    await chain;
    return ref;
  };
  return {
    handOver: async (write) => {
      const out = await write(await settle());
      released = true;
      return out;
    },
    release: async () => {
      await settle();
      if (!released) await archive.releaseClaim(ref);
      released = true;
    },
  };
}

interface ClaimHolder {
  /**
   * Stop renewing and let `write` delete the claim ref in the same ref transaction as the
   * step's result (others never see both the claim and what it produced).
   */
  handOver<T>(write: (ref: string) => Promise<T>): Promise<T>;
  /** Stop renewing and delete the claim, unless a handOver already did. */
  release(): Promise<void>;
}

const ownerFile = (worktreesDir: string, writer: string) => path.join(worktreesDir, `${writer}.pid`);

/** The writers registered in this repository (the agents of a run here): a fetch never takes the remote's copy of their refs. */
async function localWriters(archive: Archive): Promise<string[]> {
  const entries = await readdir(path.join(archive.gitCommonDir, 'evogit', 'worktrees')).catch(() => [] as string[]);
  return entries.filter((e) => e.endsWith('.pid')).map((e) => e.slice(0, -4));
}

async function readOwner(worktreesDir: string, writer: string): Promise<number | null> {
  const text = await readFile(ownerFile(worktreesDir, writer), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/**
 * Clean up after local writers whose process is gone (called under the budget lock, with this
 * writer already registered): their worktree, their claims, the lock files git left on their
 * refs when killed mid-update (a stale refs/notes/evogit/<w>.lock would fail every later
 * evaluation of that writer), and their temporary refs.
 */
async function cleanDeadWriters(archive: Archive, worktreesDir: string, me: string, emit: EventSink): Promise<void> {
  const entries = await readdir(worktreesDir);
  const writers = new Set<string>([me]);
  for (const e of entries) writers.add(e.endsWith('.pid') ? e.slice(0, -4) : e);
  const dead: string[] = [];
  for (const w of writers) {
    const owner = w === me ? null : await readOwner(worktreesDir, w);
    if (owner !== null && processAlive(owner)) continue;
    dead.push(w);
    // What its agent CLI left running there (a SIGKILLed agent does not end that group).
    const leftovers = killProcessesIn(realpathOr(path.join(worktreesDir, w)));
    if (leftovers.length) emit({ type: 'warning', writer: me, message: `ended ${leftovers.length} process(es) left running in the worktree of stopped writer ${w}` });
    await removeWorktree(archive.repoDir, path.join(worktreesDir, w));
    if (w !== me) await rm(ownerFile(worktreesDir, w), { force: true });
  }
  const deadSet = new Set(dead);
  // Also any claim written on this machine by a process that is gone: a writer whose worktree
  // was already cleaned up can still leave one (a write the killed agent had just handed to
  // its long-lived git process lands a moment after it died).
  const here = thisHost();
  const orphaned = (c: Claim) => c.host === here && typeof c.pid === 'number' && c.pid !== process.pid && !processAlive(c.pid);
  const claims = (await archive.load()).claims.filter((c) => c.ref && (deadSet.has(c.writer) || orphaned(c)));
  for (const c of claims) await archive.releaseClaim(c.ref as string);
  const gitDir = archive.gitDir;
  for (const w of dead) {
    for (const dir of [path.join(gitDir, 'refs', 'heads', archive.prefix, w), path.join(gitDir, 'refs', 'evogit', 'claims', w)]) {
      for (const f of await readdir(dir).catch(() => [] as string[])) if (f.endsWith('.lock')) await rm(path.join(dir, f), { force: true });
    }
    await rm(path.join(gitDir, 'refs', 'notes', 'evogit', `${w}.lock`), { force: true });
    if (w !== me) archive.releaseClaimsDir(w);
  }
  const tmp = (await git(archive.repoDir, ['for-each-ref', '--format=%(refname)', 'refs/evogit/tmp/'])).stdout.split('\n').filter(Boolean);
  for (const ref of tmp) {
    const m = /^refs\/evogit\/tmp\/notes-(.+)-(\d+)-[0-9a-f]+$/.exec(ref);
    if (m && !processAlive(Number(m[2]))) await git(archive.repoDir, ['update-ref', '-d', ref], { reject: false });
  }
  if (claims.length || dead.length > 1) emit({ type: 'warning', writer: me, message: `cleaned up after stopped writers ${dead.filter((w) => w !== me).join(', ') || me}: ${claims.length} stale claims released` });
}

/**
 * A DGM-mode driver over the real Archive and scorer: refresh → the scorer decides → expand a
 * node with the `self` agent, or evaluate it on one task of the suite's search split → write
 * own refs. The general loop (src/loop) gets the same two calls wired in; this driver is the
 * reference and what the tests run. Also the final report on the held-out split.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Archive, type ArchiveNode, type ArchiveSnapshot, type Evaluation } from '../../archive/index.js';
import { CONFIG_FILE, type Config } from '../../config/index.js';
import { EvogitError } from '../../errors/index.js';
import { git } from '../../git/index.js';
import type { Sandbox } from '../../sandbox/index.js';
import { betaQuantile, createRng, finalAnswer, policyFor, posterior, type Decision } from '../../scorer/index.js';
import { SUITES_DIR, evaluationTaskId, loadSuite, tasksOf, type Split, type SuiteManifest } from '../../suites/index.js';
import { matchesAny } from '../../tasks/index.js';
import type { ChatModel } from '../llm/index.js';
import type { AgentInput } from '../types.js';
import { createSelfAgent } from './agent.js';
import { evaluateAgentOnTask } from './evaluate.js';
import type { AgentLlm } from './program.js';

export type DgmEvent =
  | { type: 'decision'; decision: Decision }
  | { type: 'expanded'; node: string; parent: string; subject: string }
  | { type: 'rejected'; parent: string; reason: string }
  | { type: 'evaluated'; node: string; task: string; outcome: Evaluation['outcome']; reason?: string };

export interface DgmRunOptions {
  repoDir: string;
  config: Config;
  writer: string;
  sandbox: Sandbox;
  llm: AgentLlm;
  chat: ChatModel;
  /** Default: config.dgm.suite. */
  suite?: { name: string; split: Split };
  budget: { evaluations: number; expansions?: number };
  seed?: number;
  emit?: (event: DgmEvent) => void;
  signal?: AbortSignal;
}

export interface DgmRunResult {
  expansions: number;
  evaluations: number;
  rejected: number;
  reason: string;
  /** It ended before its budget for a reason other than the budget (the CLI exits non-zero). */
  stoppedEarly: boolean;
}

/** The suite the config names, or a usage error that says how to name one. */
export function suiteOf(config: Config, override?: { name: string; split: Split }): { name: string; split: Split } {
  const s = override ?? config.dgm.suite;
  if (!s) throw new EvogitError('E_NO_SUITE', 'agent mode needs a task suite', 'Set dgm.suite.name in evogit.yml (see `evogit tasks list`).');
  return s;
}

/** Paths a self-edit may never change: the suites, the config. */
export const AGENT_PROTECTED = [`${SUITES_DIR}/**`, '.evogit/**', CONFIG_FILE];

/** The node's failed runs with their log tails (read from the notes: snapshots leave the logs out). */
async function failingLogs(archive: Archive, node: string): Promise<AgentInput['failingLogs']> {
  return (await archive.evaluationLogs(node)).filter((e) => e.outcome === 'fail').map((e) => ({ task: e.task, log: e.log ?? '' }));
}

/** Expand one agent node with the `self` agent; the new node, or why not. */
export async function expandAgentNode(req: {
  archive: Archive;
  snapshot: ArchiveSnapshot;
  parent: ArchiveNode;
  config: Config;
  writer: string;
  sandbox: Sandbox;
  llm: AgentLlm;
  chat: ChatModel;
  seed: number;
  signal?: AbortSignal;
}): Promise<{ node: ArchiveNode } | { node: null; reason: string }> {
  const { archive, parent } = req;
  const repoDir = archive.repoDir;
  const stateDir = path.join(archive.gitCommonDir, 'evogit');
  const worktree = path.join(stateDir, 'worktrees', `${req.writer}-self`);
  await mkdir(path.dirname(worktree), { recursive: true });
  const drop = async (): Promise<void> => {
    await git(repoDir, ['worktree', 'remove', '--force', worktree], { reject: false });
    await rm(worktree, { recursive: true, force: true });
    await git(repoDir, ['worktree', 'prune'], { reject: false });
  };
  await drop();
  await git(repoDir, ['worktree', 'add', '--detach', '--force', worktree, parent.id]);
  try {
    const agent = createSelfAgent({ sandbox: req.sandbox, llm: req.llm, chat: req.chat });
    const out = await agent.propose({
      worktree,
      parent,
      goal: req.config.goal,
      failingLogs: await failingLogs(archive, parent.id),
      lineage: [],
      budget: {},
      seed: req.seed,
      config: req.config,
      transcriptDir: path.join(stateDir, 'transcripts', `${req.writer}-${Date.now()}`),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    if (out.outcome !== 'edited') return { node: null, reason: `${out.outcome}: ${out.reason ?? ''}` };
    await git(worktree, ['add', '--all']);
    const tree = (await git(worktree, ['write-tree'])).stdout.trim();
    if (tree === parent.tree) return { node: null, reason: 'empty edit' };
    const twin = req.snapshot.nodes.find((n) => n.tree === tree);
    if (twin) return { node: null, reason: `duplicate of ${twin.branch ?? twin.id.slice(0, 12)}` };
    const changed = (await git(repoDir, ['diff', '--name-only', '-z', '--no-renames', parent.tree, tree])).stdout.split('\0').filter(Boolean);
    const touched = changed.filter((f) => matchesAny(f, AGENT_PROTECTED));
    if (touched.length) return { node: null, reason: `protected paths touched: ${touched.join(', ')}` };
    const node = await archive.writeNode({
      writer: req.writer,
      parents: [parent.id],
      tree,
      message: out.message,
      agent: req.writer,
      operator: 'self',
      ...(out.model ? { model: out.model } : {}),
      ...(out.cost ? { cost: out.cost } : {}),
    });
    return { node };
  } finally {
    await drop();
  }
}

export async function runDgm(opts: DgmRunOptions): Promise<DgmRunResult> {
  const { config, writer, emit = () => undefined } = opts;
  const archive = await Archive.open({ repoDir: opts.repoDir, prefix: config.branchPrefix, trust: config.trust });
  const root = await archive.root();
  if (!root) throw new EvogitError('E_NOT_INITIALISED', 'no root node', 'Run `evogit init --template agent` first.');
  const which = suiteOf(config, opts.suite);
  const suite = await loadSuite(archive.repoDir, which.name, root);
  const tasks = tasksOf(suite, which.split);
  if (tasks.length === 0) throw new EvogitError('E_SUITE_EMPTY', `suite ${suite.name} has no ${which.split} task`, 'Import it with other split fractions (--split).');
  const byId = new Map(tasks.map((t) => [evaluationTaskId(suite.name, t.id), t]));
  const policy = policyFor(config.scorer.policy);
  const seed = opts.seed ?? config.scorer.seed ?? 0;
  const rng = createRng(seed);
  const logDir = path.join(archive.gitCommonDir, 'evogit', 'logs');
  const result: DgmRunResult = { expansions: 0, evaluations: 0, rejected: 0, reason: '', stoppedEarly: false };
  for (let step = 0; ; step++) {
    if (opts.signal?.aborted) return { ...result, reason: 'stopped', stoppedEarly: true };
    const snapshot = await archive.load();
    let spent = 0;
    for (const lines of snapshot.evaluations.values()) for (const e of lines) if (e.outcome !== 'error' && byId.has(e.task)) spent++;
    const decision = policy.decide({
      snapshot,
      tasks: [...byId.keys()],
      now: Date.now(),
      writer,
      config: config.scorer,
      // A task is one unit of evidence for an agent: resolved or not.
      evidence: 'tasks',
      budget: { evaluations: opts.budget.evaluations, spentEvaluations: spent, ...(opts.budget.expansions !== undefined ? { expansions: opts.budget.expansions } : {}) },
      rng,
    });
    emit({ type: 'decision', decision });
    if (decision.kind === 'done') return { ...result, reason: decision.reason };
    const node = snapshot.nodes.find((n) => n.id === decision.node)!;
    if (decision.kind === 'expand') {
      const made = await expandAgentNode({ archive, snapshot, parent: node, config, writer, sandbox: opts.sandbox, llm: opts.llm, chat: opts.chat, seed: seed + step, ...(opts.signal ? { signal: opts.signal } : {}) });
      if (made.node) {
        result.expansions++;
        emit({ type: 'expanded', node: made.node.id, parent: node.id, subject: made.node.subject });
      } else {
        result.rejected++;
        emit({ type: 'rejected', parent: node.id, reason: made.reason });
        // Rejections cost no evaluation: bound them so a stubborn agent cannot spin forever.
        if (result.rejected > 3 * (opts.budget.expansions ?? opts.budget.evaluations)) {
          return { ...result, reason: `too many rejected expansions (${result.rejected}; the last: ${made.reason})`, stoppedEarly: true };
        }
      }
    } else {
      const task = byId.get(decision.task)!;
      const evaluation = await evaluateAgentOnTask({ repoDir: archive.repoDir, node: node.id, root, suite, task, config, sandbox: opts.sandbox, llm: opts.llm, writer, logDir: path.join(logDir, node.id), ...(opts.signal ? { signal: opts.signal } : {}) });
      await archive.appendEvaluations(writer, [evaluation]);
      result.evaluations++;
      emit({ type: 'evaluated', node: node.id, task: evaluation.task, outcome: evaluation.outcome, ...(evaluation.reason ? { reason: evaluation.reason } : {}) });
    }
  }
}

/** Held-out evaluations live in their own notes refs, so the scorer never sees them. */
export const HELDOUT_NOTES = 'refs/notes/evogit-heldout';

export async function readHeldOut(repoDir: string, node: string): Promise<Evaluation[]> {
  const refs = (await git(repoDir, ['for-each-ref', '--format=%(refname)', `${HELDOUT_NOTES}/`])).stdout.split('\n').filter(Boolean);
  const out: Evaluation[] = [];
  for (const ref of refs) {
    const r = await git(repoDir, ['notes', `--ref=${ref}`, 'show', node], { reject: false });
    if (r.exitCode !== 0) continue;
    for (const line of r.stdout.split('\n')) if (line.trim()) out.push(JSON.parse(line) as Evaluation);
  }
  return out;
}

async function appendHeldOut(repoDir: string, writer: string, node: string, evals: Evaluation[]): Promise<void> {
  const ref = `${HELDOUT_NOTES}/${writer}`;
  const old = await git(repoDir, ['notes', `--ref=${ref}`, 'show', node], { reject: false });
  const text = `${old.exitCode === 0 ? old.stdout.replace(/\n*$/, '\n') : ''}${evals.map((e) => JSON.stringify(e)).join('\n')}\n`;
  await git(repoDir, ['notes', `--ref=${ref}`, 'add', '-f', '-F', '-', node], { input: text });
}

export interface HeldOutScore {
  node: string;
  branch: string | null;
  /** Evidence on the search split (what the scorer saw). */
  search: { pass: number; fail: number };
  heldOut: { pass: number; fail: number; mean: number; lo: number; hi: number; quantile: number };
}

export interface DgmReport {
  suite: string;
  heldOutTasks: number;
  rule: string;
  best: HeldOutScore;
  root: HeldOutScore;
  /** Posterior mean of the best minus the root's, on the held-out tasks. */
  difference: number;
  /** Held-out runs made now (the rest were already recorded). */
  ran: number;
}

export async function dgmReport(opts: { repoDir: string; config: Config; writer: string; sandbox: Sandbox; llm: AgentLlm; suite?: { name: string; split: Split }; level?: number; signal?: AbortSignal }): Promise<DgmReport> {
  const { config } = opts;
  const archive = await Archive.open({ repoDir: opts.repoDir, prefix: config.branchPrefix, trust: config.trust });
  const root = await archive.root();
  if (!root) throw new EvogitError('E_NOT_INITIALISED', 'no root node', 'Run `evogit init --template agent` first.');
  const which = suiteOf(config, opts.suite);
  const suite: SuiteManifest = await loadSuite(archive.repoDir, which.name, root);
  const heldOut = tasksOf(suite, 'heldout');
  if (heldOut.length === 0) throw new EvogitError('E_NO_HELDOUT', `suite ${suite.name} has no held-out task`, 'Re-import it with a held-out fraction (--split 0.6,0.2,0.2).');
  const snapshot = await archive.load();
  const answer = finalAnswer(snapshot, { epsilon: config.scorer.epsilon, evidence: 'tasks' });
  const searchIds = new Set(tasksOf(suite, which.split).map((t) => evaluationTaskId(suite.name, t.id)));
  let ran = 0;
  const score = async (node: string): Promise<HeldOutScore> => {
    const have = (await readHeldOut(archive.repoDir, node)).filter((e) => e.outcome !== 'error');
    const done = new Set(have.map((e) => e.task));
    const fresh: Evaluation[] = [];
    for (const task of heldOut) {
      if (done.has(evaluationTaskId(suite.name, task.id))) continue;
      const e = await evaluateAgentOnTask({ repoDir: archive.repoDir, node, root, suite, task, config, sandbox: opts.sandbox, llm: opts.llm, writer: opts.writer, logDir: path.join(archive.gitCommonDir, 'evogit', 'logs', node), ...(opts.signal ? { signal: opts.signal } : {}) });
      fresh.push(e);
      ran++;
    }
    if (fresh.length) await appendHeldOut(archive.repoDir, opts.writer, node, fresh);
    // One line per held-out task: the latest graded run.
    const latest = new Map<string, Evaluation>();
    for (const e of [...have, ...fresh]) if (e.outcome !== 'error') latest.set(e.task, e);
    const pass = [...latest.values()].filter((e) => e.outcome === 'pass').length;
    const fail = latest.size - pass;
    const p = posterior(pass, fail, opts.level ?? 0.95);
    const own = (snapshot.evaluations.get(node) ?? []).filter((e) => e.outcome !== 'error' && searchIds.has(e.task));
    return {
      node,
      branch: snapshot.nodes.find((n) => n.id === node)?.branch ?? null,
      search: { pass: own.filter((e) => e.outcome === 'pass').length, fail: own.filter((e) => e.outcome === 'fail').length },
      heldOut: { pass, fail, mean: p.mean, lo: p.lo, hi: p.hi, quantile: betaQuantile(config.scorer.epsilon, 1 + pass, 1 + fail) },
    };
  };
  const rootScore = await score(root);
  const bestScore = answer.node === root ? rootScore : await score(answer.node);
  return { suite: suite.name, heldOutTasks: heldOut.length, rule: answer.rule, best: bestScore, root: rootScore, difference: bestScore.heldOut.mean - rootScore.heldOut.mean, ran };
}

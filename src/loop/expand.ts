/** One expansion: the agent edits its worktree from the parent, and the result becomes a node (or is rejected and says why). */
import path from 'node:path';
import { git } from '../git/index.js';
import type { Archive } from '../archive/index.js';
import { type ArchiveNode, type ArchiveSnapshot } from '../archive/index.js';
import type { createAgent } from '../agents/index.js';
import type { AgentInput } from '../agents/types.js';
import { type Config } from '../config/index.js';
import { EvogitError } from '../errors/index.js';
import { changedFiles } from '../git/reads.js';
import { protectedPatterns, tamperedPaths } from '../tasks/index.js';
import type { TaskSpec } from '../tasks/types.js';
import type { ClaimHolder } from './claims.js';
import { targetTasks } from './targets.js';
import type { AgentWorktree } from './worktree.js';

export interface ExpandRequest {
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

export async function expand(req: ExpandRequest): Promise<({ node: ArchiveNode; reason?: undefined; detail?: undefined } | { node: null; reason: string; detail?: string }) & { agentMs?: number }> {
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
  const edited = (await archive.git.diffTrees(parent.tree, tree))?.map((c) => c.path) ?? (await changedFiles(repoDir, parent.id, tree));
  const targets = targetTasks(snapshot, parent.id, edited);

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
        ...(targets.length > 0 ? { targets } : {}),
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

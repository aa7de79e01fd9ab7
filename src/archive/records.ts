/**
 * What the archive state keeps per commit and per writer: a node's record (what its commit
 * says about itself; the marks come from the refs), a writer's notes and a claim as last read,
 * and the canonical order of nodes (depth, then id).
 */
import type { RawCommit } from '../git/index.js';
import { intern } from './notes.js';
import { parseTargets, trailerProblem } from './screen.js';
import type { ArchiveNode, Claim, Evaluation, Operator } from './types.js';

/** What a commit says about itself; the marks (branch, pruned, promoted) come from the refs. */
export interface NodeRecord extends Omit<ArchiveNode, 'branch' | 'pruned' | 'promoted'> {
  /** The commit carries evogit trailers (so it had a branch of its own once). */
  tracked: boolean;
  /** Longest path from the root: the canonical order is (depth, id). */
  depth: number;
  /** Why the commit's own trailers are not to be believed (screen.ts trailerProblem without the branch). */
  trailerIssue?: string;
}

export interface NotesState {
  tip: string;
  /** Annotated object → parsed lines (an entry, maybe empty, for every note of the writer). */
  evals: Map<string, Evaluation[]>;
  /** Annotated object → lines of its note that were not counted, and the first reason. */
  ignored: Map<string, { count: number; reason: string }>;
}

export interface ClaimState {
  sha: string;
  claim: Claim | null;
}

/** Operators a commit's Evogit-Operator trailer may name; any other commit is a manual node. */
const OPERATORS = new Set<Operator>(['root', 'mutate', 'llm', 'command', 'self', 'crossover', 'manual']);

/** A commit's record: its trailers say who made it and how (none: a manual node). */
export function recordFromCommit(c: RawCommit, isRoot: boolean): NodeRecord {
  const t = c.trailers;
  const op = t['Evogit-Operator'] as Operator | undefined;
  const tracked = t['Evogit-Writer'] !== undefined || t['Evogit-Operator'] !== undefined;
  const rec: NodeRecord = {
    // One string per node id, shared with its children's parents, its notes and its evaluations.
    id: intern(c.id),
    parents: c.parents.map(intern),
    tree: c.tree,
    writer: t['Evogit-Writer'] ?? '',
    agent: t['Evogit-Agent'] ?? '',
    operator: isRoot ? 'root' : op && OPERATORS.has(op) ? op : 'manual',
    time: c.time,
    subject: c.subject,
    tracked: tracked || isRoot,
    depth: 0,
  };
  if (t['Evogit-Model'] !== undefined) rec.model = t['Evogit-Model'];
  const issue = isRoot ? null : trailerProblem(t, null);
  if (issue !== null) rec.trailerIssue = issue;
  const cost = t['Evogit-Cost'] !== undefined ? Number(t['Evogit-Cost']) : NaN;
  if (Number.isFinite(cost) && cost >= 0) rec.cost = cost;
  const targets = parseTargets(t['Evogit-Targets']);
  if (targets) rec.targets = targets;
  return rec;
}

/** The canonical order of nodes: parents before children, ties by id. */
export const byDepthThenId = (a: NodeRecord, b: NodeRecord): number => a.depth - b.depth || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Two lists in the canonical order, merged. */
export function mergeSorted(a: NodeRecord[], b: NodeRecord[]): NodeRecord[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: NodeRecord[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = byDepthThenId(a[i] as NodeRecord, b[j] as NodeRecord) <= 0 ? (a[i++] as NodeRecord) : (b[j++] as NodeRecord);
  while (i < a.length) out[k++] = a[i++] as NodeRecord;
  while (j < b.length) out[k++] = b[j++] as NodeRecord;
  return out;
}

/**
 * What `evogit status` and the HTML report both say of a node, written once. Plain data with no
 * imports: the report's viewer (browser code) reads it too.
 */
export interface NodeIdentity {
  id: string;
  /** Full SHAs; the first is the git first parent, a second one makes the node a crossover. */
  parents: string[];
  branch: string | null;
  writer: string;
  agent: string;
  operator: string;
  pruned: boolean;
  promoted: boolean;
}

/**
 * A node's branch, or where it has none: "(pruned)" once `evogit prune` removed its branch,
 * "(no branch)" for a commit that never had one (made by hand below a branch tip, or merged in).
 */
export function branchName(n: Pick<NodeIdentity, 'branch' | 'pruned'>): string {
  return n.branch ?? (n.pruned ? '(pruned)' : '(no branch)');
}

/** The writer of a node, or "hand" for a commit made by hand that no writer's branch holds. */
export function writerName(n: Pick<NodeIdentity, 'writer'>): string {
  return n.writer || 'hand';
}

/** Who made a node: its agent, else its writer (as writerName). */
export function maker(n: Pick<NodeIdentity, 'agent' | 'writer'>): string {
  return n.agent || writerName(n);
}

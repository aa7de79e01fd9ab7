/**
 * The archive as `evogit status` and the HTML report show it: every node with its own runs,
 * its evidence and its clade's, in one plain structure (`status --json` prints it whole).
 */
import { Archive, ownCounts, type ArchiveNode, type ArchiveSnapshot, type Ignored } from '../archive/index.js';
import { loadConfig } from '../config/index.js';
import { nodeScores, posterior } from '../scorer/index.js';
import type { NodeIdentity } from './node.js';

export interface StatusNode extends NodeIdentity {
  subject: string;
  /** Task runs on this node. */
  own: { pass: number; fail: number; error: number };
  /** This node's own evidence in the scorer's units (test cases, or task runs with test.evidence: tasks). */
  evidence: { pass: number; fail: number };
  clade: { pass: number; fail: number };
  /** Clade-metaproductivity estimate: clade passes / (passes + fails); null without evidence. */
  cmp: number | null;
  /** 95% posterior interval of the clade pass rate, Beta(1+pass, 1+fail). */
  interval: [number, number];
  /** Why the node's own trailers are not believed: never chosen, its runs not counted. */
  untrusted?: string;
}

export interface StatusResult {
  root: string;
  nodes: StatusNode[];
  evaluations: number;
  claims: { writer: string; node: string; kind: string; task?: string }[];
  /** What was read and not counted (other writers' malformed or foreign lines, untrusted nodes, tags and refs). */
  ignored: Ignored[];
}

export function summarise(snapshot: ArchiveSnapshot, mode: 'tests' | 'tasks'): StatusNode[] {
  const scores = nodeScores(snapshot, { mode });
  return snapshot.nodes.map((n: ArchiveNode) => {
    const c = scores.get(n.id)?.clade ?? { ns: 0, nf: 0 };
    const e = scores.get(n.id)?.own ?? { ns: 0, nf: 0 };
    const p = posterior(c.ns, c.nf);
    return {
      id: n.id,
      parents: n.parents,
      branch: n.branch,
      writer: n.writer,
      agent: n.agent,
      operator: n.operator,
      subject: n.subject,
      own: ownCounts(snapshot.evaluations.get(n.id) ?? []),
      evidence: { pass: e.ns, fail: e.nf },
      clade: { pass: c.ns, fail: c.nf },
      cmp: scores.get(n.id)?.cmp ?? null,
      interval: [p.lo, p.hi],
      pruned: n.pruned,
      promoted: n.promoted,
      ...(n.untrusted !== undefined ? { untrusted: n.untrusted } : {}),
    };
  });
}

export async function status(opts: { repoDir: string }): Promise<StatusResult> {
  const config = await loadConfig(opts.repoDir);
  const archive = await Archive.open({ repoDir: opts.repoDir, prefix: config.branchPrefix, trust: config.trust });
  const snapshot = await archive.load();
  const now = Date.now();
  const nodes = summarise(snapshot, config.test.evidence);
  let evaluations = 0;
  for (const lines of snapshot.evaluations.values()) evaluations += lines.length;
  return {
    root: snapshot.root,
    nodes,
    evaluations,
    claims: snapshot.claims.filter((c) => c.expires > now).map(({ writer, node, kind, task }) => ({ writer, node, kind, ...(task ? { task } : {}) })),
    ignored: snapshot.ignored ?? [],
  };
}

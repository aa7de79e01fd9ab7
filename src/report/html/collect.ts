/**
 * Reads everything a report shows: the archive through the archive module (the same snapshot
 * and the same per-node figures as `evogit status`), commit messages and patches, log tails,
 * and the root's text of touched files. A ReportSource keeps what never changes (a commit's
 * message and patch, the root's files) and what has not changed (a node's lines), so a report
 * rewritten during a run reads only what is new.
 */
import path from 'node:path';
import type { Archive, ArchiveSnapshot, Evaluation } from '../../archive/index.js';
import { summarise } from '../status.js';
import type { Config } from '../../config/index.js';
import { betaQuantile, finalAnswer, posterior } from '../../scorer/index.js';
import { PATCH_MAX_BYTES, commitPatches, patchPaths, rootTexts, type CommitPatch } from './commits.js';
import { REPORT_FORMAT, type ReportData, type ReportEvaluation, type ReportNode } from './data.js';
import { timeline } from './timeline.js';

export class ReportSource {
  private readonly commits = new Map<string, CommitPatch>();
  /** The root's side of each touched path: its text, 'unreadable' (binary or too large), or 'absent'. */
  private readonly rootFiles = new Map<string, string | { unreadable: boolean }>();
  private readonly logs = new Map<string, { count: number; lines: Evaluation[] }>();
  private root = '';

  constructor(
    readonly archive: Archive,
    readonly config: Config,
  ) {}

  async collect(): Promise<ReportData> {
    const snapshot = await this.archive.load();
    if (snapshot.root !== this.root) {
      this.root = snapshot.root;
      this.rootFiles.clear();
    }
    await this.readCommits(snapshot);
    await this.readLogs(snapshot);
    const { texts, unreadable } = await this.readRootFiles(snapshot);
    const mode = this.config.test.evidence;
    const epsilon = this.config.scorer.epsilon;
    const index = new Map(snapshot.nodes.map((n, i) => [n.id, i]));
    const nodes = summarise(snapshot, mode).map((s, i): ReportNode => {
      const n = snapshot.nodes[i]!;
      const commit = this.commits.get(n.id);
      const lines = this.logs.get(n.id)?.lines ?? [];
      const own = posterior(s.evidence.pass, s.evidence.fail);
      return {
        id: n.id,
        parents: n.parents.filter((p) => index.has(p)),
        branch: n.branch,
        writer: n.writer,
        agent: n.agent,
        operator: n.operator,
        ...(n.model ? { model: n.model } : {}),
        ...(n.cost !== undefined ? { cost: n.cost } : {}),
        time: n.time,
        message: commit?.message ?? n.subject,
        pruned: n.pruned,
        promoted: n.promoted,
        tampered: lines.some((e) => e.tampered === true),
        runs: s.own,
        own: { ...s.evidence, lo: own.lo, hi: own.hi, quantile: betaQuantile(epsilon, 1 + s.evidence.pass, 1 + s.evidence.fail) },
        clade: { ...s.clade, cmp: s.cmp, lo: s.interval[0], hi: s.interval[1] },
        ...carriedPatch(n.id === snapshot.root ? '' : (commit?.patch ?? '')),
        evaluations: lines.map(reportEvaluation),
      };
    });
    const answer = finalAnswer(snapshot, { epsilon, evidence: mode });
    const now = Date.now();
    return {
      format: REPORT_FORMAT,
      generatedAt: new Date(now).toISOString(),
      repository: path.basename(this.archive.repoDir),
      prefix: this.config.branchPrefix,
      root: snapshot.root,
      epsilon,
      alpha: this.config.scorer.alpha,
      evidence: mode,
      budget: { evaluations: this.config.budget.evaluations },
      best: answer.ns + answer.nf > 0 ? { node: answer.node, rule: answer.rule, quantile: answer.quantile } : null,
      tasks: [...new Set(nodes.flatMap((n) => n.evaluations.map((e) => e.task)))].sort(),
      nodes,
      rootFiles: Object.fromEntries(texts),
      unreadable,
      claims: snapshot.claims.filter((c) => c.expires > now).map(({ writer, node, kind, task }) => ({ writer, node, kind, ...(task ? { task } : {}) })),
      timeline: timeline(snapshot, { epsilon, evidence: mode }),
    };
  }

  private async readCommits(snapshot: ArchiveSnapshot): Promise<void> {
    const missing = snapshot.nodes.filter((n) => n.id !== snapshot.root && !this.commits.has(n.id)).map((n) => n.id);
    for (const [id, c] of await commitPatches(this.archive.git, missing)) this.commits.set(id, c);
  }

  /** Log tails of the nodes whose lines changed since the last read (notes are append-only). */
  private async readLogs(snapshot: ArchiveSnapshot): Promise<void> {
    const stale = snapshot.nodes.filter((n) => (snapshot.evaluations.get(n.id)?.length ?? 0) !== (this.logs.get(n.id)?.count ?? 0)).map((n) => n.id);
    if (stale.length === 0) return;
    for (const [id, lines] of await this.archive.evaluationLogsOf(stale)) this.logs.set(id, { count: snapshot.evaluations.get(id)?.length ?? 0, lines });
  }

  private async readRootFiles(snapshot: ArchiveSnapshot): Promise<{ texts: Map<string, string>; unreadable: string[] }> {
    const touched = new Set<string>();
    for (const n of snapshot.nodes) for (const p of patchPaths(this.commits.get(n.id)?.patch ?? '')) touched.add(p);
    const unknown = [...touched].filter((p) => !this.rootFiles.has(p));
    if (unknown.length) {
      const read = await rootTexts(this.archive.git, snapshot.root, unknown);
      for (const p of unknown) this.rootFiles.set(p, read.texts.get(p) ?? { unreadable: read.unreadable.includes(p) });
    }
    const texts = new Map<string, string>();
    const unreadable: string[] = [];
    for (const p of [...touched].sort()) {
      const t = this.rootFiles.get(p)!;
      if (typeof t === 'string') texts.set(p, t);
      else if (t.unreadable) unreadable.push(p);
    }
    return { texts, unreadable };
  }
}

function reportEvaluation(e: Evaluation): ReportEvaluation {
  return {
    task: e.task,
    outcome: e.outcome,
    ...(e.tests ? { tests: e.tests } : {}),
    ...failedTests(e),
    durationMs: e.durationMs,
    harness: e.harness,
    writer: e.writer,
    time: e.time,
    ...(e.reason ? { reason: e.reason } : {}),
    ...(e.tampered ? { tampered: true } : {}),
    ...(e.log ? { log: e.log } : {}),
  };
}

/** A run's failed tests by name: enough to see what broke, bounded for runs of huge suites. */
export const FAILED_TESTS_KEPT = 50;

function failedTests(e: Evaluation): { failedTests?: string[] } {
  const failed = Object.entries(e.testResults ?? {})
    .filter(([, r]) => r === 'fail')
    .map(([name]) => name);
  return failed.length ? { failedTests: failed.slice(0, FAILED_TESTS_KEPT) } : {};
}

function carriedPatch(patch: string): Pick<ReportNode, 'patch' | 'patchOmitted'> {
  const bytes = Buffer.byteLength(patch);
  return bytes <= PATCH_MAX_BYTES ? { patch } : { patch: '', patchOmitted: { bytes, paths: patchPaths(patch) } };
}

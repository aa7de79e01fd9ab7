/**
 * Verify before acting: before a node chosen on other writers' evidence becomes the final
 * answer or a pull request, the tasks other writers say it passed are run again here (the
 * config's trust.verify). A task that fails here disputes their pass lines: the archive stops
 * counting them on this machine (Archive.dispute), and status and best name them. The re-runs
 * are this machine's own evidence, recorded under a writer of its own.
 */
import { hostname } from 'node:os';
import path from 'node:path';
import type { Archive } from '../archive/index.js';
import type { Config } from '../config/index.js';
import { errorMessage } from '../errors/index.js';
import { createSandbox, discoverTasks, rootReference, runTask, type Sandbox } from '../sandbox/index.js';

/** The writer this machine's verification runs are recorded under. */
export function verifyWriter(): string {
  return `verify-${hostname().replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'local'}`;
}

export interface Verification {
  node: string;
  /** Tasks re-run here, with what they gave. */
  reran: { task: string; outcome: 'pass' | 'fail' | 'error'; reason?: string }[];
  /** Other writers' pass lines a re-run contradicted. */
  disputed: { writer: string; task: string }[];
  /** True when every pass of another writer was confirmed here (or there was none). */
  verified: boolean;
}

export async function verifyNode(opts: { archive: Archive; config: Config; node: string; sandbox?: Sandbox; signal?: AbortSignal }): Promise<Verification> {
  const { archive, config, node } = opts;
  const snapshot = await archive.load();
  const local = await archive.localWriters();
  const lines = snapshot.evaluations.get(node) ?? [];
  const confirmed = new Set(lines.filter((e) => e.outcome === 'pass' && local.has(e.writer)).map((e) => e.task));
  const claims = new Map<string, Set<string>>();
  for (const e of lines) {
    if (e.outcome !== 'pass' || e.tampered || local.has(e.writer) || confirmed.has(e.task)) continue;
    const writers = claims.get(e.task) ?? new Set<string>();
    writers.add(e.writer);
    claims.set(e.task, writers);
  }
  const result: Verification = { node, reran: [], disputed: [], verified: true };
  if (claims.size === 0) return result;
  const tasks = new Map((await discoverTasks(archive.repoDir, snapshot.root, config)).map((t) => [t.id, t]));
  const sandbox = opts.sandbox ?? createSandbox(config);
  const writer = verifyWriter();
  const logDir = path.join(archive.gitCommonDir, 'evogit', 'logs', 'verify');
  for (const [taskId, writers] of claims) {
    const task = tasks.get(taskId);
    if (!task) {
      // A task the root does not have: nothing here can confirm it.
      for (const w of writers) {
        await archive.dispute({ writer: w, node, task: taskId, reason: 'the root has no such task' });
        result.disputed.push({ writer: w, task: taskId });
      }
      result.verified = false;
      continue;
    }
    let evaluation;
    try {
      evaluation = await runTask({ repoDir: archive.repoDir, commit: node, root: snapshot.root, task, config, sandbox, writer, logDir, ...rootReference(snapshot, taskId, config), ...(opts.signal ? { signal: opts.signal } : {}) });
      await archive.appendEvaluations(writer, [evaluation]);
    } catch (e) {
      result.reran.push({ task: taskId, outcome: 'error', reason: errorMessage(e) });
      result.verified = false;
      continue;
    }
    result.reran.push({ task: taskId, outcome: evaluation.outcome, ...(evaluation.reason ? { reason: evaluation.reason } : {}) });
    if (evaluation.outcome === 'pass') continue;
    result.verified = false;
    if (evaluation.outcome === 'error') continue;
    for (const w of writers) {
      await archive.dispute({ writer: w, node, task: taskId, reason: `failed when re-run here (${evaluation.reason ?? 'fail'})` });
      result.disputed.push({ writer: w, task: taskId });
    }
  }
  return result;
}

import path from 'node:path';
import { Archive, type Evaluation } from '../../archive/index.js';
import { loadConfig, type Config } from '../../config/index.js';
import { EvogitError, UsageError } from '../../errors/index.js';
import { git } from '../../git/index.js';
import { createSandbox, discoverTasks, rootReference, runTask } from '../../sandbox/index.js';
import type { CommandOutput, GlobalArgs, Io } from '../context.js';

export interface EvalResult {
  commit: string;
  writer: string;
  runs: { task: string; outcome: Evaluation['outcome']; durationMs: number; tests: Evaluation['tests'] | null; reason?: string; tampered?: boolean }[];
  pass: number;
  fail: number;
  error: number;
}

/** Run tasks on any commit (a node, or one made by hand) and record the results in the archive. */
export async function evaluateCommit(opts: {
  repoDir: string;
  commit: string;
  tasks?: string[];
  writer?: string;
  config?: Config;
  io?: Io;
  signal?: AbortSignal;
}): Promise<EvalResult> {
  const config = opts.config ?? (await loadConfig(opts.repoDir));
  const writer = opts.writer ?? 'eval';
  if (!/^[A-Za-z0-9._-]+$/.test(writer)) throw new UsageError(`--writer "${writer}" must be letters, digits, dot, dash or underscore`);
  const archive = await Archive.open({ repoDir: opts.repoDir, prefix: config.branchPrefix, trust: config.trust });
  const root = await archive.root();
  if (!root) throw new EvogitError('E_NOT_INITIALISED', 'this repository has no evogit root', 'Run `evogit init` first.');
  const resolved = await git(archive.repoDir, ['rev-parse', '--verify', '--quiet', `${opts.commit}^{commit}`], { reject: false });
  if (resolved.exitCode !== 0) {
    throw new EvogitError('E_UNKNOWN_COMMIT', `"${opts.commit}" does not name a commit`, 'Name a branch, a tag or a SHA (see `evogit status` or `git log`).');
  }
  const commit = resolved.stdout.trim();
  const all = await discoverTasks(archive.repoDir, root, config);
  const wanted = opts.tasks?.length ? opts.tasks : all.map((t) => t.id);
  const unknown = wanted.filter((id) => !all.some((t) => t.id === id));
  if (unknown.length) {
    throw new EvogitError('E_UNKNOWN_TASK', `no task named ${unknown.map((u) => `"${u}"`).join(', ')}`, `The tasks are: ${all.map((t) => t.id).slice(0, 10).join(', ')}${all.length > 10 ? ', …' : ''}.`);
  }
  const sandbox = createSandbox(config);
  const snapshot = await archive.load();
  const runs: EvalResult['runs'] = [];
  for (const id of wanted) {
    const task = all.find((t) => t.id === id)!;
    opts.io?.stderr(`running ${id} on ${commit.slice(0, 12)}…\n`);
    const evaluation = await runTask({
      repoDir: archive.repoDir,
      commit,
      root,
      task,
      config,
      sandbox,
      writer,
      logDir: path.join(archive.gitCommonDir, 'evogit', 'logs', commit),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...rootReference(snapshot, id, config),
    });
    await archive.appendEvaluations(writer, [evaluation]);
    runs.push({
      task: id,
      outcome: evaluation.outcome,
      durationMs: evaluation.durationMs,
      tests: evaluation.tests ?? null,
      ...(evaluation.reason ? { reason: evaluation.reason } : {}),
      ...(evaluation.tampered ? { tampered: true } : {}),
    });
  }
  const count = (o: Evaluation['outcome']) => runs.filter((r) => r.outcome === o).length;
  return { commit, writer, runs, pass: count('pass'), fail: count('fail'), error: count('error') };
}

export async function evalCommand(a: GlobalArgs & Record<string, unknown>, io: Io): Promise<CommandOutput> {
  const tasks = ((a.task as string[] | undefined) ?? []).map(String);
  const result = await evaluateCommit({ repoDir: a.C, commit: String(a.commit), tasks, writer: a.writer as string | undefined, io });
  const lines = [
    ...result.runs.map((r) => `${r.outcome.padEnd(5)} ${r.task}${r.tests ? `  ${r.tests.passed}/${r.tests.total} tests` : ''}  ${(r.durationMs / 1000).toFixed(1)}s${r.tampered ? '  TAMPERED' : ''}${r.reason ? `  (${r.reason})` : ''}`),
    '',
    `${result.commit.slice(0, 12)}: ${result.pass} pass, ${result.fail} fail, ${result.error} error — recorded in refs/notes/evogit/${result.writer}`,
  ];
  // Failing tasks are an answer, not an error; infrastructure errors are.
  return { data: result, text: lines.join('\n'), exitCode: result.error > 0 ? 3 : 0 };
}

/**
 * runTask: grade one candidate commit on one task, SWE-bench style. Reject a candidate that
 * touched protected paths; otherwise put its tree into a fresh sandbox, overlay the hidden
 * tests from the root, run, parse the runner's own result file (at a path chosen fresh for
 * this run), cross-check with the exit code, and return one Evaluation line.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ArchiveSnapshot, Evaluation } from '../archive/types.js';
import { parseBytes, parseDuration, type Config } from '../config/index.js';
import { EvogitError, InfraError, errorMessage } from '../errors/index.js';
import {
  HARNESS_DIR,
  HARNESS_ENV,
  RESULTS_TOKEN,
  archiveTar,
  changedFiles,
  discoverTasks,
  extractMetrics,
  fillCommand,
  grade,
  killGraceMs,
  manifestFiles,
  measuredRunMs,
  parseResults,
  protectedPatterns,
  resolveCommit,
  runnerHasTimeout,
  tamperedPaths,
  taskTimeout,
  treeBlobs,
  type TaskSpec,
} from '../tasks/index.js';
import { sandboxAssetsDir } from './image.js';
import { makeTar, type TarEntry } from './tar.js';
import { WORK_TOKEN, type Environment, type Sandbox, type SandboxRunResult } from './types.js';

export interface RunTaskRequest {
  repoDir: string;
  commit: string;
  root: string;
  task: TaskSpec;
  config: Config;
  sandbox: Sandbox;
  writer: string;
  signal?: AbortSignal;
  /** The full log of the run is written here. */
  logDir: string;
  /** The root's metrics, for test.objective. */
  baseline?: Record<string, number>;
  /** The root's measured run of this task (tasks/timeout.ts measuredRunMs), for test.timeout "auto". */
  rootRunMs?: number | null;
}

const LOG_TAIL = 2048;

function tail(text: string): string {
  return text.length <= LOG_TAIL ? text : `…${text.slice(-LOG_TAIL)}`;
}

function extOf(format: TaskSpec['resultFormat']): string {
  return format === 'junit' ? 'xml' : format === 'tap' ? 'tap' : format.endsWith('json') ? 'json' : 'txt';
}

/** evogit's in-sandbox helpers (sandbox/harness/: the unittest runner, the pytest timeout plugin), for the harness folder. */
export async function harnessEntries(): Promise<TarEntry[]> {
  const dir = path.join(sandboxAssetsDir(), 'harness');
  const names = (await readdir(dir)).filter((f) => f.endsWith('.py')).sort();
  return Promise.all(names.map(async (f) => ({ path: `${HARNESS_DIR}/${f}`, content: await readFile(path.join(dir, f)), mode: 0o755 })));
}

/** The environment key: base image id, install lines, and the blob ids of the manifests. */
export function environmentKey(baseImageId: string, install: string[], manifests: Array<[string, string]>): string {
  const h = createHash('sha256');
  h.update(`${baseImageId}\0${install.join('\n')}\0`);
  for (const [file, oid] of manifests) h.update(`${file}\0${oid}\0`);
  return h.digest('hex').slice(0, 24);
}

async function envKeyFor(repoDir: string, commit: string, baseImageId: string, install: string[]): Promise<{ key: string; files: string[] }> {
  const blobs = await treeBlobs(repoDir, commit);
  const files = manifestFiles([...blobs.keys()]);
  return { key: environmentKey(baseImageId, install, files.map((f) => [f, blobs.get(f)!])), files };
}

/**
 * The environment `treeish` (a commit or a tree) is run in: the base image with its dependency
 * manifests installed by `install`, made once per base, install commands and manifest content
 * (sandbox.ensureEnvironment caches it), with the install's network as sandbox.installNetwork
 * says. An install that fails throws InfraError E_INSTALL_FAILED (the infrastructure's to fix,
 * retried) — or, when `reference` (the root, a task's base) has other manifests, EvogitError
 * E_CANDIDATE_INSTALL: the candidate's own manifests do not install, which is its failure.
 */
export async function environmentFor(req: { repoDir: string; treeish: string; reference?: string; install: string[]; config: Config; sandbox: Sandbox; signal?: AbortSignal | undefined }): Promise<Environment> {
  const { config, sandbox } = req;
  const baseImage = config.sandbox.image;
  const baseId = await sandbox.imageId(baseImage);
  if (!baseId) throw new InfraError('E_IMAGE_MISSING', `sandbox image ${baseImage} is not present`, 'Build it: `evogit sandbox build --offline`.');
  const env = await envKeyFor(req.repoDir, req.treeish, baseId, req.install);
  const manifests = env.files.length ? await archiveTar(req.repoDir, req.treeish, { paths: env.files }) : makeTar([]);
  try {
    return await sandbox.ensureEnvironment({
      baseImage,
      install: req.install,
      manifests,
      key: env.key,
      network: config.sandbox.installNetwork,
      timeoutMs: parseDuration(config.sandbox.installTimeout),
      signal: req.signal,
    });
  } catch (e) {
    if (req.reference && e instanceof InfraError && e.code === 'E_INSTALL_FAILED' && (await envKeyFor(req.repoDir, req.reference, baseId, req.install)).key !== env.key) {
      throw new EvogitError('E_CANDIDATE_INSTALL', `dependency install failed: ${e.message}`, 'The change to the dependency manifests does not install.', { cause: e });
    }
    throw e;
  }
}

/**
 * What a candidate's run of `task` is measured against, from the root's graded runs: their
 * measured run time (test.timeout "auto") and the latest metrics (test.objective).
 */
export function rootReference(snapshot: ArchiveSnapshot, task: string, config: Config): Pick<RunTaskRequest, 'rootRunMs' | 'baseline'> {
  const runs = (snapshot.evaluations.get(snapshot.root) ?? []).filter((e) => e.task === task && e.outcome !== 'error');
  const baseline = config.test.objective ? runs.filter((e) => e.metrics).at(-1)?.metrics : undefined;
  return { rootRunMs: measuredRunMs(runs, task), ...(baseline ? { baseline } : {}) };
}

export async function runTask(req: RunTaskRequest): Promise<Evaluation> {
  const started = performance.now();
  const { config, task, sandbox } = req;
  const commit = await resolveCommit(req.repoDir, req.commit);
  const root = await resolveCommit(req.repoDir, req.root);
  const nonce = randomBytes(12).toString('hex');
  const base = { node: commit, task: task.id, writer: req.writer, harness: sandbox.kind };
  const finish = async (fields: Partial<Evaluation> & Pick<Evaluation, 'outcome'>, log: string): Promise<Evaluation> => {
    await mkdir(req.logDir, { recursive: true });
    const logFile = path.join(req.logDir, `${commit.slice(0, 12)}-${task.id.replace(/[^\w.-]+/g, '_')}-${nonce.slice(0, 8)}.log`);
    await writeFile(logFile, log);
    return { ...base, ...fields, durationMs: Math.round(performance.now() - started), time: new Date().toISOString(), log: tail(log) };
  };

  // 1. Tampering: a diff against the root that touches a protected path is not graded.
  const tasks = await discoverTasks(req.repoDir, root, config);
  const touched = tamperedPaths(await changedFiles(req.repoDir, root, commit), protectedPatterns(config.test.protected, [...tasks, task]));
  if (touched.length) {
    const reason = `changes protected path(s): ${touched.slice(0, 5).join(', ')}${touched.length > 5 ? ` (+${touched.length - 5})` : ''}`;
    return finish({ outcome: 'fail', tampered: true, reason }, `rejected, not run: ${reason}\n`);
  }

  let log = '';
  try {
    // 2. The environment image (dependencies), once per manifest content.
    const install = config.test.install;
    let environment;
    try {
      environment = await environmentFor({ repoDir: req.repoDir, treeish: commit, reference: root, install, config, sandbox, signal: req.signal });
    } catch (e) {
      if (!(e instanceof EvogitError && e.code === 'E_CANDIDATE_INSTALL')) throw e;
      return finish({ outcome: 'fail', reason: e.message, image: (await sandbox.imageId(config.sandbox.image)) ?? config.sandbox.image }, e.message);
    }
    if (environment.log) log += `--- install (${environment.image}) ---\n${environment.log}\n`;

    // 3. The candidate's tree, then the hidden tests from the root, then the harness and a
    //    result directory whose name the candidate cannot know in advance.
    const layers: Buffer[] = [await archiveTar(req.repoDir, commit)];
    if (task.hiddenFiles.length) layers.push(await archiveTar(req.repoDir, root, { paths: task.hiddenFiles }));
    const outDir = `.evogit-out-${nonce}`;
    const resultRel = task.resultFile === RESULTS_TOKEN || !task.resultFile ? `${outDir}/results.${extOf(task.resultFormat)}` : task.resultFile;
    layers.push(makeTar([...(await harnessEntries()), { path: outDir }]));
    // 4. Run, within the limit test.timeout gives (derived from the root's run with "auto").
    const limit = task.timeoutMs !== undefined ? { ms: task.timeoutMs, basis: `the task's own limit, ${task.timeoutMs} ms` } : taskTimeout(config.test, req.rootRunMs ?? null);
    let command = fillCommand(task.command, { results: `${WORK_TOKEN}/${resultRel}`, timeoutMs: limit.ms });
    if (task.setup?.length) command = ['/bin/sh', '-c', `${task.setup.join(' && ')} && exec "$@"`, 'evogit-setup', ...command];
    const result: SandboxRunResult = await sandbox.run({
      runId: `${commit.slice(0, 12)}-${nonce.slice(0, 8)}`,
      image: environment.image,
      command,
      env: HARNESS_ENV,
      layers,
      // A runner that takes the limit ends the run itself, with a report; the kill is the backstop.
      timeoutMs: runnerHasTimeout(task.command) ? limit.ms + killGraceMs(limit.ms) : limit.ms,
      outputLimit: parseBytes(config.sandbox.outputLimit),
      collect: task.resultFormat === 'none' ? [] : [resultRel],
      signal: req.signal,
    });
    log += `--- ${command.join(' ').split(WORK_TOKEN).join('<work>')} ---\n--- limit ${limit.basis} ---\n${result.output}\n--- exit ${result.exitCode}${result.timedOut ? ' (timed out)' : ''}${result.oomKilled ? ' (out of memory)' : ''} in ${result.runMs} ms ---\n`;
    if (result.aborted) throw new InfraError('E_ABORTED', 'the run was aborted', 'It will be retried.');

    // 5. Grade from the runner's result file (or, for pytest -rA, its summary), never from printed lines.
    const file = result.files[resultRel];
    const text = file ? file.toString('utf8') : task.resultFormat === 'pytest' ? result.output : null;
    const parsed = text === null ? null : parseResults(task.resultFormat, text);
    if (file) {
      const limit = parseBytes(config.sandbox.outputLimit);
      const shown = file.length > limit ? `${file.subarray(0, limit).toString('utf8')}\n[evogit: results file truncated in this log: ${file.length} bytes]` : text;
      log += `--- results (${resultRel}) ---\n${shown}\n`;
    }
    const metrics = extractMetrics(result.output);
    const graded = grade({
      grading: task.grading,
      format: task.resultFormat,
      exitCode: result.exitCode,
      timedOut: result.timedOut,
      oomKilled: result.oomKilled,
      parsed,
      metrics,
      objective: config.test.objective,
      baseline: req.baseline,
    });
    // Killed at the limit, or ended by the runner's own timeout (which is the same limit).
    const atLimit = result.timedOut || (graded.outcome === 'fail' && runnerHasTimeout(task.command) && result.runMs >= limit.ms);
    const because = atLimit ? `${graded.reason}; timeout: ${limit.basis}` : graded.reason;
    const reason = result.truncated ? `${because}; output truncated at ${config.sandbox.outputLimit}` : because;
    return finish(
      {
        outcome: graded.outcome,
        tests: graded.tests,
        testResults: graded.testResults,
        metrics,
        image: environment.digest,
        reason,
        runMs: result.runMs,
        timeoutMs: limit.ms,
      },
      log,
    );
  } catch (e) {
    // Infrastructure (daemon unreachable, image missing, disk full): `error`, retried, never a fail.
    const reason = errorMessage(e);
    return finish({ outcome: 'error', reason }, `${log}\n--- error ---\n${e instanceof Error ? (e.stack ?? reason) : reason}\n`);
  }
}

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
import { archiveStream, archiveTar, changedFiles, resolveCommit, showFile, treeBlobs } from '../git/reads.js';
import { git } from '../git/index.js';
import {
  HARNESS_DIR,
  HARNESS_ENV,
  RESULTS_TOKEN,
  packageTestFields,
  discoverTasks,
  extractMetrics,
  fillCommand,
  grade,
  killGraceMs,
  manifestFiles,
  measuredRunMs,
  parseResults,
  protectedPatterns,
  runnerHasTimeout,
  tamperedPaths,
  taskTimeout,
  unpackableReason,
  type TestStatus,
  type TaskSpec,
} from '../tasks/index.js';
import { planCanaries, runnerOfCommand, unwrapResults } from './canary.js';
import { coverageRun } from './coverage.js';
import { uidGid } from './docker.js';
import { sandboxAssetsDir } from './image.js';
import type { TarLayer } from './stream.js';
import { InstallError, earlierTimeout, rememberTimeout } from './install.js';
import { makeTar, type TarEntry } from './tar.js';
import { OUT_TOKEN, SECURE_TOKEN, WORK_TOKEN, type Environment, type Sandbox, type SandboxRunResult } from './types.js';

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
  /** Commits (promoted nodes) whose dependency manifests, like the root's, may install with network. */
  trusted?: string[];
  /** The tests the root's latest graded run of this task named: each must run here (grade.ts missingRootTests). */
  rootTests?: Record<string, TestStatus>;
  /** How many tests the root's graded runs of this task reported (the most): a failing run's totals are completed to it. */
  taskTests?: number;
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

/** The environment key: base image id, install lines, the blob ids of the manifests, and whether the install was trusted. */
export function environmentKey(baseImageId: string, install: string[], manifests: Array<[string, string]>, untrusted = false): string {
  const h = createHash('sha256');
  h.update(`${baseImageId}\0${install.join('\n')}\0`);
  for (const [file, oid] of manifests) h.update(`${file}\0${oid}\0`);
  if (untrusted) h.update('untrusted\0');
  return h.digest('hex').slice(0, 24);
}

/** The dependency manifests of a tree: path and blob id, sorted. */
async function manifestsOf(repoDir: string, commit: string): Promise<Array<[string, string]>> {
  const blobs = await treeBlobs(repoDir, commit);
  return manifestFiles([...blobs.keys()]).map((f) => [f, blobs.get(f)!]);
}

const sameManifests = (a: Array<[string, string]>, b: Array<[string, string]>): boolean => a.length === b.length && a.every(([f, o], i) => b[i]![0] === f && b[i]![1] === o);

/**
 * What an install of manifests nobody trusted runs with: no lifecycle scripts (npm, yarn,
 * pnpm) and no package index. It also has no network.
 */
export const UNTRUSTED_INSTALL_ENV: Record<string, string> = {
  npm_config_ignore_scripts: 'true',
  npm_config_offline: 'true',
  YARN_ENABLE_SCRIPTS: 'false',
  YARN_ENABLE_NETWORK: 'false',
  PIP_NO_INDEX: '1',
};

/**
 * The environment `treeish` (a commit or a tree) is run in: the base image with its dependency
 * manifests installed by `install`, made once per base, install commands and manifest content
 * (sandbox.ensureEnvironment caches it). The install has the network sandbox.installNetwork
 * allows only when the manifests are those of `reference` (the root, a task's base) or of a
 * `trusted` commit (a promoted node): a candidate's own manifests install without network and
 * without lifecycle scripts (UNTRUSTED_INSTALL_ENV), so no code of the candidate ever runs with
 * network; the environment's `note` says so. An install that fails throws InfraError
 * E_INSTALL_FAILED (the infrastructure's to fix, retried) — or, when the manifests are not the
 * reference's, EvogitError E_CANDIDATE_INSTALL: the candidate's own manifests do not install,
 * which is its failure.
 */
export async function environmentFor(req: { repoDir: string; treeish: string; reference?: string; trusted?: string[]; install: string[]; config: Config; sandbox: Sandbox; image?: string; signal?: AbortSignal | undefined }): Promise<Environment> {
  const { config, sandbox } = req;
  const baseImage = req.image ?? config.sandbox.image;
  const baseId = await sandbox.imageId(baseImage);
  if (!baseId) throw new InfraError('E_IMAGE_MISSING', `sandbox image ${baseImage} is not present`, 'Build it: `evogit sandbox build --offline`.');
  const own = await manifestsOf(req.repoDir, req.treeish);
  const references = [...(req.reference ? [req.reference] : []), ...(req.trusted ?? [])];
  let trusted = references.length === 0;
  for (const ref of references) if (!trusted && sameManifests(own, await manifestsOf(req.repoDir, ref))) trusted = true;
  const key = environmentKey(baseId, req.install, own, !trusted);
  const manifests = own.length ? archiveStream(req.repoDir, req.treeish, { paths: own.map(([f]) => f) }) : makeTar([]);
  const note = trusted || req.install.length === 0 ? undefined : 'dependencies installed without network and without lifecycle scripts: the manifests differ from the root\'s and every promoted node\'s';
  const timeoutMs = parseDuration(config.sandbox.installTimeout);
  const stateDir = path.join(path.resolve(req.repoDir, (await git(req.repoDir, ['rev-parse', '--git-common-dir'])).stdout.trim()), 'evogit');
  try {
    // An install that timed out is not waited for again (every retry of every task would).
    const earlier = await earlierTimeout(stateDir, key, timeoutMs);
    if (earlier) throw earlier;
    try {
      const env = await sandbox.ensureEnvironment({
        baseImage,
        install: req.install,
        manifests,
        key,
        network: trusted && config.sandbox.installNetwork,
        ...(trusted ? {} : { env: UNTRUSTED_INSTALL_ENV }),
        timeoutMs,
        signal: req.signal,
      });
      return note ? { ...env, note } : env;
    } catch (e) {
      if (e instanceof InstallError && e.timedOut && !req.signal?.aborted) await rememberTimeout(stateDir, key, timeoutMs, e);
      throw e;
    }
  } catch (e) {
    if (req.reference && e instanceof InfraError && e.code === 'E_INSTALL_FAILED' && !sameManifests(own, await manifestsOf(req.repoDir, req.reference))) {
      throw new EvogitError('E_CANDIDATE_INSTALL', `dependency install failed: ${e.message}${note ? ` (${note})` : ''}`, 'The change to the dependency manifests does not install.', { cause: e });
    }
    throw e;
  }
}

/**
 * What a candidate's run of `task` is measured against, from the root's graded runs: their
 * measured run time (test.timeout "auto"), the latest metrics (test.objective) and the tests the
 * latest run named (each must run again); and the promoted nodes, whose manifests may install
 * with network like the root's.
 */
export function rootReference(snapshot: ArchiveSnapshot, task: string, config: Config): Pick<RunTaskRequest, 'rootRunMs' | 'baseline' | 'rootTests' | 'trusted' | 'taskTests'> {
  const runs = (snapshot.evaluations.get(snapshot.root) ?? []).filter((e) => e.task === task && e.outcome !== 'error');
  const baseline = config.test.objective ? runs.filter((e) => e.metrics).at(-1)?.metrics : undefined;
  const rootTests = runs.filter((e) => !e.tampered && e.testResults && Object.keys(e.testResults).length > 0).at(-1)?.testResults;
  const trusted = snapshot.nodes.filter((n) => n.promoted).map((n) => n.id);
  const taskTests = Math.max(0, ...runs.filter((e) => !e.tampered).map((e) => e.tests?.total ?? 0));
  return { rootRunMs: measuredRunMs(runs, task), ...(baseline ? { baseline } : {}), ...(rootTests ? { rootTests } : {}), ...(trusted.length ? { trusted } : {}), ...(taskTests ? { taskTests } : {}) };
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
  const changed = await changedFiles(req.repoDir, root, commit);
  const touched = tamperedPaths(changed, protectedPatterns(config.test.protected, [...tasks, task]));
  if (changed.includes('package.json')) {
    const [before, after] = await Promise.all([showFile(req.repoDir, root, 'package.json'), showFile(req.repoDir, commit, 'package.json')]);
    touched.push(...packageTestFields(before, after, String(config.test.command)));
  }
  if (touched.length) {
    const reason = `changes protected path(s): ${touched.slice(0, 5).join(', ')}${touched.length > 5 ? ` (+${touched.length - 5})` : ''}`;
    return finish({ outcome: 'fail', tampered: true, reason }, `rejected, not run: ${reason}\n`);
  }

  // A tree git itself refuses to unpack is the candidate's failure, not the infrastructure's.
  const unpackable = await unpackableReason(req.repoDir, commit);
  if (unpackable) return finish({ outcome: 'fail', reason: `unpackable: ${unpackable}` }, `not run: unpackable: ${unpackable}\n`);

  let log = '';
  try {
    // 2. The environment image (dependencies), once per manifest content.
    const install = config.test.install;
    let environment;
    try {
      environment = await environmentFor({ repoDir: req.repoDir, treeish: commit, reference: root, ...(req.trusted ? { trusted: req.trusted } : {}), install, config, sandbox, signal: req.signal });
    } catch (e) {
      if (!(e instanceof EvogitError && e.code === 'E_CANDIDATE_INSTALL')) throw e;
      return finish({ outcome: 'fail', reason: e.message, image: (await sandbox.imageId(config.sandbox.image)) ?? config.sandbox.image }, e.message);
    }
    if (environment.note) log += `--- ${environment.note} ---\n`;
    if (environment.log) log += `--- install (${environment.image}) ---\n${environment.log}\n`;

    // 3. The candidate's tree (streamed), then the hidden tests and their support files from
    //    the root, then the harness; canaries and the report's directory come with the run.
    const layers: TarLayer[] = [archiveStream(req.repoDir, commit)];
    if (task.hiddenFiles.length) layers.push(await archiveTar(req.repoDir, root, { paths: task.hiddenFiles }));
    // Per-test coverage, for fault localization only (see coverage.ts); it never grades. Its
    // folder is in the work dir: the test processes write it as the sandbox user.
    const coverageDir = `.evogit-coverage-${nonce}`;
    const coverage = config.test.coverage ? await coverageRun(coverageDir) : null;
    layers.push(makeTar([...(await harnessEntries()), ...(coverage ? [...coverage.entries, { path: coverageDir }] : [])]));
    const resultRel = task.resultFile === RESULTS_TOKEN || !task.resultFile ? `${OUT_TOKEN}/results.${extOf(task.resultFormat)}` : task.resultFile;
    // 4. Run, within the limit test.timeout gives (derived from the root's run with "auto").
    const limit = task.timeoutMs !== undefined ? { ms: task.timeoutMs, basis: `the task's own limit, ${task.timeoutMs} ms` } : taskTimeout(config.test, req.rootRunMs ?? null);
    const filled = fillCommand(task.command, { results: resultRel.startsWith(OUT_TOKEN) ? resultRel : `${WORK_TOKEN}/${resultRel}`, timeoutMs: limit.ms });
    const plan = planCanaries(runnerOfCommand(task.command), filled, task.hiddenFiles, { split: sandbox.kind === 'docker', user: uidGid(config.sandbox.user) });
    const wired = coverage ? coverage.wire(plan.command, HARNESS_ENV, plan.split) : { command: plan.command, env: HARNESS_ENV };
    const result: SandboxRunResult = await sandbox.run({
      runId: `${commit.slice(0, 12)}-${nonce.slice(0, 8)}`,
      image: environment.image,
      command: wired.command,
      env: wired.env,
      layers,
      files: plan.files,
      split: plan.split,
      ...(task.setup?.length ? { setup: task.setup } : {}),
      // A runner that takes the limit ends the run itself, with a report; the kill is the backstop.
      timeoutMs: runnerHasTimeout(task.command) ? limit.ms + killGraceMs(limit.ms) : limit.ms,
      outputLimit: parseBytes(config.sandbox.outputLimit),
      collect: [...(task.resultFormat === 'none' ? [] : [resultRel]), ...(coverage ? [coverage.file] : [])],
      signal: req.signal,
    });
    const shownCommand = [...(task.setup?.length ? [`(setup: ${task.setup.join(' && ')})`] : []), ...wired.command].join(' ');
    log += `--- ${shownCommand.split(WORK_TOKEN).join('<work>').split(SECURE_TOKEN).join('<secure>').split(OUT_TOKEN).join('<out>')} ---\n--- limit ${limit.basis} ---\n${result.output}\n--- exit ${result.exitCode}${result.timedOut ? ' (timed out)' : ''}${result.oomKilled ? ' (out of memory)' : ''} in ${result.runMs} ms ---\n`;
    if (result.aborted) throw new InfraError('E_ABORTED', 'the run was aborted', 'It will be retried.');
    // The candidate's tree could not be put in place (tar refused it, or it exceeds sandbox.disk): its own failure.
    if (result.unpack) {
      const detail = result.unpack.detail || `tar exited with ${result.unpack.code}`;
      const reason = `unpackable: ${/No space left/.test(detail) ? `the tree does not fit in sandbox.disk (${config.sandbox.disk}): ` : ''}${detail}`;
      return finish({ outcome: 'fail', reason, image: environment.digest }, `${log}${reason}\n`);
    }

    // 5. Grade from the runner's result file (or, for pytest -rA, its summary), never from printed lines.
    const file = result.files[resultRel];
    const text = file ? file.toString('utf8') : task.resultFormat === 'pytest' ? result.output : null;
    const parsed = text === null ? null : unwrapResults(parseResults(task.resultFormat, text));
    if (file) {
      const limit = parseBytes(config.sandbox.outputLimit);
      const shown = file.length > limit ? `${file.subarray(0, limit).toString('utf8')}\n[evogit: results file truncated in this log: ${file.length} bytes]` : text;
      log += `--- results (${resultRel.split(OUT_TOKEN).join('<out>')}) ---\n${shown}\n`;
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
      ...(plan.canaries ? { canaries: plan.canaries } : {}),
      ...(req.rootTests ? { rootTests: req.rootTests, testFiles: task.hiddenFiles } : {}),
      ...(req.taskTests ? { taskTests: req.taskTests } : {}),
    });
    // Killed at the limit, or ended by the runner's own timeout (which is the same limit).
    const atLimit = result.timedOut || (graded.outcome === 'fail' && runnerHasTimeout(task.command) && result.runMs >= limit.ms);
    const because = atLimit ? `${graded.reason}; timeout: ${limit.basis}` : graded.reason;
    const reason = result.truncated ? `${because}; output truncated at ${config.sandbox.outputLimit}` : because;
    const sourcePatterns = protectedPatterns(config.test.protected, [...tasks, task]);
    const spectrum = coverage?.spectrum(result.files[coverage.file], result.output, (f) => tamperedPaths([f], sourcePatterns).length === 0, plan.canaries ? [plan.canaries.pass, plan.canaries.fail] : []);
    return finish(
      {
        outcome: graded.outcome,
        ...(graded.tampered ? { tampered: true } : {}),
        tests: graded.tests,
        testResults: graded.testResults,
        metrics,
        image: environment.digest,
        reason,
        runMs: result.runMs,
        timeoutMs: limit.ms,
        ...(spectrum ? { spectrum } : {}),
      },
      log,
    );
  } catch (e) {
    // Infrastructure (daemon unreachable, image missing, disk full): `error`, retried, never a fail.
    const reason = errorMessage(e);
    return finish({ outcome: 'error', reason }, `${log}\n--- error ---\n${e instanceof Error ? (e.stack ?? reason) : reason}\n`);
  }
}

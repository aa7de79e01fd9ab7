/**
 * Grading a tree on a suite task in a FRESH sandbox: the graded tree (the agent's edits with
 * the hidden tests put back), the harness, and a result path chosen for this run; graded from
 * the runner's own result file, cross-checked with the exit code (src/tasks grade()).
 */
import { randomBytes } from 'node:crypto';
import { parseBytes, type Config } from '../../config/index.js';
import { EvogitError, InfraError } from '../../errors/index.js';
import { buildHint, environmentFor, harnessEntries, makeTar, WORK_TOKEN, type Sandbox } from '../../sandbox/index.js';
import type { SuiteTask } from '../../suites/index.js';
import { archiveTar } from '../../git/reads.js';
import { HARNESS_ENV, RESULTS_TOKEN, fillCommand, grade, killGraceMs, parseResults, runnerHasTimeout, taskTimeout, type Grade } from '../../tasks/index.js';

export interface TreeGrade extends Grade {
  log: string;
  image: string;
  truncated: boolean;
}

function extOf(format: SuiteTask['test']['format']): string {
  return format === 'junit' ? 'xml' : format === 'tap' ? 'tap' : format.endsWith('json') ? 'json' : 'txt';
}

/**
 * `base`: the tree the agent started from. With test.install, a graded tree whose manifests
 * differ from it and do not install fails (the agent's edit broke them); the base's own failing
 * to install is an infrastructure error, retried.
 */
export async function gradeTree(req: { repoDir: string; tree: string; base?: string; task: SuiteTask; config: Config; sandbox: Sandbox; signal?: AbortSignal }): Promise<TreeGrade> {
  const { task, config, sandbox } = req;
  // A suite task names its language's image (a Polyglot exercise); else the configured one.
  let image = task.test.image ?? config.sandbox.image;
  let digest = await sandbox.imageId(image);
  if (!digest) throw new InfraError('E_IMAGE_MISSING', `sandbox image ${image} is not present`, buildHint(image));
  let installLog = '';
  if (task.test.install?.length) {
    // The task's dependencies, installed from the graded tree's manifests into a cached image.
    let environment;
    try {
      environment = await environmentFor({ repoDir: req.repoDir, treeish: req.tree, ...(req.base ? { reference: req.base } : {}), install: task.test.install, config, sandbox, image, signal: req.signal });
    } catch (e) {
      if (!(e instanceof EvogitError && e.code === 'E_CANDIDATE_INSTALL')) throw e;
      return { outcome: 'fail', reason: e.message, log: `--- install ---\n${e.message}\n`, image: digest, truncated: false };
    }
    image = environment.image;
    digest = environment.digest;
    if (!environment.cached) installLog = `--- install (${environment.image}) ---\n${environment.log}\n`;
  }
  const nonce = randomBytes(12).toString('hex');
  const outDir = `.evogit-out-${nonce}`;
  const resultRel = !task.test.resultFile || task.test.resultFile === RESULTS_TOKEN ? `${outDir}/results.${extOf(task.test.format)}` : task.test.resultFile;
  const layers = [await archiveTar(req.repoDir, req.tree), makeTar([...(await harnessEntries()), { path: outDir }])];
  // A suite task's tests run on the task's own base, not the root's: no measured run to scale.
  const timeoutMs = task.test.timeoutMs ?? taskTimeout(config.test, null).ms;
  let command = fillCommand(task.test.command, { results: `${WORK_TOKEN}/${resultRel}`, timeoutMs });
  if (task.test.setup?.length) command = ['/bin/sh', '-c', `${task.test.setup.join(' && ')} && exec "$@"`, 'evogit-setup', ...command];
  const result = await sandbox.run({
    runId: `grade-${nonce.slice(0, 12)}`,
    image,
    command,
    env: HARNESS_ENV,
    layers,
    timeoutMs: runnerHasTimeout(task.test.command) ? timeoutMs + killGraceMs(timeoutMs) : timeoutMs,
    outputLimit: parseBytes(config.sandbox.outputLimit),
    collect: task.test.format === 'none' ? [] : [resultRel],
    ...(req.signal ? { signal: req.signal } : {}),
  });
  if (result.aborted) throw new InfraError('E_ABORTED', 'the run was aborted', 'It will be retried.');
  const file = result.files[resultRel];
  const text = file ? file.toString('utf8') : task.test.format === 'pytest' ? result.output : null;
  const parsed = text === null ? null : parseResults(task.test.format, text);
  const graded = grade({ grading: task.grading, format: task.test.format, exitCode: result.exitCode, timedOut: result.timedOut, oomKilled: result.oomKilled, parsed });
  let log = `${installLog}--- ${command.join(' ').split(WORK_TOKEN).join('<work>')} ---\n${result.output}\n--- exit ${result.exitCode}${result.timedOut ? ' (timed out)' : ''} in ${result.durationMs} ms ---\n`;
  if (file) log += `--- results ---\n${text}\n`;
  return { ...graded, log, image: digest, truncated: result.truncated };
}

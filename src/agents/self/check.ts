/**
 * Grading a given candidate on one suite task, with no agent (`evogit tasks grade`): the task
 * as imported (the stub, the base), a patch, files laid over the solution files, or the
 * exercise's own reference solution. Validating a suite (`evogit tasks validate`, `tasks
 * import --validate`): every task must fail as imported and — where a reference exists — pass
 * with it; a SWE instance's FAIL_TO_PASS must fail at its base and its PASS_TO_PASS pass.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../config/index.js';
import { EvogitError } from '../../errors/index.js';
import { git } from '../../git/index.js';
import type { Sandbox } from '../../sandbox/index.js';
import { gradedTree, referenceTargets, taskBaseTree, treeWithChanges, treeWithPatch, type FileChange, type SuiteTask, type TaskProblem } from '../../suites/index.js';
import { lookupTest } from '../../tasks/index.js';
import { gradeTree, type TreeGrade } from './grade.js';

/** What is graded: the task as imported, or a candidate. */
export type Candidate = { kind: 'base' } | { kind: 'patch'; patch: string } | { kind: 'files'; changes: FileChange[] } | { kind: 'reference' };

export interface GradeTaskRequest {
  repoDir: string;
  /** The commit holding the suite (loadSuite's `commit`): the evaluator's copy. */
  suiteCommit: string;
  task: SuiteTask;
  config: Config;
  sandbox: Sandbox;
  candidate: Candidate;
  signal?: AbortSignal;
}

export async function gradeTask(req: GradeTaskRequest): Promise<TreeGrade> {
  const base = await taskBaseTree(req.repoDir, req.suiteCommit, req.task);
  const c = req.candidate;
  const tree =
    c.kind === 'patch'
      ? await treeWithPatch(req.repoDir, base, c.patch)
      : c.kind === 'files'
        ? await treeWithChanges(req.repoDir, base, c.changes)
        : c.kind === 'reference'
          ? await treeWithChanges(req.repoDir, base, await referenceChanges(req.repoDir, req.suiteCommit, req.task))
          : base;
  const graded = await gradedTree(req.repoDir, req.suiteCommit, req.task, tree);
  return gradeTree({ repoDir: req.repoDir, tree: graded, base, task: req.task, config: req.config, sandbox: req.sandbox, ...(req.signal ? { signal: req.signal } : {}) });
}

/** A text file of the suite (exercise sources and their metadata are text). */
async function blobAt(repoDir: string, rev: string, file: string): Promise<Buffer> {
  const r = await git(repoDir, ['cat-file', 'blob', `${rev}:${file}`], { reject: false });
  if (r.exitCode !== 0) throw new EvogitError('E_SUITE_RECORD', `${file} is not in the suite`, 'Re-import the suite.');
  return Buffer.from(r.stdout, 'utf8');
}

/** A Polyglot exercise's reference solution (`.meta/config.json` files.example) as changes over its solution files. */
export async function referenceChanges(repoDir: string, suiteCommit: string, task: SuiteTask): Promise<FileChange[]> {
  if (task.base.kind !== 'dir') throw new EvogitError('E_NO_REFERENCE', `${task.id} is a SWE instance: it has no reference solution in the suite`, 'Grade its gold patch with --patch FILE.');
  const dir = task.base.path;
  const meta = JSON.parse((await blobAt(repoDir, suiteCommit, `${dir}/.meta/config.json`)).toString('utf8')) as { files?: { example?: string[]; solution?: string[] } };
  const example = meta.files?.example ?? [];
  const solution = task.solutionFiles ?? meta.files?.solution ?? [];
  const provided = (await git(repoDir, ['ls-tree', '-r', '--name-only', '-z', `${suiteCommit}:${dir}`])).stdout.split('\0').filter((f) => f && !f.startsWith('.meta/'));
  const targets = referenceTargets(example, solution, provided);
  if (targets.size === 0) throw new EvogitError('E_NO_REFERENCE', `${task.id}: no reference file maps onto its solution files (${solution.join(', ')})`, 'files.example in .meta/config.json names the reference solution.');
  const changes: FileChange[] = [];
  for (const [from, to] of targets) changes.push({ path: to, content: await blobAt(repoDir, suiteCommit, `${dir}/${from}`) });
  return changes;
}

/** Files of `dir` named as the task's solution files (by their path, or by their name alone), as changes. */
export async function solutionChanges(dir: string, task: SuiteTask): Promise<FileChange[]> {
  const solution = task.solutionFiles;
  if (!solution?.length) throw new EvogitError('E_USAGE', `${task.id} names no solution files`, 'Use --patch FILE for a SWE instance.');
  const changes: FileChange[] = [];
  for (const s of solution) {
    for (const candidate of [path.join(dir, s), path.join(dir, path.basename(s))]) {
      if (await stat(candidate).then((st) => st.isFile(), () => false)) {
        changes.push({ path: s, content: await readFile(candidate) });
        break;
      }
    }
  }
  if (changes.length === 0) throw new EvogitError('E_SOLUTION', `${dir} holds none of ${task.id}'s solution files (${solution.join(', ')})`, 'Put files named as the exercise\'s solution files in the folder.');
  return changes;
}

export interface TaskCheck {
  id: string;
  /** How the task graded as imported (the stub, the base with the test patch). */
  base: TreeGrade;
  /** How it graded with its reference solution (Polyglot). */
  reference?: TreeGrade;
  problem?: string;
  seconds: number;
}

/** Why the task as imported is not a fair task (pure): it must fail, in the right way. */
export function baseProblem(task: SuiteTask, base: TreeGrade): string | null {
  if (task.grading.kind === 'exit-code') return base.outcome === 'pass' ? `passes as imported (${base.reason})` : null;
  const results = base.testResults ?? {};
  const passing = task.grading.failToPass.filter((t) => lookupTest(results, t) === 'pass');
  if (passing.length) return `FAIL_TO_PASS already passes at the base: ${passing.slice(0, 5).join(', ')}`;
  const broken = task.grading.passToPass.filter((t) => lookupTest(results, t) !== 'pass');
  if (broken.length) return `PASS_TO_PASS does not pass at the base: ${broken.slice(0, 5).join(', ')}`;
  return null;
}

/** Grade a task as imported and (Polyglot) with its reference solution; say what is wrong with it. */
export async function checkTask(req: Omit<GradeTaskRequest, 'candidate'>): Promise<TaskCheck> {
  const started = performance.now();
  const base = await gradeTask({ ...req, candidate: { kind: 'base' } });
  let problem = baseProblem(req.task, base);
  let reference: TreeGrade | undefined;
  if (req.task.base.kind === 'dir') {
    reference = await gradeTask({ ...req, candidate: { kind: 'reference' } });
    if (reference.outcome !== 'pass') problem = [problem, `the reference solution fails (${reference.reason})`].filter(Boolean).join('; ');
  }
  return { id: req.task.id, base, ...(reference ? { reference } : {}), ...(problem ? { problem } : {}), seconds: (performance.now() - started) / 1000 };
}

/** `--validate`: the problems of tasks about to be imported (SWE instances at their base). */
export function taskValidator(req: Omit<GradeTaskRequest, 'candidate' | 'task' | 'suiteCommit'>): (tasks: SuiteTask[]) => Promise<TaskProblem[]> {
  return async (tasks) => {
    const problems: TaskProblem[] = [];
    for (const task of tasks) {
      // Before the import's commit only a SWE task can run: its base is a pinned commit.
      if (task.base.kind !== 'commit') continue;
      const check = await checkTask({ ...req, task, suiteCommit: 'HEAD' });
      if (check.problem) problems.push({ id: task.id, reason: check.problem });
    }
    return problems;
  };
}

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { checkTask, gradeTask, solutionChanges, taskValidator, type Candidate, type TaskCheck, type TreeGrade } from '../../agents/self/index.js';
import { Archive } from '../../archive/index.js';
import { loadConfig } from '../../config/index.js';
import { EvogitError, UsageError } from '../../errors/index.js';
import { createSandbox } from '../../sandbox/index.js';
import { importSuite, listSuites, loadSuite, parseFractions, type ImportResult, type SuiteFormat, type SuiteManifest, type SuiteSummary, type SuiteTask } from '../../suites/index.js';
import type { CommandOutput, GlobalArgs } from '../context.js';

function splitText(s: { search: number; selection: number; heldout: number }): string {
  return `${s.search} search / ${s.selection} selection / ${s.heldout} held-out`;
}

/** `evogit tasks import <path> [--format swe|polyglot] [--name NAME] [--split 0.6,0.2,0.2] [--seed N] [--force] [--validate]`. */
export async function tasksImportCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const format = a.format as string | undefined;
  if (format !== undefined && format !== 'swe' && format !== 'polyglot') throw new UsageError(`--format must be swe or polyglot, not ${format}`);
  const validate = a.validate ? taskValidator({ repoDir: a.C, config: await loadConfig(a.C), sandbox: createSandbox(await loadConfig(a.C)) }) : undefined;
  const r: ImportResult = await importSuite({
    repoDir: a.C,
    source: String(a.path),
    ...(format ? { format: format as SuiteFormat } : {}),
    ...(a.name ? { name: String(a.name) } : {}),
    ...(a.split ? { fractions: parseFractions(String(a.split)) } : {}),
    ...(a.seed !== undefined ? { seed: Number(a.seed) } : {}),
    force: Boolean(a.force),
    ...(validate ? { validate } : {}),
  });
  const text = [
    `Imported suite ${r.name} (${r.format}): ${r.tasks} task(s), ${splitText(r.splits)}`,
    r.unchanged ? `  unchanged: the suite as committed in ${r.commit.slice(0, 12)} is the same; nothing to commit` : `  committed ${r.commit.slice(0, 12)}${r.rootMoved ? ' (the archive root moved to it)' : ''}`,
    ...(a.validate && r.format === 'polyglot' ? ['  --validate checks SWE instances before they are imported; check a Polyglot suite with `evogit tasks validate NAME`'] : []),
    ...r.skipped.map((s) => `  skipped ${s}`),
  ].join('\n');
  return { data: r, text };
}

/** `evogit tasks list [SUITE] [--json]`: the suites, or one suite's tasks with their split. */
export async function tasksListCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  if (a.suite) {
    const suite = await suiteAtRoot(a.C, String(a.suite));
    const tasks = suite.tasks.map((t) => ({ id: t.id, split: t.split, ...(t.language ? { language: t.language } : {}), ...(t.repo ? { repo: t.repo } : {}) }));
    return { data: { suite: suite.name, format: suite.format, tasks }, text: tasks.map((t) => `${t.id.padEnd(48)} ${t.split}`).join('\n') };
  }
  const suites: SuiteSummary[] = await listSuites(a.C);
  const text = suites.length
    ? suites.map((s) => `${s.name.padEnd(16)} ${s.format.padEnd(9)} ${String(s.tasks).padStart(5)} task(s)  ${splitText(s.splits)}  (seed ${s.seed})`).join('\n')
    : 'No suite yet: `evogit tasks import <path>`.';
  return { data: { suites }, text };
}

/** The suite as the evaluator sees it: at the archive root, else at the commit that imported it. */
async function suiteAtRoot(repoDir: string, name: string): Promise<SuiteManifest & { commit: string }> {
  const archive = await Archive.open({ repoDir });
  return loadSuite(archive.repoDir, name, (await archive.root()) ?? 'HEAD');
}

function taskOf(suite: SuiteManifest, id: string): SuiteTask {
  const task = suite.tasks.find((t) => t.id === id);
  if (!task) throw new EvogitError('E_NO_TASK', `suite ${suite.name} has no task ${id}`, `\`evogit tasks list ${suite.name}\` lists its tasks.`);
  return task;
}

function gradeText(task: SuiteTask, what: string, g: TreeGrade): string {
  const t = g.tests ? ` (${g.tests.passed}/${g.tests.total} tests passed)` : '';
  return `${task.id} ${what}: ${g.outcome}${t}\n  ${g.reason}`;
}

/** `evogit tasks grade SUITE TASK [--patch FILE | --solution DIR | --reference] [--log] [--json]`. */
export async function tasksGradeCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const chosen = ['patch', 'solution', 'reference'].filter((k) => a[k]);
  if (chosen.length > 1) throw new UsageError(`give at most one of --patch, --solution and --reference (got ${chosen.map((c) => `--${c}`).join(', ')})`);
  const config = await loadConfig(a.C);
  const suite = await suiteAtRoot(a.C, String(a.suite));
  const task = taskOf(suite, String(a.task));
  let candidate: Candidate = { kind: 'base' };
  let what = task.base.kind === 'dir' ? 'as imported (the stub)' : 'at its base';
  if (a.patch) {
    const file = path.resolve(a.C, String(a.patch));
    const patch = await readFile(file, 'utf8').catch(() => {
      throw new EvogitError('E_USAGE', `cannot read the patch ${file}`, 'Give a unified diff against the task\'s base.');
    });
    candidate = { kind: 'patch', patch };
    what = `with ${path.basename(file)}`;
  } else if (a.solution) {
    candidate = { kind: 'files', changes: await solutionChanges(path.resolve(a.C, String(a.solution)), task) };
    what = `with the solution in ${String(a.solution)}`;
  } else if (a.reference) {
    candidate = { kind: 'reference' };
    what = 'with its reference solution';
  }
  const started = performance.now();
  const g = await gradeTask({ repoDir: a.C, suiteCommit: suite.commit, task, config, sandbox: createSandbox(config), candidate });
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const data = { suite: suite.name, task: task.id, candidate: candidate.kind, outcome: g.outcome, reason: g.reason, ...(g.tests ? { tests: g.tests } : {}), ...(g.testResults ? { testResults: g.testResults } : {}), image: g.image, seconds, log: g.log };
  return { data, text: `${gradeText(task, what, g)}\n  ${seconds} s${a.log ? `\n${g.log}` : ''}` };
}

function checkLine(c: TaskCheck): string {
  const ref = c.reference ? `, reference ${c.reference.outcome}` : '';
  return `${c.problem ? 'INVALID' : 'ok     '} ${c.id.padEnd(40)} as imported ${c.base.outcome}${ref}  ${c.seconds.toFixed(1)} s${c.problem ? `\n        ${c.problem}` : ''}`;
}

/** `evogit tasks validate SUITE [--task ID…]`: every task fails as imported and passes with its reference (Polyglot). */
export async function tasksValidateCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const config = await loadConfig(a.C);
  const suite = await suiteAtRoot(a.C, String(a.suite));
  const only = (a.task as string[] | undefined)?.map(String);
  const tasks = only?.length ? only.map((id) => taskOf(suite, id)) : suite.tasks;
  const sandbox = createSandbox(config);
  const checks: TaskCheck[] = [];
  const lines: string[] = [];
  for (const task of tasks) {
    const c = await checkTask({ repoDir: a.C, suiteCommit: suite.commit, task, config, sandbox });
    checks.push(c);
    lines.push(checkLine(c));
  }
  const invalid = checks.filter((c) => c.problem);
  lines.push(`${tasks.length - invalid.length} of ${tasks.length} task(s) grade honestly${invalid.length ? `; invalid: ${invalid.map((c) => c.id).join(', ')}` : ''}`);
  const data = { suite: suite.name, tasks: checks.map((c) => ({ id: c.id, valid: !c.problem, ...(c.problem ? { problem: c.problem } : {}), base: c.base.outcome, ...(c.reference ? { reference: c.reference.outcome } : {}), seconds: c.seconds })), invalid: invalid.length };
  return { data, text: lines.join('\n'), ...(invalid.length ? { exitCode: 1 } : {}) };
}

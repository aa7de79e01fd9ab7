/**
 * Importing, listing and loading suites. A suite is committed to the evolving repository under
 * `.evogit/suites/<name>/` (suite.json, and a Polyglot suite's exercises), protected from
 * candidates; the base commits of SWE tasks are fetched into refs/evogit/suites/<name>/<id>.
 */
import { cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { Archive } from '../archive/index.js';
import { CONFIG_FILE } from '../config/index.js';
import { EvogitError } from '../errors/index.js';
import { git } from '../git/index.js';
import { polyglotTest } from './languages.js';
import { scanPolyglot } from './polyglot.js';
import { checkFractions, splitOf } from './split.js';
import { parseSweConfig, parseSweJsonl, sweTestFor } from './swe.js';
import { treeWithPatch } from './tree.js';
import { DEFAULT_FRACTIONS, SPLITS, SUITES_DIR, SUITE_REFS, type Split, type SplitFractions, type SuiteFormat, type SuiteManifest, type SuiteTask } from './types.js';

export interface ImportOptions {
  repoDir: string;
  /** A .jsonl file or a directory holding one (SWE), or a Polyglot checkout. */
  source: string;
  format?: SuiteFormat;
  name?: string;
  fractions?: SplitFractions;
  seed?: number;
  /** Replace a suite of the same name. */
  force?: boolean;
  /**
   * Checks the tasks before anything is committed (`--validate`: each SWE instance run at its
   * base with its test patch); the import is refused, naming them, when any task has a problem.
   */
  validate?: (tasks: SuiteTask[]) => Promise<TaskProblem[]>;
}

/** Why a task cannot be graded honestly. */
export interface TaskProblem {
  id: string;
  reason: string;
}

export interface ImportResult {
  name: string;
  format: SuiteFormat;
  tasks: number;
  splits: Record<Split, number>;
  commit: string;
  /** The archive root moved to the import commit (it was the commit the import extended). */
  rootMoved: boolean;
  /** --force on a suite whose content did not change: nothing was committed. */
  unchanged: boolean;
  skipped: string[];
}

const PROTECT = `${SUITES_DIR}/**`;
/**
 * The commit that imported each suite, so grading finds the evaluator's copy of a suite whose
 * import is not the archive root (the import extended a commit on top of the root).
 */
export const SUITE_IMPORTS = 'refs/evogit/suite-imports';

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function findJsonl(source: string): Promise<string | null> {
  if (source.endsWith('.jsonl')) return source;
  if (!(await stat(source).then((s) => s.isDirectory(), () => false))) return null;
  const files = (await readdir(source)).filter((f) => f.endsWith('.jsonl')).sort();
  if (files.length > 1) throw new EvogitError('E_SUITE_SOURCE', `${source} holds several .jsonl files (${files.join(', ')})`, 'Name the file to import.');
  return files[0] ? path.join(source, files[0]) : null;
}

export async function detectFormat(source: string): Promise<SuiteFormat> {
  if (await findJsonl(source)) return 'swe';
  if (await stat(source).then((s) => s.isDirectory(), () => false)) return 'polyglot';
  throw new EvogitError('E_SUITE_SOURCE', `${source} is neither a .jsonl file nor a directory`, 'Import a SWE-bench .jsonl (with its suite.yml) or a Polyglot checkout.');
}

/** The suite config beside a .jsonl: `<base>.yml|json`, else `suite.yml|json` in its folder. */
async function sweConfigFile(jsonl: string): Promise<string> {
  const base = jsonl.replace(/\.jsonl$/, '');
  for (const f of [`${base}.yml`, `${base}.yaml`, `${base}.json`, ...['suite.yml', 'suite.yaml', 'suite.json'].map((n) => path.join(path.dirname(jsonl), n))]) {
    if (await exists(f)) return f;
  }
  throw new EvogitError('E_SUITE_CONFIG', `no suite config beside ${jsonl}`, `Write ${path.basename(base)}.yml with repos (name → git repo) and test (command, setup).`);
}

async function sweTasks(repoDir: string, source: string, name: string, seed: number, fractions: SplitFractions): Promise<SuiteTask[]> {
  const jsonl = (await findJsonl(source))!;
  const file = path.basename(jsonl);
  const records = parseSweJsonl(await readFile(jsonl, 'utf8'), file);
  const configFile = await sweConfigFile(jsonl);
  const config = parseSweConfig(YAML.parse(await readFile(configFile, 'utf8')), path.basename(configFile));
  for (const r of records) {
    if (!(r.repo in config.repos)) throw new EvogitError('E_SUITE_RECORD', `${file}:${r.line}: repo "${r.repo}" is not in ${path.basename(configFile)} repos`, 'Map every repository to a git repository that holds its base commits.');
  }
  // Each repository's branches and tags, fetched once into a scratch namespace; every base
  // commit is then pinned by its own ref, and the scratch refs go away.
  const scratch = `refs/evogit/import-${process.pid}`;
  try {
    const repos = [...new Set(records.map((r) => r.repo))];
    for (const [i, repo] of repos.entries()) {
      const where = config.repos[repo]!;
      const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(where) ? where : path.resolve(path.dirname(configFile), where);
      const r = await git(repoDir, ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', url, `+refs/heads/*:${scratch}/${i}/heads/*`, `+refs/tags/*:${scratch}/${i}/tags/*`], { reject: false });
      if (r.exitCode !== 0) throw new EvogitError('E_SUITE_REPO', `cannot fetch ${repo} from ${url}: ${r.stderr.trim().split('\n').pop()}`, `Fix repos.${repo} in ${path.basename(configFile)}.`);
    }
    for (const r of records) {
      const ok = await git(repoDir, ['cat-file', '-e', `${r.baseCommit}^{commit}`], { reject: false });
      if (ok.exitCode !== 0) throw new EvogitError('E_SUITE_RECORD', `${file}:${r.line}: base_commit ${r.baseCommit} is not in ${r.repo}`, 'The base commit must be reachable from a branch or tag of the repository.');
      // The hidden tests must go in wherever the agent starts: the test patch applies to the base.
      await treeWithPatch(repoDir, `${r.baseCommit}^{tree}`, r.testPatch).catch((e: unknown) => {
        throw new EvogitError('E_SUITE_RECORD', `${file}:${r.line}: test_patch does not apply to base_commit ${r.baseCommit.slice(0, 12)}: ${(e as Error).message.replace(/^the patch does not apply: /, '')}`, 'Make test_patch against base_commit.');
      });
    }
    const tasks: SuiteTask[] = records.map((r) => ({
      id: r.instanceId,
      split: splitOf(r.instanceId, seed, fractions),
      problem: r.problem,
      repo: r.repo,
      base: { kind: 'commit', ref: `${SUITE_REFS}/${name}/${r.instanceId}`, commit: r.baseCommit },
      testPatch: r.testPatch,
      test: sweTestFor(config, r.instanceId),
      grading: { kind: 'tests', failToPass: r.failToPass, passToPass: r.passToPass },
    }));
    for (const t of tasks) if (t.base.kind === 'commit') await git(repoDir, ['update-ref', t.base.ref, t.base.commit]);
    return tasks;
  } finally {
    const left = (await git(repoDir, ['for-each-ref', '--format=%(refname)', scratch], { reject: false })).stdout.split('\n').filter(Boolean);
    if (left.length) await git(repoDir, ['update-ref', '--stdin'], { input: left.map((r) => `delete ${r}\n`).join(''), reject: false });
  }
}

async function polyglotTasks(repoDir: string, source: string, name: string, seed: number, fractions: SplitFractions, skipped: string[]): Promise<SuiteTask[]> {
  const scan = await scanPolyglot(source);
  skipped.push(...scan.skipped);
  const tasks: SuiteTask[] = [];
  for (const ex of scan.exercises) {
    const rel = `${SUITES_DIR}/${name}/exercises/${ex.language}/${ex.slug}`;
    await cp(ex.dir, path.join(repoDir, rel), { recursive: true });
    tasks.push({
      id: ex.id,
      split: splitOf(ex.id, seed, fractions),
      problem: ex.problem,
      language: ex.language,
      // The agent sees the stubs and the instructions; never the tests nor the example solution.
      base: { kind: 'dir', path: rel, exclude: ['.meta/**', ...ex.test, ...ex.example] },
      testFiles: ex.test,
      solutionFiles: ex.solution,
      test: polyglotTest(ex),
      grading: { kind: 'exit-code' },
    });
  }
  return tasks;
}

/** Add the suites folder to test.protected in evogit.yml (comments kept), when the file exists. */
async function protectSuites(repoDir: string): Promise<boolean> {
  const file = path.join(repoDir, CONFIG_FILE);
  if (!(await exists(file))) return false;
  const doc = YAML.parseDocument(await readFile(file, 'utf8'));
  const list = doc.getIn(['test', 'protected']);
  const current = YAML.isSeq(list) ? list.items.map((i) => String(YAML.isScalar(i) ? i.value : i)) : [];
  if (current.includes(PROTECT)) return false;
  doc.setIn(['test', 'protected'], [...current, PROTECT]);
  await writeFile(file, doc.toString());
  return true;
}

export async function importSuite(opts: ImportOptions): Promise<ImportResult> {
  const archive = await Archive.open({ repoDir: opts.repoDir });
  const repoDir = archive.repoDir;
  const source = path.resolve(opts.source);
  if (!(await exists(source))) throw new EvogitError('E_SUITE_SOURCE', `${opts.source} does not exist`, 'Give the path of a SWE-bench .jsonl or of a Polyglot checkout.');
  const format = opts.format ?? (await detectFormat(source));
  const name = opts.name ?? path.basename(source).replace(/\.jsonl$/, '');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new EvogitError('E_SUITE_NAME', `suite name "${name}" is not usable`, 'Use letters, digits, ".", "_" and "-" (pass --name).');
  const fractions = checkFractions(opts.fractions ?? DEFAULT_FRACTIONS);
  const seed = opts.seed ?? 0;
  const dir = path.join(repoDir, SUITES_DIR, name);
  if (await exists(dir)) {
    if (!opts.force) throw new EvogitError('E_SUITE_EXISTS', `a suite named ${name} exists`, 'Pick another --name, or pass --force to replace it.');
    await rm(dir, { recursive: true, force: true });
  }
  const skipped: string[] = [];
  let tasks: SuiteTask[];
  try {
    await mkdir(dir, { recursive: true });
    tasks = format === 'swe' ? await sweTasks(repoDir, source, name, seed, fractions) : await polyglotTasks(repoDir, source, name, seed, fractions, skipped);
  } catch (e) {
    // Nothing imported: the working tree is as before.
    await restore(repoDir, dir, name);
    throw e;
  }
  const problems = opts.validate ? await opts.validate(tasks).catch(async (e: unknown) => {
    await restore(repoDir, dir, name);
    throw e;
  }) : [];
  if (problems.length) {
    await restore(repoDir, dir, name);
    throw new EvogitError(
      'E_SUITE_INVALID',
      `${problems.length} of ${tasks.length} task(s) cannot be graded honestly: ${problems.map((p) => `${p.id}: ${p.reason}`).join('; ')}`,
      'Nothing was imported. Fix or remove those instances and import again.',
    );
  }
  const manifest: SuiteManifest = { version: 1, name, format, seed, fractions, tasks };
  await writeFile(path.join(dir, 'suite.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const oldHead = (await git(repoDir, ['rev-parse', '--verify', 'HEAD^{commit}'])).stdout.trim();
  const paths = [path.posix.join(SUITES_DIR, name)];
  if (await protectSuites(repoDir)) paths.push(CONFIG_FILE);
  await git(repoDir, ['add', '--all', '--', ...paths]);
  const splits = { search: 0, selection: 0, heldout: 0 } as Record<Split, number>;
  for (const t of tasks) splits[t.split]++;
  // --force with the same content: nothing to commit, and the import stands as it was.
  const staged = await git(repoDir, ['diff', '--cached', '--quiet', '--', ...paths], { reject: false });
  if (staged.exitCode === 0) {
    const pinned = await git(repoDir, ['rev-parse', '--verify', '--quiet', `${SUITE_IMPORTS}/${name}^{commit}`], { reject: false });
    const commit = pinned.exitCode === 0 ? pinned.stdout.trim() : oldHead;
    if (pinned.exitCode !== 0) await git(repoDir, ['update-ref', `${SUITE_IMPORTS}/${name}`, commit]);
    return { name, format, tasks: tasks.length, splits, commit, rootMoved: false, unchanged: true, skipped };
  }
  await git(repoDir, ['commit', '--quiet', '--no-verify', '-m', `evogit: import suite ${name} (${format}, ${tasks.length} tasks)`, '-m', 'Hidden tests live here: candidates may not change this folder.', '--', ...paths]);
  const commit = (await git(repoDir, ['rev-parse', '--verify', 'HEAD^{commit}'])).stdout.trim();
  await git(repoDir, ['update-ref', `${SUITE_IMPORTS}/${name}`, commit]);
  const root = await archive.root();
  let rootMoved = false;
  if (root === oldHead) {
    await archive.createRoot(commit, { force: true });
    rootMoved = true;
  }
  return { name, format, tasks: tasks.length, splits, commit, rootMoved, unchanged: false, skipped };
}

/** A refused import leaves the working tree as it was: the suite folder as committed, or none. */
async function restore(repoDir: string, dir: string, name: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const rel = path.posix.join(SUITES_DIR, name);
  const tracked = await git(repoDir, ['ls-tree', '--name-only', 'HEAD', '--', rel], { reject: false });
  if (tracked.stdout.trim()) await git(repoDir, ['checkout', 'HEAD', '--', rel]);
}

/**
 * A suite as committed at `rev` (the root: the evaluator's copy), else at the commit that
 * imported it (kept at refs/evogit/suite-imports/<name>) when `rev` descends from the root the
 * import was not made on. `commit` says where it was read from: grading reads the suite's files there.
 */
export async function loadSuite(repoDir: string, name: string, rev = 'HEAD'): Promise<SuiteManifest & { commit: string }> {
  for (const at of [rev, `${SUITE_IMPORTS}/${name}`]) {
    const commit = await git(repoDir, ['rev-parse', '--verify', '--quiet', `${at}^{commit}`], { reject: false });
    if (commit.exitCode !== 0) continue;
    const r = await git(repoDir, ['cat-file', 'blob', `${commit.stdout.trim()}:${SUITES_DIR}/${name}/suite.json`], { reject: false });
    if (r.exitCode === 0) return { ...(JSON.parse(r.stdout) as SuiteManifest), commit: commit.stdout.trim() };
  }
  throw new EvogitError('E_NO_SUITE', `no suite named ${name} at ${rev.slice(0, 12)}`, 'Import it first: `evogit tasks import <path> --name NAME`; `evogit tasks list` shows what exists.');
}

export interface SuiteSummary {
  name: string;
  format: SuiteFormat;
  tasks: number;
  splits: Record<Split, number>;
  seed: number;
}

export async function listSuites(repoDir: string, rev = 'HEAD'): Promise<SuiteSummary[]> {
  const r = await git(repoDir, ['ls-tree', '-z', '--name-only', `${rev}:${SUITES_DIR}`], { reject: false });
  if (r.exitCode !== 0) return [];
  const out: SuiteSummary[] = [];
  for (const name of r.stdout.split('\0').filter(Boolean).sort()) {
    const m = await loadSuite(repoDir, name, rev);
    const splits = Object.fromEntries(SPLITS.map((s) => [s, m.tasks.filter((t) => t.split === s).length])) as Record<Split, number>;
    out.push({ name, format: m.format, tasks: m.tasks.length, splits, seed: m.seed });
  }
  return out;
}

/** The tasks of one split (or all). */
export function tasksOf(manifest: SuiteManifest, split?: Split): SuiteTask[] {
  return split ? manifest.tasks.filter((t) => t.split === split) : manifest.tasks;
}

/** The id a suite task's evaluations carry in the archive: `<suite>/<id>`. */
export function evaluationTaskId(suite: string, taskId: string): string {
  return `${suite}/${taskId}`;
}

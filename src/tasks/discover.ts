/**
 * Tasks of a plain project: its test files in the base commit, one task per file (or
 * shards, or the whole suite), with the command templated for the project's runner so that
 * results land in a machine-readable file. `detectProject` is what `evogit init` proposes.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/index.js';
import type { TaskSpec } from './types.js';
import { globToRegExp, matchesAny } from './glob.js';
import { listFiles } from '../git/reads.js';
import { findSupport, type Support } from './support.js';
import { Git } from '../git/index.js';
import { run } from '../proc/index.js';
import { HARNESS_DIR, RESULTS_TOKEN, TIMEOUT_MS_TOKEN, TIMEOUT_S_TOKEN, formatOf, runnerOf, testCommand } from './command.js';

export { HARNESS_DIR, RESULTS_TOKEN, TIMEOUT_MS_TOKEN, TIMEOUT_S_TOKEN, FILES_TOKEN, REPORT_FLAGS, formatOf, runnerOf, shellWords, testCommand, type Runner } from './command.js';

/** Variables a task run gets beyond the sandbox's own: evogit's pytest plugin is importable. */
export const HARNESS_ENV: Record<string, string> = { PYTHONPATH: `{work}/${HARNESS_DIR}` };

/** A task's command with the run's result path and limit in place of the tokens (pure). */
export function fillCommand(command: string[], run: { results: string; timeoutMs: number }): string[] {
  const seconds = String(Math.max(0.001, run.timeoutMs / 1000));
  return command.map((a) => a.split(RESULTS_TOKEN).join(run.results).split(TIMEOUT_MS_TOKEN).join(String(Math.max(1, Math.round(run.timeoutMs)))).split(TIMEOUT_S_TOKEN).join(seconds));
}

/** Does the command hand the limit to the runner (which then ends the run itself)? */
export const runnerHasTimeout = (command: string[]): boolean => command.some((a) => a.includes(TIMEOUT_MS_TOKEN) || a.includes(TIMEOUT_S_TOKEN));

export const DEFAULT_PATTERNS: Record<'javascript' | 'python', string[]> = {
  javascript: ['**/*.{test,spec}.{js,mjs,cjs,ts,mts,cts,jsx,tsx}', '{test,tests,__tests__}/**/*.{js,mjs,cjs,ts,mts}'],
  python: ['**/test_*.py', '**/*_test.py'],
};

const IGNORED = ['node_modules/**', '**/node_modules/**', '.git/**', 'dist/**', '**/fixtures/**', '**/helpers/**'];

export interface DiscoverOptions {
  mode: 'files' | 'shards' | 'single';
  patterns: string[];
  shards: number;
}

/** Test files among `files` (pure). */
export function selectTestFiles(files: string[], patterns: string[]): string[] {
  const res = patterns.map(globToRegExp);
  return files.filter((f) => !matchesAny(f, IGNORED) && res.some((re) => re.test(f))).sort();
}

function languageKey(config: Config, files: string[]): 'javascript' | 'python' {
  if (config.language === 'python') return 'python';
  if (config.language === 'javascript' || config.language === 'typescript') return 'javascript';
  return runnerOf(config.test.command) === 'pytest' || runnerOf(config.test.command) === 'unittest' || files.some((f) => f.endsWith('.py')) && !files.includes('package.json') ? 'python' : 'javascript';
}

/** Build the task list from a list of the base commit's files (pure). */
export function tasksFromFiles(files: string[], config: Config): TaskSpec[] {
  const runner = runnerOf(config.test.command);
  const patterns = config.test.tasks.pattern.length ? config.test.tasks.pattern : DEFAULT_PATTERNS[languageKey(config, files)];
  const tests = selectTestFiles(files, patterns);
  const format = config.test.format === 'auto' ? formatOf(runner) : config.test.format;
  const make = (id: string, group: string[]): TaskSpec => ({
    id,
    setup: config.test.setup.length ? config.test.setup : undefined,
    hiddenFiles: group.length ? group : tests,
    command: testCommand(runner, group, config.test.command),
    resultFile: runner === 'custom' ? config.test.resultFile : RESULTS_TOKEN,
    resultFormat: format,
    grading: { kind: 'exit-code' },
  });
  const mode = config.test.tasks.mode;
  if (mode === 'single' || tests.length === 0 || runner === 'custom' && !String(config.test.command).includes('{files}')) {
    return [make('all', tests)];
  }
  if (mode === 'shards') {
    const n = Math.min(config.test.tasks.shards, tests.length);
    const groups: string[][] = Array.from({ length: n }, () => []);
    tests.forEach((f, i) => groups[i % n]!.push(f));
    return groups.map((g, i) => make(`shard-${i + 1}-of-${n}`, g));
  }
  return tests.map((f) => make(f, [f]));
}

const supportCache = new Map<string, Promise<Support>>();

/**
 * The tasks of the root commit, each hiding (and protecting) its test files and every file the
 * tests use (support.ts), found once per repository, root and test files.
 */
export async function discoverTasks(repoDir: string, root: string, config: Config): Promise<TaskSpec[]> {
  const files = await listFiles(repoDir, root);
  const tasks = tasksFromFiles(files, config);
  const tests = [...new Set(tasks.flatMap((t) => t.hiddenFiles))].sort();
  const key = `${repoDir}\0${root}\0${tests.join('\0')}`;
  let support = supportCache.get(key);
  if (!support) {
    const git = new Git(repoDir);
    support = findSupport(files, tests, async (paths) => {
      const objects = await git.catFiles(paths.map((p) => `${root}:${p}`));
      return new Map(paths.flatMap((p) => {
        const o = objects.get(`${root}:${p}`);
        return o && o.type === 'blob' && o.content.length <= 1024 * 1024 ? [[p, o.content] as [string, string]] : [];
      }));
    });
    supportCache.set(key, support);
    support.catch(() => supportCache.delete(key));
  }
  const found = await support;
  return tasks.map((t) => ({ ...t, hiddenFiles: [...t.hiddenFiles, ...found.paths.filter((p) => !t.hiddenFiles.includes(p))], supportGlobs: found.globs }));
}

export interface DetectedProject {
  language: 'javascript' | 'typescript' | 'python' | 'go' | 'rust' | 'other';
  /** null when nothing says how the project is tested: `evogit init` then asks for --test. */
  testCommand: string | null;
  install: string[];
  image: string;
}

async function readJson(file: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    // Absent or not JSON: the project is not (this kind of) Node project.
    return null;
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Files git tracks in the working tree (none outside a repository). */
async function trackedFiles(repoDir: string): Promise<string[]> {
  const r = await run('git', ['ls-files', '-z'], { cwd: repoDir, reject: false });
  return r.exitCode === 0 ? r.stdout.split('\0').filter(Boolean) : [];
}

/**
 * A Python project: a manifest (pyproject.toml, setup.py, setup.cfg, requirements.txt), a
 * pytest layout (conftest.py, pytest.ini, tox.ini or setup.cfg with a pytest section), or test
 * files (test_*.py, *_test.py). pytest when anything says so (its config, a conftest.py, a
 * requirement, a test file that imports it), else unittest.
 */
async function detectPython(repoDir: string): Promise<DetectedProject | null> {
  const files = await trackedFiles(repoDir);
  const has = (f: string): boolean => files.includes(f);
  const text = (f: string): Promise<string> => readFile(path.join(repoDir, f), 'utf8').catch(() => '');
  const tests = selectTestFiles(files, DEFAULT_PATTERNS.python);
  const manifests = ['pyproject.toml', 'setup.py', 'setup.cfg', 'requirements.txt'].filter(has);
  const conftest = files.some((f) => f === 'conftest.py' || f.endsWith('/conftest.py'));
  if (!manifests.length && !conftest && !has('pytest.ini') && !has('tox.ini') && !tests.length) return null;
  const [toml = '', reqs = '', cfg = '', tox = ''] = await Promise.all(['pyproject.toml', 'requirements.txt', 'setup.cfg', 'tox.ini'].map(text));
  const testImportsPytest = async (): Promise<boolean> => {
    for (const f of tests.slice(0, 20)) if (/^\s*(import pytest|from pytest\b)/m.test(await text(f))) return true;
    return false;
  };
  const usesPytest = conftest || has('pytest.ini') || /\[tool\.pytest/.test(toml) || /pytest/.test(reqs) || /^\[(tool:)?pytest\]/m.test(cfg) || /^\[(tool:)?pytest\]/m.test(tox) || (await testImportsPytest());
  const install = has('requirements.txt') ? ['pip install --user -r requirements.txt'] : has('pyproject.toml') || has('setup.py') ? ['pip install --user .'] : [];
  return { language: 'python', testCommand: usesPytest ? 'python3 -m pytest' : 'python3 -m unittest', install, image: 'evogit/python:3' };
}

/** What to pass as --test when nothing says how the project is tested, in the project's own language. */
export function testCommandHint(files: string[]): string {
  const ext = (e: string): boolean => files.some((f) => f.endsWith(e));
  if (ext('.py')) return 'evogit init --test "python3 -m pytest"';
  if (ext('.go')) return 'evogit init --test "go test ./..."';
  if (ext('.rs')) return 'evogit init --test "cargo test"';
  if (ext('.java')) return 'evogit init --test "mvn -q test"';
  if (ext('.c') || ext('.cpp') || ext('.cc')) return 'evogit init --test "make test"';
  if (ext('.js') || ext('.ts') || ext('.mjs')) return 'evogit init --test "node --test"';
  return 'evogit init --test "<the command that runs your tests>"';
}

/** What `evogit init` proposes for a working tree. */
export async function detectProject(repoDir: string): Promise<DetectedProject> {
  const pkg = await readJson(path.join(repoDir, 'package.json'));
  if (pkg) {
    const deps = { ...((pkg.dependencies as Record<string, string>) ?? {}), ...((pkg.devDependencies as Record<string, string>) ?? {}) };
    const script = String((pkg.scripts as Record<string, string> | undefined)?.test ?? '');
    const language = 'typescript' in deps || (await exists(path.join(repoDir, 'tsconfig.json'))) ? 'typescript' : 'javascript';
    const testCommand = 'vitest' in deps || /vitest/.test(script) ? 'npx vitest run' : 'jest' in deps || /jest/.test(script) ? 'npx jest' : 'node --test';
    const lock = await exists(path.join(repoDir, 'package-lock.json'));
    const install = lock ? ['npm ci --no-audit --no-fund'] : Object.keys(deps).length ? ['npm install --no-audit --no-fund'] : [];
    return { language, testCommand, install, image: 'evogit/node:20' };
  }
  const python = await detectPython(repoDir);
  if (python) return python;
  if (await exists(path.join(repoDir, 'go.mod'))) return { language: 'go', testCommand: 'go test ./...', install: ['go mod download'], image: 'evogit/go:1' };
  if (await exists(path.join(repoDir, 'Cargo.toml'))) return { language: 'rust', testCommand: 'cargo test', install: ['cargo fetch'], image: 'evogit/rust:1' };
  const makefile = await readFile(path.join(repoDir, 'Makefile'), 'utf8').catch(() => '');
  if (/^test\s*:/m.test(makefile)) return { language: 'other', testCommand: 'make test', install: [], image: 'evogit/node:20' };
  return { language: 'other', testCommand: null, install: [], image: 'evogit/node:20' };
}


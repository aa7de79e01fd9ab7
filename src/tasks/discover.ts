/**
 * Tasks of a plain project: its test files in the base commit, one task per file (or
 * shards, or the whole suite), with the command templated for the project's runner so that
 * results land in a machine-readable file. `detectProject` is what `evogit init` proposes.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { shellQuote } from '../proc/index.js';
import type { TaskSpec, ResultFormat } from './types.js';
import { globToRegExp, matchesAny } from './glob.js';
import { listFiles } from '../git/reads.js';
import { findSupport, type Support } from './support.js';
import { Git } from '../git/index.js';

/** In a task command: replaced at run time by a result path chosen fresh for every run. */
export const RESULTS_TOKEN = '{results}';
/** The harness folder inside the work dir (overlaid from evogit's own copy every run). */
export const HARNESS_DIR = '.evogit-harness';
/**
 * In a task command: replaced at run time by the run's limit (test.timeout), in milliseconds or
 * seconds, where the runner takes a timeout of its own: it then ends the run itself and still
 * writes its report, and the sandbox's kill comes only a little later (tasks/timeout.ts).
 */
export const TIMEOUT_MS_TOKEN = '{timeout_ms}';
export const TIMEOUT_S_TOKEN = '{timeout_s}';
/** Variables a task run gets beyond the sandbox's own: evogit's pytest plugin is importable. */
export const HARNESS_ENV: Record<string, string> = { PYTHONPATH: `{work}/${HARNESS_DIR}` };

/** A task's command with the run's result path and limit in place of the tokens (pure). */
export function fillCommand(command: string[], run: { results: string; timeoutMs: number }): string[] {
  const seconds = String(Math.max(0.001, run.timeoutMs / 1000));
  return command.map((a) => a.split(RESULTS_TOKEN).join(run.results).split(TIMEOUT_MS_TOKEN).join(String(Math.max(1, Math.round(run.timeoutMs)))).split(TIMEOUT_S_TOKEN).join(seconds));
}

/** Does the command hand the limit to the runner (which then ends the run itself)? */
export const runnerHasTimeout = (command: string[]): boolean => command.some((a) => a.includes(TIMEOUT_MS_TOKEN) || a.includes(TIMEOUT_S_TOKEN));

export type Runner = 'node-test' | 'vitest' | 'jest' | 'pytest' | 'unittest' | 'custom';

export const DEFAULT_PATTERNS: Record<'javascript' | 'python', string[]> = {
  javascript: ['**/*.{test,spec}.{js,mjs,cjs,ts,mts,cts,jsx,tsx}', '{test,tests,__tests__}/**/*.{js,mjs,cjs,ts,mts}'],
  python: ['**/test_*.py', '**/*_test.py'],
};

const IGNORED = ['node_modules/**', '**/node_modules/**', '.git/**', 'dist/**', '**/fixtures/**', '**/helpers/**'];

export function runnerOf(command: string | string[]): Runner {
  const text = Array.isArray(command) ? command.join(' ') : command;
  if (/\bvitest\b/.test(text)) return 'vitest';
  if (/\bjest\b/.test(text)) return 'jest';
  if (/\bpytest\b/.test(text)) return 'pytest';
  if (/\bunittest\b/.test(text)) return 'unittest';
  if (/\bnode\b.*--test\b/.test(text) || /^npm (run )?test$/.test(text.trim())) return 'node-test';
  return 'custom';
}

export function formatOf(runner: Runner): ResultFormat {
  switch (runner) {
    case 'node-test':
      return 'tap';
    case 'vitest':
      return 'vitest-json';
    case 'jest':
      return 'jest-json';
    case 'pytest':
    case 'unittest':
      return 'junit';
    case 'custom':
      return 'none';
  }
}

/**
 * The argument array that runs `files` with `runner` and writes results to {results}.
 * Custom commands run through /bin/sh with `{files}` replaced by the quoted file list.
 */
export function testCommand(runner: Runner, files: string[], custom?: string | string[]): string[] {
  switch (runner) {
    // node --test runs each file in a child process and ends a file that passes its timeout
    // (a synchronous loop included); jest and vitest time out only tests that yield.
    case 'node-test':
      return ['node', '--test', `--test-timeout=${TIMEOUT_MS_TOKEN}`, '--test-reporter=tap', `--test-reporter-destination=${RESULTS_TOKEN}`, ...files];
    case 'vitest':
      return ['npx', '--no-install', 'vitest', 'run', `--testTimeout=${TIMEOUT_MS_TOKEN}`, '--reporter=json', `--outputFile=${RESULTS_TOKEN}`, ...files];
    case 'jest':
      return ['npx', '--no-install', 'jest', '--ci', `--testTimeout=${TIMEOUT_MS_TOKEN}`, '--json', `--outputFile=${RESULTS_TOKEN}`, ...files];
    case 'pytest':
      return ['python3', '-m', 'pytest', '-rA', '-p', 'no:cacheprovider', '-p', 'evogit_timeout', `--evogit-timeout=${TIMEOUT_S_TOKEN}`, `--junitxml=${RESULTS_TOKEN}`, ...files];
    case 'unittest':
      return ['python3', `{work}/${HARNESS_DIR}/unittest_junit.py`, '--out', RESULTS_TOKEN, '--timeout', TIMEOUT_S_TOKEN, ...files];
    case 'custom': {
      if (Array.isArray(custom)) return custom;
      const text = custom ?? 'false';
      return ['/bin/sh', '-c', text.includes('{files}') ? text.replace('{files}', files.map(shellQuote).join(' ')) : text];
    }
  }
}

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
  const custom = runner === 'custom' ? config.test.command : undefined;
  const make = (id: string, group: string[]): TaskSpec => ({
    id,
    setup: config.test.setup.length ? config.test.setup : undefined,
    hiddenFiles: group.length ? group : tests,
    command: testCommand(runner, group, custom),
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
  const py = ['pyproject.toml', 'setup.py', 'setup.cfg', 'requirements.txt'];
  const found = await Promise.all(py.map((f) => exists(path.join(repoDir, f))));
  const pyFiles = found.some(Boolean);
  if (pyFiles) {
    const toml = found[0] ? await readFile(path.join(repoDir, 'pyproject.toml'), 'utf8') : '';
    const reqs = found[3] ? await readFile(path.join(repoDir, 'requirements.txt'), 'utf8') : '';
    const usesPytest = /pytest/.test(toml) || /pytest/.test(reqs) || (await exists(path.join(repoDir, 'pytest.ini'))) || (await exists(path.join(repoDir, 'conftest.py')));
    const install = found[3] ? ['pip install --user -r requirements.txt'] : found[0] || found[1] ? ['pip install --user .'] : [];
    return { language: 'python', testCommand: usesPytest ? 'python3 -m pytest' : 'python3 -m unittest', install, image: 'evogit/python:3' };
  }
  if (await exists(path.join(repoDir, 'go.mod'))) return { language: 'go', testCommand: 'go test ./...', install: ['go mod download'], image: 'golang:1.22' };
  if (await exists(path.join(repoDir, 'Cargo.toml'))) return { language: 'rust', testCommand: 'cargo test', install: ['cargo fetch'], image: 'rust:1' };
  const makefile = await readFile(path.join(repoDir, 'Makefile'), 'utf8').catch(() => '');
  if (/^test\s*:/m.test(makefile)) return { language: 'other', testCommand: 'make test', install: [], image: 'evogit/node:20' };
  return { language: 'other', testCommand: null, install: [], image: 'evogit/node:20' };
}


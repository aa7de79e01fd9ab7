/**
 * The test command of a task (pure): the user's own command, run with its own flags, with
 * evogit's report flags inserted just after the runner's name (so results land in a
 * machine-readable file at a path chosen per run) and the task's test files at the end (or at
 * `{files}`). Only a runner evogit recognises where it is invoked gets report flags; anything
 * else runs exactly as written and is graded by its exit code.
 */
import { shellQuote } from '../proc/index.js';
import type { ResultFormat } from './types.js';

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
/** In a user's command: where the task's test files go (else at the end). */
export const FILES_TOKEN = '{files}';

export type Runner = 'node-test' | 'vitest' | 'jest' | 'pytest' | 'unittest' | 'custom';

/**
 * What evogit adds to a recognised runner, and nothing else (the README lists these).
 * pytest's xunit1 report carries each test's file, so ids are pytest's own node ids.
 */
export const REPORT_FLAGS: Readonly<Record<Exclude<Runner, 'unittest' | 'custom'>, readonly string[]>> = {
  'node-test': [`--test-timeout=${TIMEOUT_MS_TOKEN}`, '--test-reporter=tap', `--test-reporter-destination=${RESULTS_TOKEN}`],
  vitest: [`--testTimeout=${TIMEOUT_MS_TOKEN}`, '--reporter=json', `--outputFile=${RESULTS_TOKEN}`],
  jest: ['--ci', `--testTimeout=${TIMEOUT_MS_TOKEN}`, '--json', `--outputFile=${RESULTS_TOKEN}`],
  pytest: ['-rA', '-p', 'no:cacheprovider', '-p', 'evogit_timeout', `--evogit-timeout=${TIMEOUT_S_TOKEN}`, '-o', 'junit_family=xunit1', `--junitxml=${RESULTS_TOKEN}`],
};

/** How each runner is started when the config gives no command of its own. */
const DEFAULT_COMMANDS: Readonly<Record<Exclude<Runner, 'unittest' | 'custom'>, readonly string[]>> = {
  'node-test': ['node', '--test'],
  vitest: ['npx', '--no-install', 'vitest', 'run'],
  jest: ['npx', '--no-install', 'jest'],
  pytest: ['python3', '-m', 'pytest'],
};

/** Words that may stand before a runner's name in a command (launchers, env assignments). */
const LAUNCHERS = new Set(['npx', 'exec', 'run', '--no-install', '-m', 'env', 'time', 'uv', 'poetry', 'pipenv', 'pdm', 'hatch', 'yarn', 'pnpm', 'bunx', 'coverage', '--']);

/**
 * Shell words of a simple command (quotes and backslashes), or null when it uses the shell's
 * syntax (pipes, `&&`, substitutions, globs, redirections): that runs through /bin/sh as written.
 */
export function shellWords(text: string): string[] | null {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return null;
      word += text.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) word += text[++j]!;
        else if ('$`'.includes(text[j]!)) return null;
        else word += text[j]!;
      }
      if (j >= text.length) return null;
      inWord = true;
      i = j;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i]!;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (';&|<>()$`*?[]~!#'.includes(c) || (c === '{' && !text.startsWith(FILES_TOKEN, i))) {
      return null;
    } else if (c === '{') {
      word += FILES_TOKEN;
      inWord = true;
      i += FILES_TOKEN.length - 1;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

const RUNNER_NAMES: ReadonlyArray<[Exclude<Runner, 'custom'>, RegExp]> = [
  ['vitest', /^(?:.*\/)?vitest(?:\.m?js)?$/],
  ['jest', /^(?:.*\/)?jest(?:\.js)?$/],
  ['pytest', /^(?:.*\/)?(?:pytest|py\.test)$/],
  ['unittest', /^unittest$/],
];

/** The runner a command starts, and the index of the word after which evogit's flags go. */
function locate(words: readonly string[]): { runner: Runner; at: number } | null {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const prev = i === 0 ? '' : words[i - 1]!;
    const starts = i === 0 || LAUNCHERS.has(prev) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(prev) || /(^|\/)(python3?(\.\d+)?|node|npx)$/.test(prev);
    if (w === '--test' && words.slice(0, i).some((x) => /(^|\/)node$/.test(x))) return { runner: 'node-test', at: i };
    if (!starts) continue;
    for (const [runner, re] of RUNNER_NAMES) {
      if (!re.test(w)) continue;
      if (runner === 'unittest' && prev !== '-m') continue;
      // `vitest` alone watches; evogit runs it once (`run`), as `vitest run` does.
      return { runner, at: runner === 'vitest' && words[i + 1] === 'run' ? i + 1 : i };
    }
  }
  return null;
}

const NPM_TEST = /^npm (run )?test$/;

export function runnerOf(command: string | string[]): Runner {
  const text = Array.isArray(command) ? command.join(' ') : command.trim();
  // `npm test` cannot be given report flags (its script may be anything): it means node --test.
  if (NPM_TEST.test(text)) return 'node-test';
  const words = Array.isArray(command) ? command : (shellWords(command) ?? shellWords(firstSimpleCommand(command)) ?? []);
  return locate(words)?.runner ?? 'custom';
}

/** The words up to the first shell operator, to find the runner in `cd x && pytest -x`. */
function firstSimpleCommand(text: string): string {
  const parts = text.split(/&&|\|\||;|\|/).map((p) => p.trim());
  return parts.find((p) => shellWords(p) && locate(shellWords(p)!)) ?? '';
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

function withFiles(words: string[], files: string[]): string[] {
  const at = words.indexOf(FILES_TOKEN);
  return at >= 0 ? [...words.slice(0, at), ...files, ...words.slice(at + 1)] : [...words, ...files];
}

/**
 * The argument array that runs `files` with `runner` and writes results to {results}: the
 * user's `command` with its own flags kept and evogit's report flags inserted after the
 * runner's name (the runner's usual command when none is given). unittest runs through the
 * bundled harness (it writes JUnit); a custom command runs through /bin/sh with `{files}`
 * replaced by the quoted file list.
 */
export function testCommand(runner: Runner, files: string[], command?: string | string[]): string[] {
  if (runner === 'unittest') return ['python3', `{work}/${HARNESS_DIR}/unittest_junit.py`, '--out', RESULTS_TOKEN, '--timeout', TIMEOUT_S_TOKEN, ...files];
  if (runner === 'custom') {
    if (Array.isArray(command)) return command.includes(FILES_TOKEN) ? withFiles(command, files) : command;
    const text = command ?? 'false';
    return ['/bin/sh', '-c', text.includes(FILES_TOKEN) ? text.replace(FILES_TOKEN, files.map(shellQuote).join(' ')) : text];
  }
  const flags = REPORT_FLAGS[runner];
  const given = command === undefined || (!Array.isArray(command) && NPM_TEST.test(command.trim())) ? [...DEFAULT_COMMANDS[runner]] : command;
  const words = Array.isArray(given) ? given : shellWords(given);
  const spot = words ? locate(words) : null;
  if (words && spot) return withFiles([...words.slice(0, spot.at + 1), ...flags, ...words.slice(spot.at + 1)], files);
  // Shell syntax: the flags go after the runner's name in the text, which /bin/sh then runs.
  const text = given as string;
  const simple = firstSimpleCommand(text);
  const inner = simple ? locate(shellWords(simple)!) : null;
  if (!simple || !inner) return testCommand('custom', files, text);
  const simpleWords = shellWords(simple)!;
  const rewritten = [...simpleWords.slice(0, inner.at + 1), ...flags, ...simpleWords.slice(inner.at + 1)].map((w) => (w === FILES_TOKEN ? w : shellQuote(w))).join(' ');
  const replaced = text.replace(simple, rewritten);
  const filesText = files.map(shellQuote).join(' ');
  return ['/bin/sh', '-c', replaced.includes(FILES_TOKEN) ? replaced.replace(FILES_TOKEN, filesText) : files.length ? `${replaced} ${filesText}` : replaced];
}

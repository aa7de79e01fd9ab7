/**
 * Polyglot style suites (Aider's benchmark of Exercism exercises):
 * `<language>/exercises/practice/<slug>/` with `.docs/instructions.md` (the problem) and
 * `.meta/config.json` naming files.solution, files.test and files.example. The test files are
 * hidden from the agent and copied in fresh for every grading run.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { EvogitError } from '../errors/index.js';
import { HARNESS_DIR, RESULTS_TOKEN } from '../tasks/index.js';
import type { SuiteTest } from './types.js';

export const POLYGLOT_LANGUAGES = ['javascript', 'python'] as const;
export type PolyglotLanguage = (typeof POLYGLOT_LANGUAGES)[number];

export interface Exercise {
  /** `<language>/<slug>`. */
  id: string;
  language: PolyglotLanguage;
  slug: string;
  /** Absolute path of the exercise directory. */
  dir: string;
  /** Relative to `dir`. */
  solution: string[];
  test: string[];
  example: string[];
  problem: string;
}

/** How a language's exercise tests run, with a machine-readable result file. */
export function polyglotTest(language: PolyglotLanguage, testFiles: string[]): SuiteTest {
  if (language === 'javascript') {
    return { command: ['node', '--test', '--test-reporter=tap', `--test-reporter-destination=${RESULTS_TOKEN}`, ...testFiles], format: 'tap', resultFile: RESULTS_TOKEN };
  }
  return { command: ['python3', `{work}/${HARNESS_DIR}/unittest_junit.py`, '--out', RESULTS_TOKEN, ...testFiles], format: 'junit', resultFile: RESULTS_TOKEN };
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

function fileList(value: unknown, what: string, where: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v && !v.startsWith('/') && !v.split('/').includes('..'))) {
    throw new EvogitError('E_SUITE_RECORD', `${where}: files.${what} is not a non-empty list of relative paths`, 'Each .meta/config.json names files.solution, files.test and files.example.');
  }
  return value as string[];
}

/** Every exercise under a Polyglot checkout (languages it does not support are reported, not guessed). */
export async function scanPolyglot(root: string): Promise<{ exercises: Exercise[]; skipped: string[] }> {
  const exercises: Exercise[] = [];
  const skipped: string[] = [];
  const langs = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
  for (const lang of langs) {
    const practice = path.join(root, lang, 'exercises', 'practice');
    if (!(await isDir(practice))) continue;
    if (!(POLYGLOT_LANGUAGES as readonly string[]).includes(lang)) {
      skipped.push(`${lang} (no test command for this language yet)`);
      continue;
    }
    for (const slug of (await readdir(practice)).sort()) {
      const dir = path.join(practice, slug);
      if (!(await isDir(dir))) continue;
      const where = path.join(lang, 'exercises', 'practice', slug, '.meta', 'config.json');
      let meta: { files?: Record<string, unknown> };
      try {
        meta = JSON.parse(await readFile(path.join(dir, '.meta', 'config.json'), 'utf8')) as typeof meta;
      } catch (e) {
        throw new EvogitError('E_SUITE_RECORD', `${where}: missing or not JSON (${(e as Error).message})`, 'Every exercise needs .meta/config.json.');
      }
      const files = meta.files ?? {};
      const solution = fileList(files.solution, 'solution', where);
      const test = fileList(files.test, 'test', where);
      const example = fileList(files.example, 'example', where);
      let problem: string;
      try {
        problem = await readFile(path.join(dir, '.docs', 'instructions.md'), 'utf8');
      } catch {
        throw new EvogitError('E_SUITE_RECORD', `${path.join(lang, 'exercises', 'practice', slug)}: no .docs/instructions.md`, 'The instructions are the problem statement.');
      }
      const extra = path.join(dir, '.docs', 'instructions.append.md');
      problem += await readFile(extra, 'utf8').then((t) => `\n${t}`, () => '');
      for (const f of test) {
        if (!(await stat(path.join(dir, f)).catch(() => null))) throw new EvogitError('E_SUITE_RECORD', `${where}: test file ${f} does not exist`, 'files.test must name files of the exercise.');
      }
      exercises.push({ id: `${lang}/${slug}`, language: lang as PolyglotLanguage, slug, dir, solution, test, example, problem });
    }
  }
  if (exercises.length === 0) {
    throw new EvogitError('E_SUITE_EMPTY', `no exercise under ${root}`, 'A Polyglot suite looks like <language>/exercises/practice/<slug>/.meta/config.json.');
  }
  return { exercises, skipped };
}

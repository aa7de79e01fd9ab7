/**
 * Polyglot style suites (Aider's benchmark of Exercism exercises):
 * `<language>/exercises/practice/<slug>/` with `.docs/instructions.md` (the problem) and
 * `.meta/config.json` naming files.solution, files.test and files.example. The test files are
 * hidden from the agent and copied in fresh for every grading run.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { EvogitError } from '../errors/index.js';
import { POLYGLOT_LANGUAGES, type PolyglotLanguage } from './languages.js';

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
  /** JavaScript: its package.json declares Jest (the benchmark's exercises do). */
  jest?: boolean;
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

/** Does the exercise's package.json name Jest (as a dependency or in its test script)? */
async function declaresJest(dir: string): Promise<boolean> {
  const pkg = await readFile(path.join(dir, 'package.json'), 'utf8').then(
    (t) => JSON.parse(t) as { dependencies?: object; devDependencies?: object; scripts?: { test?: string } },
    () => null,
  );
  if (!pkg) return false;
  return 'jest' in (pkg.devDependencies ?? {}) || 'jest' in (pkg.dependencies ?? {}) || /\bjest\b/.test(pkg.scripts?.test ?? '');
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
      const n = (await readdir(practice, { withFileTypes: true })).filter((d) => d.isDirectory()).length;
      skipped.push(`${lang}: ${n} exercise(s) not imported (evogit has no test command for ${lang})`);
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
      const jest = lang === 'javascript' && (await declaresJest(dir));
      exercises.push({ id: `${lang}/${slug}`, language: lang as PolyglotLanguage, slug, dir, solution, test, example, problem, ...(jest ? { jest } : {}) });
    }
  }
  if (exercises.length === 0) {
    throw new EvogitError('E_SUITE_EMPTY', `no exercise under ${root}`, 'A Polyglot suite looks like <language>/exercises/practice/<slug>/.meta/config.json.');
  }
  return { exercises, skipped };
}

/**
 * The JavaScript part of the bench/repair corpus: one-line bug fixes from public projects'
 * histories. Each `corpus/js/<name>/bug.json` names the fix commit; at bench time the buggy
 * repository is built from the commit's parent (the file with the bug and the sources it
 * needs), with the fix commit's own test files, and the known fix is the commit's version of
 * the buggy file.
 *
 * The projects ran their tests on tape, uvu or mocha; here the test files are the project's,
 * changed only in their imports (`imports`: a specifier → another, or `stand-in:FILE` for our
 * small stand-ins of those runners on node:test under bench/repair/stand-ins/, copied into
 * the repository's test/helpers/), so `node --test` runs them without installing anything.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUG_CLASSES, type BugClass, type Program } from './program.js';
import { put, type Need, type Snapshot } from './sources.js';

const STAND_INS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'stand-ins');
/** Where the stand-ins go in a program's repository (test code: the agents may not edit it). */
const HELPERS = 'test/helpers';

export interface JsBugManifest {
  /** `owner/name` of the upstream repository. */
  repo: string;
  /** The fix commit: the buggy program is its parent, the known fix the commit itself. */
  commit: string;
  class: BugClass;
  /** The known fix, one line. */
  fix: string;
  /** Repository-relative path of the file with the bug. */
  buggy: string;
  /** Other files of the parent commit the tests need (besides `buggy`). */
  sources?: string[];
  /** Test files, as of the fix commit. */
  tests: string[];
  /** Other files of the fix commit the tests read (fixtures). */
  fixtures?: string[];
  /** `type` of the package.json we write: how node reads `.js` files. */
  module: 'module' | 'commonjs';
  /** Module specifiers of the test files → what they become (`stand-in:tape.cjs` = our stand-in). */
  imports?: Record<string, string>;
  /**
   * Module specifiers of the source files (the buggy one and `sources`, and the known fix) →
   * what they become: extensionless relative imports that the project's ESM loader resolved
   * (`./utils` → `./utils.js`), so node runs them as they are.
   */
  sourceImports?: Record<string, string>;
  /**
   * Turn `const x = require('y')` into an import in the tests (an ES module under test, which
   * the project's build turned into CommonJS): `import x from 'y'`, or `import * as x from 'y'`
   * when `y` is one of our sources without a default export.
   */
  requireToImport?: boolean;
  /** Default `node --test`. */
  test?: string;
}

export interface JsBug {
  name: string;
  manifest: JsBugManifest;
}

export async function readJsManifests(dir: string): Promise<JsBug[]> {
  if (!existsSync(dir)) return [];
  const bugs: JsBug[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const file = path.join(dir, name, 'bug.json');
    if (!existsSync(file)) continue;
    const m = JSON.parse(await readFile(file, 'utf8')) as JsBugManifest;
    const problems = [
      !/^[\w.-]+\/[\w.-]+$/.test(m.repo ?? '') && 'repo must be owner/name',
      !/^[0-9a-f]{40}$/.test(m.commit ?? '') && 'commit must be a full commit id',
      !(BUG_CLASSES as readonly string[]).includes(m.class) && `unknown class "${m.class}"`,
      !m.buggy && 'buggy is missing',
      !(Array.isArray(m.tests) && m.tests.length > 0) && 'tests is missing',
      !['module', 'commonjs'].includes(m.module) && 'module must be "module" or "commonjs"',
    ].filter(Boolean);
    if (problems.length > 0) throw new Error(`${file}: ${problems.join('; ')}`);
    bugs.push({ name, manifest: m });
  }
  return bugs;
}

export function jsNeeds(bugs: JsBug[]): Need[] {
  const byRepo = new Map<string, string[]>();
  for (const { manifest: m } of bugs) byRepo.set(m.repo, [...(byRepo.get(m.repo) ?? []), m.commit]);
  return [...byRepo].map(([repo, commits]) => ({ repo, commits }));
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `text` with each module specifier of `map` replaced; `used` collects those that occurred (all must, without it). */
export function rewriteSpecifiers(text: string, file: string, map: Record<string, string>, used?: Set<string>): string {
  let out = text;
  for (const [from, to] of Object.entries(map)) {
    const re = new RegExp(`(\\bfrom\\s*|\\brequire\\(\\s*|\\bimport\\(\\s*|^\\s*import\\s+)(['"])${escape(from)}\\2`, 'gm');
    if (!re.test(out)) {
      if (!used) throw new Error(`${file}: no import of '${from}' to rewrite`);
      continue;
    }
    used?.add(from);
    out = out.replace(re, (_all, lead: string, quote: string) => `${lead}${quote}${to}${quote}`);
  }
  return out;
}

/**
 * A test file with its imports pointed at the sources and the stand-ins. `sourceText` gives
 * the content of a repository-relative source file (to tell a default export from named ones).
 */
export function rewriteTest(
  text: string,
  testPath: string,
  m: Pick<JsBugManifest, 'imports' | 'requireToImport'>,
  sourceText: (rel: string) => string | undefined = () => undefined,
): { text: string; standIns: string[] } {
  const standIns: string[] = [];
  const map: Record<string, string> = {};
  for (const [from, to] of Object.entries(m.imports ?? {})) {
    if (!to.startsWith('stand-in:')) {
      map[from] = to;
      continue;
    }
    const file = to.slice('stand-in:'.length);
    standIns.push(file);
    const target = path.posix.relative(path.posix.dirname(testPath), `${HELPERS}/${file}`);
    map[from] = target.startsWith('.') ? target : `./${target}`;
  }
  let out = rewriteSpecifiers(text, testPath, map);
  if (m.requireToImport) {
    out = out.replace(/^(\s*)(?:const|let|var)\s+([\w$]+)\s*=\s*require\((['"])([^'"]+)\3\);?/gm, (_all, indent: string, name: string, q: string, spec: string) => {
      const source = spec.startsWith('.') ? sourceText(path.posix.join(path.posix.dirname(testPath), spec)) : undefined;
      const namespace = source !== undefined && !/^\s*export\s+default\b/m.test(source);
      return `${indent}import ${namespace ? `* as ${name}` : name} from ${q}${spec}${q};`;
    });
  }
  return { text: out, standIns };
}

async function need(s: Snapshot, commit: string, file: string): Promise<string> {
  const text = await s.show(commit, file);
  if (text === null) throw new Error(`${s.repo}: no ${file} at ${commit.slice(0, 12)}`);
  return text;
}

/** Build each bug's repository and known fix under `dest/js/<name>/`. */
export async function jsPrograms(bugs: JsBug[], snapshots: Map<string, Snapshot>, dest: string): Promise<Program[]> {
  const programs: Program[] = [];
  for (const { name, manifest: m } of bugs) {
    const s = snapshots.get(m.repo)!;
    const dir = path.join(dest, 'js', name);
    const repo = path.join(dir, 'repo');
    const parent = `${m.commit}^`;
    const files = new Map<string, string>();
    const texts = new Map<string, string>();
    const used = new Set<string>();
    const source = (rel: string, text: string): string => (/\.[cm]?js$/.test(rel) && m.sourceImports ? rewriteSpecifiers(text, rel, m.sourceImports, used) : text);
    for (const rel of [m.buggy, ...(m.sources ?? [])]) {
      texts.set(rel, source(rel, await need(s, parent, rel)));
      files.set(rel, await put(repo, rel, texts.get(rel)!));
    }
    const unused = Object.keys(m.sourceImports ?? {}).filter((k) => !used.has(k));
    if (unused.length > 0) throw new Error(`js/${name}: no source imports ${unused.map((u) => `'${u}'`).join(', ')} to rewrite`);
    for (const rel of m.fixtures ?? []) files.set(rel, await put(repo, rel, await need(s, m.commit, rel)));
    const standIns = new Set<string>();
    for (const rel of m.tests) {
      const t = rewriteTest(await need(s, m.commit, rel), rel, m, (r) => texts.get(r));
      t.standIns.forEach((f) => standIns.add(f));
      files.set(rel, await put(repo, rel, t.text));
    }
    for (const f of standIns) {
      const rel = `${HELPERS}/${f}`;
      await mkdir(path.join(repo, HELPERS), { recursive: true });
      await copyFile(path.join(STAND_INS, f), path.join(repo, rel));
      files.set(rel, path.join(repo, rel));
    }
    const pkgName = m.repo.split('/')[1]!;
    files.set('package.json', await put(repo, 'package.json', `${JSON.stringify({ name: pkgName, private: true, type: m.module })}\n`));
    const fix = await put(dir, `fix/${path.basename(m.buggy)}`, source(m.buggy, await need(s, m.commit, m.buggy)));
    programs.push({
      id: `js/${name}`,
      language: 'javascript',
      bugClass: m.class,
      fixNote: m.fix,
      files: [...files].sort(([a], [b]) => a.localeCompare(b)),
      buggy: m.buggy,
      fix,
      testCommand: m.test ?? 'node --test',
      origin: `${m.repo} ${m.commit.slice(0, 7)}`,
    });
  }
  return programs;
}

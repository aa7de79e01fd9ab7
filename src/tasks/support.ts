/**
 * The files the hidden tests use, so they are hidden (overlaid from the root) and protected too:
 * a candidate that rewrites a helper, a fixture or a runner config grades itself.
 *
 * Found in the root's tree from:
 *  - the test directories themselves: the outermost `test`/`tests`/`__tests__`/`spec`/`specs`
 *    directory above each test file is hidden whole (helpers, fixtures, snapshots, data, and
 *    every file node --test or pytest would find there), and adding a file to it is a change;
 *  - what the test files (and the support files found so far) import — static `require`,
 *    `import`, `import()`, `export … from` and Python `import`/`from … import` — when the
 *    imported file is test support by its place or name (a module under test is not), and the
 *    paths a runner would try before it (a file that would shadow the helper);
 *  - what they read: string literals that name a data file or directory of the root (source
 *    code and dependency manifests excepted);
 *  - the runners' own configuration: every conftest.py, pytest.ini, tox.ini and setup.cfg or
 *    pyproject.toml with a pytest section, jest/vitest/mocha/ava configs, snapshot, fixture and
 *    mock directories (packageTestFields covers package.json's test fields).
 * Pure functions over the file list and the texts; discover.ts reads them from git.
 */
import path from 'node:path';
import { matchesAny } from './glob.js';
import { MANIFEST_PATTERNS } from './manifests.js';

export interface Support {
  /** Paths (files, or directories standing for everything under them) to hide and protect. */
  paths: string[];
  /** Globs a candidate may not add to (paths that would shadow a support file). */
  globs: string[];
}

const TEST_DIRS = new Set(['test', 'tests', '__tests__', 'spec', 'specs']);
const SUPPORT_PARTS = new Set(['test', 'tests', '__tests__', 'spec', 'specs', 'testing', 'fixtures', '__fixtures__', '__mocks__', 'mocks', '__snapshots__', 'snapshots', 'testdata', 'test-data', 'test_data', 'testutils', 'test-utils', 'test_utils', 'test-helpers', 'test_helpers']);
const SUPPORT_NAME = /(^|[._-])(test|tests|spec|fixtures?|mocks?|conftest|testutils?|test[-_]?helpers?|test[-_]?utils?)([._-]|$)/i;
/** Runner configuration, wherever it is. */
export const RUNNER_CONFIGS = [
  '**/conftest.py',
  'pytest.ini',
  '**/__snapshots__/**',
  '**/__fixtures__/**',
  '**/__mocks__/**',
  '{jest,vitest,vitest.workspace,ava,karma}.config.{js,mjs,cjs,ts,mts,cts,json}',
  'vitest.workspace.{js,ts,json}',
  '.mocharc{,.js,.cjs,.json,.jsonc,.yml,.yaml}',
  '.taprc',
];
/** Files that configure pytest only when they have a pytest section. */
const PYTEST_SECTIONS: Record<string, RegExp> = {
  'tox.ini': /^\[pytest\]/m,
  'setup.cfg': /^\[tool:pytest\]/m,
  'pyproject.toml': /^\[tool\.pytest/m,
};
const SOURCE_EXT = /\.(c|m)?[jt]sx?$|\.py$|\.node$/;
const JS_EXT = ['.js', '.mjs', '.cjs', '.json', '.ts', '.mts', '.cts', '.tsx', '.jsx', '.node'];

/** The outermost test directory above a test file (`pkg/tests/unit/a.py` → `pkg/tests`), or null. */
export function testRoot(file: string): string | null {
  const parts = file.split('/').slice(0, -1);
  const i = parts.findIndex((p) => TEST_DIRS.has(p));
  return i < 0 ? null : parts.slice(0, i + 1).join('/');
}

function isSupportPath(file: string, roots: string[]): boolean {
  if (roots.some((r) => file.startsWith(`${r}/`))) return true;
  const parts = file.split('/');
  return parts.slice(0, -1).some((p) => SUPPORT_PARTS.has(p)) || SUPPORT_NAME.test(parts[parts.length - 1] as string);
}

/** Module specifiers a JavaScript/TypeScript file imports statically. */
export function jsImports(text: string): string[] {
  const out: string[] = [];
  const res = [
    /\brequire\s*\(\s*(['"`])([^'"`\n]+)\1\s*\)/g,
    /\bimport\s*\(\s*(['"`])([^'"`\n]+)\1\s*\)/g,
    /(?:^|[;\n}])\s*import\s+(?:[\w*{}\s,$]+?\s+from\s+)?(['"])([^'"\n]+)\1/g,
    /(?:^|[;\n}])\s*export\s+(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s+from\s+(['"])([^'"\n]+)\1/g,
  ];
  for (const re of res) for (const m of text.matchAll(re)) out.push(m[2] as string);
  return out;
}

/** Python modules a file imports: [leading dots, dotted name] (`from . import a` gives [1, 'a']). */
export function pyImports(text: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const m of text.matchAll(/^[ \t]*import[ \t]+([\w. \t,]+)/gm)) {
    for (const name of (m[1] as string).split(',')) {
      const mod = name.trim().split(/\s+as\s+/)[0]?.trim();
      if (mod) out.push([0, mod]);
    }
  }
  for (const m of text.matchAll(/^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(?:\(([^)]*)\)|([\w. \t,*]+))/gm)) {
    const dots = (m[1] as string).length;
    const base = m[2] as string;
    if (base) out.push([dots, base]);
    // `from pkg import mod` may import a submodule: try each name under the base too.
    for (const name of (m[3] ?? m[4] ?? '').split(',')) {
      const n = name.trim().split(/\s+as\s+/)[0]?.trim();
      if (n && n !== '*' && /^\w+$/.test(n)) out.push([dots, base ? `${base}.${n}` : n]);
    }
  }
  return out;
}

/** Quoted strings that could name a path (no spaces-only, no URLs, not too long). */
export function pathLiterals(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(['"`])([^'"`\n\\$]{1,200})\1/g)) {
    const s = (m[2] as string).trim();
    if (!s || /^[a-z]+:\/\//i.test(s) || s.includes('*')) continue;
    out.push(s);
  }
  return out;
}

interface Tree {
  files: Set<string>;
  dirs: Set<string>;
}

function treeOf(files: string[]): Tree {
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return { files: new Set(files), dirs };
}

/** Node's resolution of a relative specifier: the file it finds, and the paths it tries first. */
function resolveJs(tree: Tree, from: string, spec: string): { file: string; before: string[] } | null {
  if (!spec.startsWith('.')) return null;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  if (base.startsWith('..')) return null;
  const tries = [base, ...JS_EXT.map((e) => base + e)];
  // TypeScript's ESM style: "./x.js" names x.ts.
  if (/\.(c|m)?js$/.test(base)) tries.push(base.replace(/\.(c|m)?js$/, '.ts'), base.replace(/\.(c|m)?js$/, '.tsx'));
  tries.push(...JS_EXT.map((e) => `${base}/index${e}`));
  const at = tries.findIndex((t) => tree.files.has(t));
  return at < 0 ? null : { file: tries[at] as string, before: tries.slice(0, at) };
}

/** Python's search for a module along the roots the runners put on sys.path. */
function resolvePy(tree: Tree, from: string, dots: number, name: string): { file: string; shadows: string[] } | null {
  const dir = path.posix.dirname(from);
  const rel = name.split('.').join('/');
  let roots: string[];
  if (dots > 0) {
    const up = dir.split('/').slice(0, Math.max(0, dir.split('/').length - (dots - 1)));
    roots = [dir === '.' ? '' : up.join('/')];
  } else {
    // The test file's directory (pytest's rootdir insertion, a script's own dir) and each ancestor, then the repository.
    const parts = dir === '.' ? [] : dir.split('/');
    roots = [];
    for (let i = parts.length; i >= 0; i--) roots.push(parts.slice(0, i).join('/'));
  }
  const join = (r: string, p: string) => (r ? `${r}/${p}` : p);
  for (const r of roots) {
    for (const cand of [join(r, `${rel}/__init__.py`), join(r, `${rel}.py`)]) {
      if (!tree.files.has(cand)) continue;
      // Any root tried no later than this one could shadow it with a module or a package.
      const shadows = roots.slice(0, roots.indexOf(r) + 1).flatMap((s) => [join(s, `${rel}.{py,pyc,so}`), join(s, `${rel}.*.so`), join(s, `${rel}/__init__.*`)]);
      return { file: cand, shadows };
    }
  }
  return null;
}

/** Data files and directories a literal names, from `from`'s directory or the repository root. */
function resolveData(tree: Tree, from: string, literal: string): string[] {
  const clean = literal.replace(/^\.\//, '');
  const out: string[] = [];
  for (const base of [path.posix.dirname(from), '']) {
    const p = path.posix.normalize(base ? path.posix.join(base, clean) : clean);
    if (p.startsWith('..') || p === '.' || p.startsWith('/')) continue;
    if (tree.files.has(p)) out.push(p);
    else if (tree.dirs.has(p)) for (const f of tree.files) if (f.startsWith(`${p}/`)) out.push(f);
  }
  return out.filter((f) => !SOURCE_EXT.test(f) && !matchesAny(f, MANIFEST_PATTERNS));
}

/**
 * The support of `tests` in a tree of `files`. `read(paths)` gives the text of the files asked
 * for (those it cannot read are left out); it is asked at most a few times.
 */
export async function findSupport(files: string[], tests: string[], read: (paths: string[]) => Promise<Map<string, string>>): Promise<Support> {
  const tree = treeOf(files);
  const roots = [...new Set(tests.map(testRoot).filter((r): r is string => r !== null))].sort();
  // A root nested in another is covered by it.
  const outer = roots.filter((r) => !roots.some((o) => o !== r && r.startsWith(`${o}/`)));
  const paths = new Set<string>(outer);
  const globs = new Set<string>(outer.map((r) => `${r}/**`));
  const inRoots = (f: string) => outer.some((r) => f.startsWith(`${r}/`));
  for (const f of files) {
    if (matchesAny(f, RUNNER_CONFIGS) && !inRoots(f)) paths.add(f);
  }
  for (const g of RUNNER_CONFIGS) globs.add(g);
  const sectioned = Object.keys(PYTEST_SECTIONS).filter((f) => tree.files.has(f));
  const seen = new Set<string>(tests);
  let frontier = [...tests, ...sectioned];
  for (let round = 0; frontier.length > 0 && round < 20; round++) {
    const texts = await read(frontier);
    const next: string[] = [];
    const add = (f: string) => {
      if (seen.has(f)) return;
      seen.add(f);
      if (!inRoots(f)) paths.add(f);
      next.push(f);
    };
    for (const [file, text] of texts) {
      const section = PYTEST_SECTIONS[file];
      if (section) {
        if (section.test(text)) paths.add(file);
        continue;
      }
      let specifiers: Set<string>;
      if (/\.py$/.test(file)) {
        specifiers = new Set();
        for (const [dots, name] of pyImports(text)) {
          const hit = resolvePy(tree, file, dots, name);
          if (!hit || !isSupportPath(hit.file, outer)) continue;
          for (const s of hit.shadows) globs.add(s);
          add(hit.file);
        }
      } else if (/\.(c|m)?[jt]sx?$/.test(file)) {
        specifiers = new Set(jsImports(text));
        for (const spec of specifiers) {
          const hit = resolveJs(tree, file, spec);
          if (!hit || !isSupportPath(hit.file, outer)) continue;
          for (const b of hit.before) globs.add(b);
          add(hit.file);
        }
      } else continue;
      // A module specifier names code, not data its directory holds.
      for (const literal of pathLiterals(text)) if (!specifiers.has(literal)) for (const f of resolveData(tree, file, literal)) if (!inRoots(f)) paths.add(f);
    }
    frontier = next;
  }
  return { paths: [...paths].sort(), globs: [...globs].sort() };
}

/** package.json members that configure how the tests run. */
const PACKAGE_TEST_FIELDS = ['jest', 'mocha', 'ava', 'c8', 'nyc', 'vitest', 'tap'];

/**
 * The members of package.json that decide how tests run and that differ between the root and a
 * candidate: the runners' config members always, and the test scripts when the test command
 * goes through the package manager (`npm test`, `npm run …`, `yarn`, `pnpm`). Pure.
 */
export function packageTestFields(root: string | null, candidate: string | null, testCommand: string): string[] {
  if (root === null || candidate === null || root === candidate) return [];
  let a: Record<string, unknown>;
  let b: Record<string, unknown>;
  try {
    a = JSON.parse(root) as Record<string, unknown>;
    b = JSON.parse(candidate) as Record<string, unknown>;
  } catch {
    // Not JSON on one side: the manifest's own install fails or succeeds; test fields cannot be compared.
    return root === candidate ? [] : ['package.json'];
  }
  const changed: string[] = [];
  for (const k of PACKAGE_TEST_FIELDS) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) changed.push(`package.json#${k}`);
  if (/\b(npm|yarn|pnpm)\b/.test(testCommand)) {
    const sa = (a.scripts ?? {}) as Record<string, unknown>;
    const sb = (b.scripts ?? {}) as Record<string, unknown>;
    for (const k of new Set([...Object.keys(sa), ...Object.keys(sb)])) {
      if (/^(pre|post)?test($|:)/.test(k) && JSON.stringify(sa[k]) !== JSON.stringify(sb[k])) changed.push(`package.json#scripts.${k}`);
    }
  }
  return changed;
}

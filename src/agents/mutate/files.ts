/**
 * Which files mutation may touch: supported sources that are neither tests nor protected.
 */
import { readdir } from 'node:fs/promises';
import { globToRegExp } from '../../tasks/glob.js';
import path from 'node:path';
import { git } from '../../git/index.js';
import { languageOfPath } from './parser.js';

/** Paths that are tests by convention in JS/TS and Python projects. */
export const TEST_FILE_GLOBS: readonly string[] = [
  '**/*.test.*',
  '**/*.spec.*',
  '**/*_test.*',
  '**/test_*.py',
  '**/conftest.py',
  '**/test/**',
  '**/tests/**',
  '**/__tests__/**',
  '**/testing/**',
];

const SKIPPED_DIRS = new Set(['node_modules', '.git', 'dist', 'build', 'coverage', '__pycache__', '.venv', 'venv']);

export { globToRegExp };

export function matchesAny(file: string, globs: readonly string[]): boolean {
  return globs.some((glob) => globToRegExp(glob).test(file));
}

export interface EditableRules {
  /** Globs that are protected (tests, evaluator config): never edited. */
  protected: readonly string[];
  /** When non-empty, only files matching one of these globs are edited. */
  include: readonly string[];
}

export function isEditable(file: string, rules: EditableRules): boolean {
  if (!languageOfPath(file)) return false;
  if (matchesAny(file, TEST_FILE_GLOBS) || matchesAny(file, rules.protected)) return false;
  if (file.split('/').some((part) => SKIPPED_DIRS.has(part))) return false;
  return rules.include.length === 0 || matchesAny(file, rules.include);
}

/** Parse `git ls-files -z` output. */
export function parseLsFiles(stdout: string): string[] {
  return stdout.split('\0').filter((f) => f.length > 0);
}

/** Every tracked (and untracked, not ignored) file of the worktree; a directory walk outside git. */
export async function listRepoFiles(worktree: string, signal?: AbortSignal): Promise<string[]> {
  const result = await git(worktree, ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    reject: false,
    timeoutMs: 30_000,
    ...(signal ? { signal } : {}),
  });
  if (result.exitCode === 0) return [...new Set(parseLsFiles(result.stdout))].sort();
  // Not a git worktree (a plain directory): walk it, skipping dependency and build folders.
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(path.join(worktree, dir), { withFileTypes: true })) {
      if (entry.name.startsWith('.') || SKIPPED_DIRS.has(entry.name)) continue;
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(rel);
      else if (entry.isFile()) out.push(rel);
    }
  };
  await walk('');
  return out.sort();
}

/**
 * Which paths an agent may write: inside the worktree, outside .git, and not protected.
 * Protected paths are globs from `test.protected` plus the config file itself.
 */
import path from 'node:path';
import { ALWAYS_PROTECTED } from '../../config/index.js';
import { globToRegExp } from '../../tasks/glob.js';

export { globToRegExp };

export function protectedMatcher(globs: readonly string[]): (relPath: string) => boolean {
  const res = [...ALWAYS_PROTECTED, ...globs].map(globToRegExp);
  return (rel) => res.some((r) => r.test(rel));
}

/** Normalise a path the model wrote; null when it escapes the worktree or enters .git. */
export function safeRelativePath(raw: string): string | null {
  if (!raw || raw.includes('\0') || path.isAbsolute(raw) || /^[a-zA-Z]:/.test(raw)) return null;
  const rel = path.posix.normalize(raw.replace(/\\/g, '/')).replace(/^\.\//, '');
  if (rel === '.' || rel.startsWith('../') || rel === '..') return null;
  if (rel.split('/').some((seg) => seg === '.git')) return null;
  return rel;
}

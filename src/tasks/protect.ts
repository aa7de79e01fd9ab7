/** Protected paths: what a candidate may not change (pure). */
import { ALWAYS_PROTECTED } from '../config/index.js';
import { matchesAny } from './glob.js';
import type { TaskSpec } from './types.js';
import { HARNESS_DIR } from './discover.js';

/** CI definitions grade the project too: a candidate must not rewrite them. */
export const CI_PATHS = ['.github/**', '.ci/**', '.gitlab-ci.yml', '.circleci/**', '.travis.yml', 'azure-pipelines.yml', 'Jenkinsfile'];

export function protectedPatterns(configured: string[], tasks: TaskSpec[]): string[] {
  const hidden = tasks.flatMap((t) => [...t.hiddenFiles, ...(t.supportGlobs ?? [])]);
  return [...new Set([...ALWAYS_PROTECTED, ...CI_PATHS, `${HARNESS_DIR}/**`, ...configured, ...hidden])];
}

/** The changed paths that touch a protected pattern. */
export function tamperedPaths(changed: string[], patterns: string[]): string[] {
  return changed.filter((f) => matchesAny(f, patterns));
}

/**
 * The files whose content decides a task's environment image: dependency manifests and
 * lockfiles. Candidates may change them (their installs then run without network).
 */
import { matchesAny } from './glob.js';

/** Files whose content decides the environment image (lockfiles and manifests). */
export const MANIFEST_PATTERNS = [
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'requirements*.txt',
  'pyproject.toml',
  'poetry.lock',
  'Pipfile',
  'Pipfile.lock',
  'setup.py',
  'setup.cfg',
  'vendor/**',
];

export function manifestFiles(files: string[]): string[] {
  return files.filter((f) => matchesAny(f, MANIFEST_PATTERNS)).sort();
}

/** One program of the bench/repair corpus, and the defect classes it is sorted into. */

export interface Program {
  /** `quixbugs/gcd`, `js/<name>`. */
  id: string;
  language: 'python' | 'javascript';
  bugClass: BugClass;
  /** The known fix, as a one-line description. */
  fixNote: string;
  /** The buggy repository: repository-relative path → absolute path of its content (in the build directory). */
  files: [string, string][];
  /** The repository-relative file holding the bug. */
  buggy: string;
  /** Absolute path of the known fix of `buggy` (in the build directory). */
  fix: string;
  testCommand: string;
  /** Where it came from: repository and commit. */
  origin: string;
}

export const BUG_CLASSES = [
  'operator',
  'wrong identifier',
  'swapped arguments/operands',
  'off-by-one',
  'condition edit',
  'return expression',
  'slice/subscript',
  'call added/dropped/replaced',
  'missing statement',
  'missing/extra arithmetic',
  'statement replaced',
  'literal',
] as const;
export type BugClass = (typeof BUG_CLASSES)[number];

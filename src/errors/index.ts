/**
 * Errors a user can cause. Each carries a stable code, a one-line hint saying what to do,
 * and maps to a documented exit code. Anything else is an internal error and prints a stack.
 *
 * Exit codes (documented in the README):
 *   0  success
 *   1  user error: bad input, refused operation (EvogitError)
 *   2  usage error: unknown command or flag, bad flag value (UsageError)
 *   3  infrastructure unavailable: Docker daemon, remote, API (InfraError)
 *  70  internal error: a bug in evogit (anything not an EvogitError)
 */
export const EXIT = {
  ok: 0,
  user: 1,
  usage: 2,
  infra: 3,
  internal: 70,
} as const;

export class EvogitError extends Error {
  readonly code: string;
  readonly hint: string;
  readonly exitCode: number = EXIT.user;

  constructor(code: string, message: string, hint = '', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EvogitError';
    this.code = code;
    this.hint = hint;
  }
}

/** The command line itself was wrong: unknown command, unknown flag, bad value. */
export class UsageError extends EvogitError {
  override readonly exitCode: number = EXIT.usage;
  constructor(message: string, hint = 'Run `evogit --help` to see the commands and flags.') {
    super('E_USAGE', message, hint);
    this.name = 'UsageError';
  }
}

/** Something evogit needs is not reachable or failed underneath it (Docker, a remote, an API). */
export class InfraError extends EvogitError {
  override readonly exitCode: number = EXIT.infra;
  constructor(code: string, message: string, hint = '', options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'InfraError';
  }
}

export function isEvogitError(e: unknown): e is EvogitError {
  return e instanceof EvogitError;
}

/** One line for the terminal: `error E_CODE: message` plus the hint on its own line. */
export function formatError(e: EvogitError): string {
  return e.hint ? `error ${e.code}: ${e.message}\n  hint: ${e.hint}` : `error ${e.code}: ${e.message}`;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What `f` returns, or null when it failed because a path it used does not exist (ENOENT); other errors go on. */
export function unlessMissing<T>(f: () => T): T | null {
  try {
    return f();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

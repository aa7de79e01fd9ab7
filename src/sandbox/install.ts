/**
 * A dependency install that failed: one message for every sandbox (what ran, how it ended,
 * the last lines it printed, and what the network allowed), and a memo of installs that timed
 * out, so the same install is not waited for again on every retry of every task.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InfraError } from '../errors/index.js';

export class InstallError extends InfraError {
  constructor(
    message: string,
    hint: string,
    /** The install was killed at its limit (sandbox.installTimeout), not ended by itself. */
    readonly timedOut: boolean,
  ) {
    super('E_INSTALL_FAILED', message, hint);
    this.name = 'InstallError';
  }
}

const seconds = (ms: number): string => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`);

/** The error for an install that exited non-zero or was killed at its limit (pure). */
export function installError(r: { script: string; exitCode: number | null; timedOut: boolean; timeoutMs: number; output: string; network: boolean }): InstallError {
  const lines = r.output.trim().split('\n').filter((l) => l.trim());
  const tail = lines.length ? lines.slice(-5).join(' | ') : 'it printed nothing';
  const how = r.timedOut ? `timed out after ${seconds(r.timeoutMs)} (sandbox.installTimeout)` : `exited with ${r.exitCode}`;
  const net = r.network ? 'with network (sandbox.installNetwork: true)' : 'without network (sandbox.installNetwork: false)';
  const hint = !r.network
    ? 'The install has no network: it must work offline (vendored or cached dependencies), or set sandbox.installNetwork: true.'
    : r.timedOut && !lines.length
      ? 'An installer that cannot reach its registry (no DNS or no route from containers, a proxy it does not know) often waits in silence until the limit: check that a container on this Docker host can resolve and reach it.'
      : 'Check test.install in evogit.yml (or the suite\'s test.install).';
  return new InstallError(`install (${r.script}) ${how}, ${net}: ${tail}`, hint, r.timedOut);
}

interface TimedOut {
  key: string;
  timeoutMs: number;
  message: string;
  time: string;
}

function memoFile(stateDir: string, key: string): string {
  return path.join(stateDir, 'install-timeouts', `${key}.json`);
}

/**
 * The install of environment `key` timed out before under a limit at least as long as this
 * one: fail now, with the first message, instead of waiting the whole limit again. A longer
 * sandbox.installTimeout (or other manifests or install lines: another key) tries again.
 */
export async function earlierTimeout(stateDir: string, key: string, timeoutMs: number): Promise<InstallError | null> {
  const text = await readFile(memoFile(stateDir, key), 'utf8').catch(() => null);
  if (!text) return null;
  const memo = JSON.parse(text) as TimedOut;
  if (memo.timeoutMs < timeoutMs) return null;
  return new InstallError(
    `${memo.message} (at ${memo.time}; not run again for the same manifests and install lines)`,
    `Raise sandbox.installTimeout above ${seconds(memo.timeoutMs)} or fix the install; \`rm ${memoFile(stateDir, key)}\` retries it as it is.`,
    true,
  );
}

export async function rememberTimeout(stateDir: string, key: string, timeoutMs: number, e: InstallError): Promise<void> {
  await mkdir(path.dirname(memoFile(stateDir, key)), { recursive: true });
  const memo: TimedOut = { key, timeoutMs, message: e.message, time: new Date().toISOString() };
  await writeFile(memoFile(stateDir, key), `${JSON.stringify(memo)}\n`);
}

export async function forgetTimeout(stateDir: string, key: string): Promise<void> {
  await rm(memoFile(stateDir, key), { force: true });
}

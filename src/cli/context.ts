/**
 * What every command shares with the CLI around it: the I/O it writes to, the output it
 * hands back, the global flags, and where the package is installed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stdout is a terminal (live progress, no JSON). */
  isTTY: boolean;
}

/** What a command hands back: data for --json, and its text rendering. */
export interface CommandOutput {
  data: unknown;
  text: string;
  /** Non-zero when the command ran but its answer is a failure (e.g. an agent process failed). */
  exitCode?: number;
  /** Under --json the command already streamed one JSON event per line: print data as one more line. */
  jsonLines?: boolean;
}

export interface GlobalArgs {
  C: string;
  json: boolean;
}

export function packageRoot(): string {
  // dist/cli/context.js or src/cli/context.ts → package root two levels up.
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

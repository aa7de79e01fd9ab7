import { spawn } from 'node:child_process';
import path from 'node:path';
import { statSync } from 'node:fs';
import { EvogitError, unlessMissing } from '../../errors/index.js';
import { scrubbedEnv } from '../../proc/index.js';
import { openReportSource, writeReport, type ReportResult } from '../../report/index.js';
import type { CommandOutput, GlobalArgs } from '../context.js';

export const DEFAULT_REPORT_FILE = 'evogit-report.html';

export async function report(opts: { repoDir: string; out?: string }): Promise<ReportResult> {
  // Relative to the repository, like every path after `-C DIR`.
  const file = path.resolve(opts.repoDir, opts.out ?? DEFAULT_REPORT_FILE);
  const existing = unlessMissing(() => statSync(file));
  if (existing?.isDirectory()) {
    throw new EvogitError('E_REPORT_OUT', `${file} is a directory`, `Name a file: --out ${path.join(file, DEFAULT_REPORT_FILE)}`);
  }
  const source = await openReportSource(opts.repoDir);
  try {
    return await writeReport(source, file);
  } finally {
    await source.archive.close();
  }
}

/** The desktop's opener for a file, or null where there is none we know. */
function opener(file: string): [string, string[]] {
  if (process.platform === 'darwin') return ['open', [file]];
  if (process.platform === 'win32') return ['cmd', ['/c', 'start', '""', file]];
  return ['xdg-open', [file]];
}

/**
 * Hand the file to the desktop's browser. Not through the process wrapper: the browser must
 * outlive evogit, and the wrapper exists to make sure children do not.
 */
function openInBrowser(file: string): Promise<string | null> {
  const [command, args] = opener(file);
  return new Promise((resolve) => {
    const child = spawn(command, args, { detached: true, stdio: 'ignore', env: scrubbedEnv() });
    child.once('error', (e) => resolve(`could not start ${command}: ${e.message}`));
    child.once('spawn', () => {
      child.unref();
      resolve(null);
    });
  });
}

const size = (bytes: number) => (bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} kB`);

export async function reportCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const result = await report({ repoDir: a.C, out: a.out === undefined ? undefined : String(a.out) });
  const relative = path.relative(process.cwd(), result.file);
  const lines = [`wrote ${relative && !relative.startsWith('..') ? relative : result.file} (${size(result.bytes)}): ${result.nodes} nodes, ${result.evaluations} evaluations`, `  ${result.url}`];
  if (a.open) {
    const problem = await openInBrowser(result.file);
    if (problem) lines.push(`  ${problem}; open the file in a browser yourself`);
  }
  return { data: result, text: lines.join('\n') };
}

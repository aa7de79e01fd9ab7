import { UsageError } from '../../errors/index.js';
import { importSuite, listSuites, parseFractions, type ImportResult, type SuiteFormat, type SuiteSummary } from '../../suites/index.js';
import type { CommandOutput, GlobalArgs } from '../context.js';

function splitText(s: { search: number; selection: number; heldout: number }): string {
  return `${s.search} search / ${s.selection} selection / ${s.heldout} held-out`;
}

/** `evogit tasks import <path> [--format swe|polyglot] [--name NAME] [--split 0.6,0.2,0.2] [--seed N] [--force]`. */
export async function tasksImportCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const format = a.format as string | undefined;
  if (format !== undefined && format !== 'swe' && format !== 'polyglot') throw new UsageError(`--format must be swe or polyglot, not ${format}`);
  const r: ImportResult = await importSuite({
    repoDir: a.C,
    source: String(a.path),
    ...(format ? { format: format as SuiteFormat } : {}),
    ...(a.name ? { name: String(a.name) } : {}),
    ...(a.split ? { fractions: parseFractions(String(a.split)) } : {}),
    ...(a.seed !== undefined ? { seed: Number(a.seed) } : {}),
    force: Boolean(a.force),
  });
  const text = [
    `Imported suite ${r.name} (${r.format}): ${r.tasks} task(s), ${splitText(r.splits)}`,
    `  committed ${r.commit.slice(0, 12)}${r.rootMoved ? ' (the archive root moved to it)' : ''}`,
    ...r.skipped.map((s) => `  skipped ${s}`),
  ].join('\n');
  return { data: r, text };
}

/** `evogit tasks list [--json]`. */
export async function tasksListCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const suites: SuiteSummary[] = await listSuites(a.C);
  const text = suites.length
    ? suites.map((s) => `${s.name.padEnd(16)} ${s.format.padEnd(9)} ${String(s.tasks).padStart(5)} task(s)  ${splitText(s.splits)}  (seed ${s.seed})`).join('\n')
    : 'No suite yet: `evogit tasks import <path>`.';
  return { data: { suites }, text };
}

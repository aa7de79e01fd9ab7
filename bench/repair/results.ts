/**
 * bench/repair's results: one JSON line per (program, seed) in results/<label>.jsonl, committed.
 * A repaired run's version of the program (and its diff) is a changed copy of the upstream
 * program, so it is kept beside them in results/repairs/<label>/ (not committed, see
 * .gitignore): the line records its SHA-256, and `report` checks it while it is there (the
 * verdicts are cached by that hash in <label>.check.json, which is committed).
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunResult } from './run.js';

/** What a committed results line holds: the run's facts, the repair's content only by its hash. */
export type StoredResult = Omit<RunResult, 'repairSource' | 'repairDiff'> & { repairSha?: string };

/** A results line as read back: with the repair's source while it is on this machine. */
export type LoadedResult = StoredResult & Pick<RunResult, 'repairSource' | 'repairDiff'>;

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const repairFile = (dir: string, label: string, r: { program: string; seed: number }): string =>
  path.join(dir, 'repairs', label, `${r.program.replace(/\//g, '__')}#${r.seed}.json`);

export async function appendResult(dir: string, r: RunResult): Promise<StoredResult> {
  const { repairSource, repairDiff, ...facts } = r;
  const stored: StoredResult = repairSource === undefined ? facts : { ...facts, repairSha: sha256(repairSource) };
  if (repairSource !== undefined) {
    const file = repairFile(dir, r.label, r);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify({ repairSource, repairDiff })}\n`);
  }
  await mkdir(dir, { recursive: true });
  await appendFile(path.join(dir, `${r.label}.jsonl`), `${JSON.stringify(stored)}\n`);
  return stored;
}

/** A label's results, each repaired one with its source when it is still on this machine. */
export async function readResults(dir: string, label: string): Promise<LoadedResult[]> {
  const text = await readFile(path.join(dir, `${label}.jsonl`), 'utf8').catch(() => '');
  const out: LoadedResult[] = [];
  for (const line of text.split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as StoredResult;
    const side = r.repaired ? await readFile(repairFile(dir, label, r), 'utf8').catch(() => null) : null;
    const repair = side ? (JSON.parse(side) as Pick<RunResult, 'repairSource' | 'repairDiff'>) : {};
    out.push(repair.repairSource !== undefined && sha256(repair.repairSource) === r.repairSha ? { ...r, ...repair } : r);
  }
  return out;
}

/** Small suites made in this repository: the Polyglot examples and the SWE suite built from a tiny repo's history. */
import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../../src/proc/index.js';
import { GIT_ENV, tempDir } from '../helpers/repo.js';

export const EXAMPLES = path.resolve(import.meta.dirname, '..', '..', 'examples', 'suites');

/** A fresh copy of examples/suites/polyglot (tests may break it). */
export async function polyglotCopy(): Promise<string> {
  const dir = await tempDir('evogit-polyglot-');
  await cp(path.join(EXAMPLES, 'polyglot'), dir, { recursive: true });
  return dir;
}

export interface SweSuite {
  dir: string;
  jsonl: string;
  /** The gold patches by instance id (the fix commit's non-test diff). */
  gold: Record<string, string>;
}

/** Run examples/suites/swe/make-suite.mjs into a temp dir. */
export async function sweSuite(): Promise<SweSuite> {
  const dir = await tempDir('evogit-swe-');
  await run(process.execPath, [path.join(EXAMPLES, 'swe', 'make-suite.mjs'), dir], { cwd: dir, env: GIT_ENV });
  const jsonl = path.join(dir, 'swe.jsonl');
  const gold: Record<string, string> = {};
  for (const line of (await readFile(jsonl, 'utf8')).split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { instance_id: string; patch: string };
    gold[r.instance_id] = r.patch;
  }
  return { dir, jsonl, gold };
}

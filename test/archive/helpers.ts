import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Evaluation } from '../../src/archive/index.js';
import { git } from '../helpers/repo.js';

export { git };

export const dirs: string[] = [];

export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'evogit-archive-'));
  dirs.push(d);
  return d;
}

export async function cleanup(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 })));
}

/** A repo with one commit (the base), whose SHA is returned. */
export async function makeRepo(): Promise<{ dir: string; base: string }> {
  const dir = await tempDir();
  await git(dir, ['init', '-q', '-b', 'main']);
  await writeFile(join(dir, 'a.txt'), 'base\n');
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-q', '-m', 'base']);
  return { dir, base: (await git(dir, ['rev-parse', 'HEAD'])).trim() };
}

/** A tree that differs from the base by one file's content. */
export async function treeWith(dir: string, content: string): Promise<string> {
  const blob = (await git(dir, ['hash-object', '-w', '--stdin'], content)).trim();
  return (await git(dir, ['mktree'], `100644 blob ${blob}\ta.txt\n`)).trim();
}

export function evaluation(node: string, task: string, outcome: Evaluation['outcome'], writer = 'w1'): Evaluation {
  return { node, task, outcome, durationMs: 12, harness: 'local', writer, time: '2025-01-01T00:00:00.000Z', log: 'ünïcødé ✓ tail' };
}

/**
 * Fixtures for the archive tests: a base repository, trees and evaluation lines. Every
 * directory made here is removed by cleanup().
 */
import type { Evaluation } from '../../src/archive/index.js';
import { git, makeRepo, removeDir, revParse, tempDir as newTempDir } from '../helpers/repo.js';

const dirs: string[] = [];

export async function tempDir(): Promise<string> {
  const d = await newTempDir('evogit-archive-');
  dirs.push(d);
  return d;
}

export async function cleanup(): Promise<void> {
  await Promise.all(dirs.splice(0).map(removeDir));
}

/** A repository whose one commit (the base, its SHA returned) holds a.txt. */
export async function baseRepo(): Promise<{ dir: string; base: string }> {
  const dir = await makeRepo({ 'a.txt': 'base\n' }, await tempDir(), { message: 'base' });
  return { dir, base: await revParse(dir) };
}

/** A tree that differs from the base by one file's content. */
export async function treeWith(dir: string, content: string): Promise<string> {
  const blob = (await git(dir, ['hash-object', '-w', '--stdin'], content)).trim();
  return (await git(dir, ['mktree'], `100644 blob ${blob}\ta.txt\n`)).trim();
}

export function evaluation(node: string, task: string, outcome: Evaluation['outcome'], writer = 'w1'): Evaluation {
  return { node, task, outcome, durationMs: 12, harness: 'local', writer, time: '2025-01-01T00:00:00.000Z', log: 'ünïcødé ✓ tail' };
}

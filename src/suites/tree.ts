/**
 * The trees of a task, built with git plumbing in the evolving repository (a temporary index,
 * never a worktree): the tree the agent starts from, that tree with the agent's edits, and the
 * graded tree — the agent's tree with the hidden tests put back from the evaluator's copy, so
 * an agent's edit to a test file has no effect.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EvogitError } from '../errors/index.js';
import { git } from '../git/index.js';
import { matchesAny } from '../tasks/index.js';
import { enableAllTests } from './languages.js';
import { patchPaths } from './swe.js';
import type { SuiteTask } from './types.js';

/** One file the agent changed: new content, or null when it deleted the file. */
export interface FileChange {
  path: string;
  content: Buffer | null;
  executable?: boolean;
}

async function withIndex<T>(repoDir: string, fn: (env: Record<string, string>) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'evogit-index-'));
  try {
    return await fn({ GIT_INDEX_FILE: path.join(dir, 'index') });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function out(repoDir: string, args: string[], env: Record<string, string> = {}, input?: string | Buffer): Promise<string> {
  return (await git(repoDir, args, { env, ...(input !== undefined ? { input: input as string } : {}) })).stdout.trim();
}

/** `git ls-files -s -z` → path → "mode sha" (pure). */
export function parseLsFilesStage(text: string): Map<string, { mode: string; oid: string }> {
  const entries = new Map<string, { mode: string; oid: string }>();
  for (const rec of text.split('\0')) {
    if (!rec) continue;
    const tab = rec.indexOf('\t');
    const [mode, oid] = rec.slice(0, tab).split(' ');
    entries.set(rec.slice(tab + 1), { mode: mode!, oid: oid! });
  }
  return entries;
}

/** `git ls-tree -r -z` → path → mode and blob id (pure). */
export function parseLsTreeEntries(text: string): Map<string, { mode: string; oid: string }> {
  const entries = new Map<string, { mode: string; oid: string }>();
  for (const rec of text.split('\0')) {
    if (!rec) continue;
    const tab = rec.indexOf('\t');
    const [mode, , oid] = rec.slice(0, tab).split(' ');
    entries.set(rec.slice(tab + 1), { mode: mode!, oid: oid! });
  }
  return entries;
}

/** `tree` without the files that match `exclude` (globs). */
export async function treeWithout(repoDir: string, tree: string, exclude: string[]): Promise<string> {
  return withIndex(repoDir, async (env) => {
    await git(repoDir, ['read-tree', tree], { env });
    const files = parseLsFilesStage((await git(repoDir, ['ls-files', '-s', '-z'], { env })).stdout);
    const drop = [...files.keys()].filter((f) => matchesAny(f, exclude));
    if (drop.length === 0) return tree;
    await git(repoDir, ['update-index', '--force-remove', '-z', '--stdin'], { env, input: drop.join('\0') + '\0' });
    return out(repoDir, ['write-tree'], env);
  });
}

/** The tree the agent starts from. */
export async function taskBaseTree(repoDir: string, root: string, task: SuiteTask): Promise<string> {
  if (task.base.kind === 'commit') return out(repoDir, ['rev-parse', '--verify', `${task.base.commit}^{tree}`]);
  return treeWithout(repoDir, await out(repoDir, ['rev-parse', '--verify', `${root}:${task.base.path}`]), task.base.exclude);
}

/** `base` with the agent's changes. */
export async function treeWithChanges(repoDir: string, base: string, changes: FileChange[]): Promise<string> {
  if (changes.length === 0) return base;
  return withIndex(repoDir, async (env) => {
    await git(repoDir, ['read-tree', base], { env });
    let info = '';
    for (const c of changes) {
      if (c.content === null) {
        info += `0 ${'0'.repeat(40)}\t${c.path}\0`;
        continue;
      }
      const oid = await out(repoDir, ['hash-object', '-w', '--stdin'], {}, c.content);
      info += `${c.executable ? '100755' : '100644'} ${oid}\t${c.path}\0`;
    }
    await git(repoDir, ['update-index', '-z', '--index-info'], { env, input: info });
    return out(repoDir, ['write-tree'], env);
  });
}

/** `base` with a unified diff applied (a candidate patch given as text). */
export async function treeWithPatch(repoDir: string, base: string, patch: string): Promise<string> {
  if (!patch.trim()) return base;
  return withIndex(repoDir, async (env) => {
    await git(repoDir, ['read-tree', base], { env });
    const r = await git(repoDir, ['apply', '--cached', '--whitespace=nowarn', '-'], { env, input: patch, reject: false });
    if (r.exitCode !== 0) throw new EvogitError('E_PATCH', `the patch does not apply: ${r.stderr.trim()}`, 'Make the patch against the task\'s base.');
    return out(repoDir, ['write-tree'], env);
  });
}

/** Folders of a Polyglot exercise that are never part of what is built and tested. */
const EXERCISE_DOCS = ['.meta/**', '.docs/**', '.approaches/**', '.articles/**'];

/**
 * The index lines that put a Polyglot exercise's hidden files back from the suite at `root`:
 * its tests, with every test switched on as the benchmark runs them, and — when the task names
 * its solution files — every other file it ships (build files, helpers), so that only the
 * solution files are the agent's.
 */
async function exerciseFilesInfo(repoDir: string, root: string, task: SuiteTask, dir: string): Promise<string> {
  const files = parseLsTreeEntries((await git(repoDir, ['ls-tree', '-r', '-z', `${root}:${dir}`])).stdout);
  const tests = new Set(task.testFiles ?? []);
  let info = '';
  for (const [f, e] of files) {
    if (tests.has(f)) {
      const text = (await git(repoDir, ['cat-file', 'blob', e.oid])).stdout;
      const enabled = enableAllTests(task.language ?? '', f, text);
      const oid = enabled === text ? e.oid : await out(repoDir, ['hash-object', '-w', '--stdin'], {}, enabled);
      info += `100644 ${oid}\t${f}\0`;
    } else if (task.solutionFiles && !task.solutionFiles.includes(f) && !matchesAny(f, EXERCISE_DOCS) && e.mode !== '160000') {
      info += `${e.mode} ${e.oid}\t${f}\0`;
    }
  }
  for (const f of tests) if (!files.has(f)) throw new EvogitError('E_SUITE_RECORD', `${task.id}: test file ${f} is not in the suite`, 'Re-import the suite.');
  return info;
}

/**
 * The tree that is graded: the agent's tree with every hidden test file reset to the
 * evaluator's copy (SWE: the files the test patch touches are reset to the base commit, then
 * the patch is applied; Polyglot: the test files come from the suite in the root commit).
 */
export async function gradedTree(repoDir: string, root: string, task: SuiteTask, agentTree: string): Promise<string> {
  return withIndex(repoDir, async (env) => {
    await git(repoDir, ['read-tree', agentTree], { env });
    if (task.base.kind === 'commit') {
      const patch = task.testPatch ?? '';
      const baseFiles = parseLsTreeEntries((await git(repoDir, ['ls-tree', '-r', '-z', '--full-tree', task.base.commit])).stdout);
      let info = '';
      for (const p of patchPaths(patch)) {
        const e = baseFiles.get(p);
        info += e ? `${e.mode} ${e.oid}\t${p}\0` : `0 ${'0'.repeat(40)}\t${p}\0`;
      }
      if (info) await git(repoDir, ['update-index', '-z', '--index-info'], { env, input: info });
      const applied = await git(repoDir, ['apply', '--cached', '--whitespace=nowarn', '-'], { env, input: patch, reject: false });
      if (applied.exitCode !== 0) throw new EvogitError('E_TEST_PATCH', `the test patch of ${task.id} does not apply to its base commit: ${applied.stderr.trim()}`, 'Check the suite: test_patch must apply to base_commit.');
    } else {
      const info = await exerciseFilesInfo(repoDir, root, task, task.base.path);
      if (info) await git(repoDir, ['update-index', '--add', '-z', '--index-info'], { env, input: info });
    }
    return out(repoDir, ['write-tree'], env);
  });
}


/** The agent's patch, for the log. */
export async function treeDiff(repoDir: string, from: string, to: string): Promise<string> {
  return (await git(repoDir, ['diff', '--no-color', '--no-ext-diff', '--binary', from, to])).stdout;
}

/** Shared fixtures for the agent tests: a real temp git repo, a config, an AgentInput. */
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AgentInput } from '../../src/agents/types.js';
import type { ArchiveNode } from '../../src/archive/types.js';
import { ConfigSchema, type Config, type ConfigInput } from '../../src/config/index.js';
import { git } from '../helpers/repo.js';

export { git };


export interface TempRepo {
  dir: string;
  /** Commit everything and return the full SHA. */
  commit(message: string): Promise<string>;
  write(rel: string, content: string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function tempRepo(files: Record<string, string>): Promise<TempRepo> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'evogit-agents-'));
  await git(dir, ['init', '-q', '-b', 'main']);
  await git(dir, ['config', 'user.name', 'Test']);
  await git(dir, ['config', 'user.email', 'test@example.invalid']);
  await git(dir, ['config', 'commit.gpgsign', 'false']);
  const write = async (rel: string, content: string): Promise<void> => {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  };
  for (const [rel, content] of Object.entries(files)) await write(rel, content);
  const commit = async (message: string): Promise<string> => {
    await git(dir, ['add', '-A']);
    await git(dir, ['commit', '-q', '--allow-empty', '-m', message]);
    return (await git(dir, ['rev-parse', 'HEAD'])).trim();
  };
  await commit('root');
  return { dir, commit, write, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function node(id: string, operator: ArchiveNode['operator'] = 'root'): ArchiveNode {
  return { id, parents: [], tree: '', branch: null, writer: 'test', agent: 'test', operator, time: 0, subject: 'node', pruned: false, promoted: false };
}

export function config(input: Partial<ConfigInput> = {}): Config {
  return ConfigSchema.parse({ test: { command: 'node --test', protected: ['test/**'] }, ...input });
}

export async function agentInput(dir: string, overrides: Partial<AgentInput> = {}): Promise<AgentInput> {
  const transcriptDir = await mkdtemp(path.join(os.tmpdir(), 'evogit-transcript-'));
  const head = (await git(dir, ['rev-parse', 'HEAD'])).trim();
  return {
    worktree: dir,
    parent: node(head),
    goal: 'Make the failing tests pass.',
    failingLogs: [],
    lineage: [],
    budget: {},
    seed: 1,
    config: config(),
    transcriptDir,
    ...overrides,
  };
}

/** Every file under a directory, concatenated: to prove a secret is in none of them. */
export async function readAllFiles(dir: string): Promise<string> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(await readFile(path.join(entry.parentPath ?? dir, entry.name), 'utf8'));
  }
  return out.join('\n');
}

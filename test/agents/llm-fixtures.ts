/** Shared fixtures for the agent tests: a real temp git repo, a config, an AgentInput. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentInput } from '../../src/agents/types.js';
import type { ArchiveNode } from '../../src/archive/types.js';
import { ConfigSchema, type Config, type ConfigInput } from '../../src/config/index.js';
import { commitAll, makeRepo, removeDir, revParse, tempDir, writeFiles } from '../helpers/repo.js';

export interface TempRepo {
  dir: string;
  /** Commit everything and return the full SHA. */
  commit(message: string): Promise<string>;
  write(rel: string, content: string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function tempRepo(files: Record<string, string>): Promise<TempRepo> {
  const dir = await makeRepo(files, await tempDir('evogit-agents-'), { message: 'root' });
  return {
    dir,
    commit: (message) => commitAll(dir, message, { allowEmpty: true }),
    write: (rel, content) => writeFiles(dir, { [rel]: content }),
    cleanup: () => removeDir(dir),
  };
}

export function node(id: string, operator: ArchiveNode['operator'] = 'root'): ArchiveNode {
  return { id, parents: [], tree: '', branch: null, writer: 'test', agent: 'test', operator, time: 0, subject: 'node', pruned: false, promoted: false };
}

export function config(input: Partial<ConfigInput> = {}): Config {
  return ConfigSchema.parse({ test: { command: 'node --test', protected: ['test/**'] }, ...input });
}

export async function agentInput(dir: string, overrides: Partial<AgentInput> = {}): Promise<AgentInput> {
  const transcriptDir = await tempDir('evogit-transcript-');
  const head = await revParse(dir);
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

/**
 * Test fixtures for the forge: the scorer's Beta quantile in the forge's argument order, and a
 * real git repository with a bare remote and a hand-built archive snapshot over its commits.
 */
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { betaQuantile as scorerQuantile } from '../../src/scorer/index.js';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import type { ArchiveNode, ArchiveSnapshot, Evaluation, Operator } from '../../src/archive/types.js';
import { git } from '../../src/forge/git.js';

/** The scorer's Beta inverse CDF, in the forge's (a, b, p) argument order. */
export const betaQuantile = (a: number, b: number, p: number): number => scorerQuantile(p, a, b);

export const IDENTITY = {
  GIT_AUTHOR_NAME: 'evogit test',
  GIT_AUTHOR_EMAIL: 'test@evogit.invalid',
  GIT_COMMITTER_NAME: 'evogit test',
  GIT_COMMITTER_EMAIL: 'test@evogit.invalid',
};

export async function g(dir: string, ...args: string[]): Promise<string> {
  return (await git(dir, args, { env: IDENTITY })).stdout.trim();
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `evogit-${prefix}-`));
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

/** Commit on top of `parent` (detached), with evogit trailers; returns the new SHA. */
export async function commitNode(
  dir: string,
  parent: string,
  files: Record<string, string>,
  subject: string,
  trailers: { agent: string; operator: Operator; body?: string },
): Promise<string> {
  await g(dir, 'checkout', '-q', '--detach', parent);
  await writeFiles(dir, files);
  await g(dir, 'add', '-A');
  const msg = `${subject}\n\n${trailers.body ? `${trailers.body}\n\n` : ''}Evogit-Agent: ${trailers.agent}\nEvogit-Operator: ${trailers.operator}\n`;
  await g(dir, 'commit', '-q', '-m', msg);
  return g(dir, 'rev-parse', 'HEAD');
}

export function evals(node: string, task: string, outcomes: ('pass' | 'fail' | 'error')[], log?: (o: string, i: number) => string): Evaluation[] {
  return outcomes.map((outcome, i) => ({
    node,
    task: `${task}${i}`,
    outcome,
    durationMs: 100,
    harness: 'local',
    writer: 'a1',
    time: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    ...(log ? { log: log(outcome, i) } : {}),
  }));
}

export function nodeOf(id: string, parents: string[], tree: string, extra: Partial<ArchiveNode> = {}): ArchiveNode {
  return {
    id,
    parents,
    tree,
    branch: null,
    writer: 'a1',
    agent: 'a1',
    operator: 'mutate',
    time: 0,
    subject: '',
    pruned: false,
    promoted: false,
    ...extra,
  };
}

export interface Fixture {
  dir: string;
  remote: string;
  root: string;
  /** Fixes most of the failing tasks. */
  a: string;
  /** A descendant of `a` that fixes the rest. */
  b: string;
  /** Scores well but edited a protected test file. */
  p: string;
  snapshot: ArchiveSnapshot;
  cleanup(): Promise<void>;
}

/**
 * root (2 pass / 8 fail) ─ a (8/2) ─ b (10/0)
 *                        └ p (10/0, touched test/)
 */
export async function makeFixture(opts: { tokenInLog?: string } = {}): Promise<Fixture> {
  const top = await tempDir('forge');
  const dir = join(top, 'work');
  const remote = join(top, 'remote.git');
  await mkdir(dir);
  await g(top, 'init', '-q', '--bare', '-b', 'main', remote);
  await g(dir, 'init', '-q', '-b', 'main');
  await writeFiles(dir, {
    'src/calc.js': 'export function add(a, b) {\n  return a - b;\n}\n\nexport function mul(a, b) {\n  return a + b;\n}\n',
    'test/calc.test.js': 'import { add, mul } from "../src/calc.js";\n',
    'README.md': '# calc\n',
  });
  await g(dir, 'add', '-A');
  await g(dir, 'commit', '-q', '-m', 'base');
  const root = await g(dir, 'rev-parse', 'HEAD');
  await g(dir, 'remote', 'add', 'origin', remote);
  await g(dir, 'push', '-q', 'origin', 'main');

  const a = await commitNode(
    dir,
    root,
    { 'src/calc.js': 'export function add(a, b) {\n  return a + b;\n}\n\nexport function mul(a, b) {\n  return a + b;\n}\n' },
    'Fix add: use + instead of -',
    { agent: 'a1', operator: 'mutate', body: 'The subtraction made every add test fail.' },
  );
  const b = await commitNode(
    dir,
    a,
    { 'src/calc.js': 'export function add(a, b) {\n  return a + b;\n}\n\nexport function mul(a, b) {\n  return a * b;\n}\n' },
    'Fix mul: multiply',
    { agent: 'a2', operator: 'llm' },
  );
  const p = await commitNode(dir, root, { 'test/calc.test.js': '// tests removed\n', 'src/calc.js': 'export const add = (a, b) => a + b;\nexport const mul = (a, b) => a * b;\n' }, 'Make the tests pass (by editing them)', {
    agent: 'a3',
    operator: 'mutate',
  });
  await g(dir, 'checkout', '-q', 'main');
  const tree = async (c: string) => g(dir, 'rev-parse', `${c}^{tree}`);
  const failLog = (o: string, i: number) => `running task ${i}\nexpected 5, got -1\nFAIL ${o}`;
  const passLog = (o: string, i: number) => `running task ${i}\nok 1 - add\n${opts.tokenInLog ? `env GITHUB_TOKEN=${opts.tokenInLog}\n` : ''}PASS ${o}`;
  const evaluations = new Map<string, Evaluation[]>([
    [root, evals(root, 't', ['pass', 'pass', 'fail', 'fail', 'fail', 'fail', 'fail', 'fail', 'fail', 'fail'], failLog)],
    [a, evals(a, 't', ['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'fail', 'fail', 'error'], passLog)],
    [b, evals(b, 't', Array(10).fill('pass') as 'pass'[], passLog)],
    [p, evals(p, 't', Array(10).fill('pass') as 'pass'[], passLog)],
  ]);
  const snapshot: ArchiveSnapshot = {
    root,
    nodes: [
      nodeOf(root, [], await tree(root), { branch: 'evo/root', operator: 'root', agent: '', subject: 'base' }),
      nodeOf(a, [root], await tree(a), { branch: 'evo/a1/1', subject: 'Fix add: use + instead of -' }),
      nodeOf(b, [a], await tree(b), { branch: 'evo/a2/1', writer: 'a2', agent: 'a2', operator: 'llm', model: 'gpt-4o-mini', subject: 'Fix mul: multiply' }),
      nodeOf(p, [root], await tree(p), { branch: 'evo/a3/1', writer: 'a3', agent: 'a3', subject: 'Make the tests pass (by editing them)' }),
    ],
    evaluations,
    claims: [],
  };
  return { dir, remote, root, a, b, p, snapshot, cleanup: () => rm(top, { recursive: true, force: true }) };
}

/**
 * Test fixtures for the forge: the scorer's Beta quantile in the forge's argument order, and a
 * real git repository with a bare remote and a hand-built archive snapshot over its commits.
 */
import { join } from 'node:path';
import { betaQuantile as scorerQuantile } from '../../src/scorer/index.js';
import type { ArchiveNode, ArchiveSnapshot, Evaluation, Operator } from '../../src/archive/types.js';
import { commitAll, git, initRepo, makeRepo, removeDir, revParse, tempDir, writeFiles } from '../helpers/repo.js';

/** The scorer's Beta inverse CDF, in the forge's (a, b, p) argument order. */
export const betaQuantile = (a: number, b: number, p: number): number => scorerQuantile(p, a, b);

/** Commit on top of `parent` (detached), with evogit trailers; returns the new SHA. */
export async function commitNode(
  dir: string,
  parent: string,
  files: Record<string, string>,
  subject: string,
  trailers: { agent: string; operator: Operator; body?: string },
): Promise<string> {
  await git(dir, ['checkout', '-q', '--detach', parent]);
  await writeFiles(dir, files);
  return commitAll(dir, `${subject}\n\n${trailers.body ? `${trailers.body}\n\n` : ''}Evogit-Agent: ${trailers.agent}\nEvogit-Operator: ${trailers.operator}\n`);
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
  const top = await tempDir('evogit-forge-');
  const dir = join(top, 'work');
  const remote = join(top, 'remote.git');
  await initRepo(remote, { bare: true });
  const files = {
    'src/calc.js': 'export function add(a, b) {\n  return a - b;\n}\n\nexport function mul(a, b) {\n  return a + b;\n}\n',
    'test/calc.test.js': 'import { add, mul } from "../src/calc.js";\n',
    'README.md': '# calc\n',
  };
  await makeRepo(files, dir, { message: 'base' });
  const root = await revParse(dir);
  await git(dir, ['remote', 'add', 'origin', remote]);
  await git(dir, ['push', '-q', 'origin', 'main']);

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
  await git(dir, ['checkout', '-q', 'main']);
  const tree = (c: string) => revParse(dir, `${c}^{tree}`);
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
  return { dir, remote, root, a, b, p, snapshot, cleanup: () => removeDir(top) };
}

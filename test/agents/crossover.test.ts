/** Crossover of two branches of a real temp repo, in a detached worktree like the loop's. */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CrossoverAgent, parseConflicts, betterSide, type CrossoverTranscript } from '../../src/agents/crossover/index.js';
import { run } from '../../src/proc/index.js';
import { startLlmServer, type LlmServer } from '../helpers/llm-server.js';
import { git, gitResult, revParse, tempDir } from '../helpers/repo.js';
import { agentInput, config, node, tempRepo, type TempRepo } from './llm-fixtures.js';

const spacer = (tag: string): string => Array.from({ length: 6 }, (_, i) => `// ${tag} spacer ${i}`).join('\n');
const lib = (a: number, b: number, c: number): string =>
  `export function a() {\n  return ${a};\n}\n${spacer('ab')}\nexport function b() {\n  return ${b};\n}\n${spacer('bc')}\nexport function c() {\n  return ${c};\n}\n`;

interface Fixture {
  repo: TempRepo;
  parent: string;
  mate: string;
  worktree: string;
}

/** root: a=1 b=2 c=3. parent: a=10, c=30, deletes gone.js. mate: b=20, c=300, adds extra.js, edits gone.js. */
async function fixture(): Promise<Fixture> {
  const repo = await tempRepo({ 'lib.js': lib(1, 2, 3), 'gone.js': 'export const g = 1;\n' });
  await git(repo.dir, ['checkout', '-q', '-b', 'mate']);
  await repo.write('lib.js', lib(1, 20, 300));
  await repo.write('extra.js', 'export const extra = true;\n');
  await repo.write('gone.js', 'export const g = 2;\n');
  const mate = await repo.commit('mate');
  await git(repo.dir, ['checkout', '-q', 'main']);
  await repo.write('lib.js', lib(10, 2, 30));
  await git(repo.dir, ['rm', '-q', 'gone.js']);
  const parent = await repo.commit('parent');
  const worktree = path.join(await tempDir('evogit-wt-'), 'wt');
  await git(repo.dir, ['worktree', 'add', '-q', '--detach', worktree, parent]);
  return { repo, parent, mate, worktree };
}

async function evaluate(worktree: string): Promise<string> {
  await run(process.execPath, ['--check', 'lib.js'], { cwd: worktree });
  const r = await run(process.execPath, ['--input-type=module', '-e', "import('./lib.js').then((m) => console.log([m.a(), m.b(), m.c()].join(',')))"], { cwd: worktree });
  return r.stdout.trim();
}

async function assertCleanMergeState(f: Fixture): Promise<void> {
  expect((await gitResult(f.worktree, ['rev-parse', '-q', '--verify', 'MERGE_HEAD'])).exitCode).not.toBe(0);
  expect(await revParse(f.worktree)).toBe(f.parent);
  expect(await readFile(path.join(f.worktree, 'lib.js'), 'utf8')).not.toMatch(/^(<<<<<<<|=======|>>>>>>>|\|\|\|\|\|\|\|)/m);
  expect((await git(f.worktree, ['ls-files', '-u'])).trim()).toBe('');
}

describe('crossover agent', () => {
  let f: Fixture;
  let server: LlmServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await f?.repo.cleanup();
  });

  it('merges both sides, takes the better mate\'s hunk where they conflict, and leaves a committable tree', async () => {
    f = await fixture();
    const input = await agentInput(f.worktree, { parent: node(f.parent, 'llm'), mate: node(f.mate, 'llm'), passRates: { [f.parent]: 0.2, [f.mate]: 0.8 } });
    const out = await new CrossoverAgent().propose(input);
    expect(out).toMatchObject({ outcome: 'edited', operator: 'crossover', extraParents: [f.mate], cost: 0 });
    expect(await evaluate(f.worktree)).toBe('10,20,300');
    expect(await readFile(path.join(f.worktree, 'extra.js'), 'utf8')).toContain('extra');
    // gone.js: deleted by the parent, edited by the mate: the better mate keeps it.
    expect(existsSync(path.join(f.worktree, 'gone.js'))).toBe(true);
    await assertCleanMergeState(f);
    const t = JSON.parse(await readFile(out.transcript!, 'utf8')) as CrossoverTranscript;
    expect(t.hunks).toEqual([{ path: 'lib.js', hunk: 1, resolvedBy: 'theirs' }]);
    expect(t.files).toEqual(expect.arrayContaining([{ path: 'lib.js', how: 'hunks' }, { path: 'gone.js', how: 'whole-file' }]));
    // The loop can commit it with both parents.
    const tree = (await git(f.worktree, ['write-tree'])).trim();
    const merged = (await git(f.worktree, ['commit-tree', tree, '-p', f.parent, '-p', f.mate, '-m', out.message])).trim();
    expect((await git(f.worktree, ['rev-list', '--parents', '-n', '1', merged])).trim().split(' ')).toEqual([merged, f.parent, f.mate]);
  });

  it('takes the parent\'s hunk (and its deletion) when the parent scores better, from lineage', async () => {
    f = await fixture();
    const lineage = [
      { node: f.parent, operator: 'llm' as const, summary: 'p', passRate: 0.9 },
      { node: f.mate, operator: 'llm' as const, summary: 'm', passRate: 0.5 },
    ];
    const out = await new CrossoverAgent().propose(await agentInput(f.worktree, { parent: node(f.parent), mate: node(f.mate), lineage }));
    expect(out.outcome).toBe('edited');
    expect(await evaluate(f.worktree)).toBe('10,20,30');
    expect(existsSync(path.join(f.worktree, 'gone.js'))).toBe(false);
    await assertCleanMergeState(f);
  });

  it('lets the llm resolve a hunk when configured, and falls back to the better side on a bad reply', async () => {
    f = await fixture();
    server = await startLlmServer({ replies: [{ text: 'Combined:\n```js\n  return 330;\n```' }] });
    process.env.EVOGIT_TEST_XO_KEY = 'sk-test-SECRET123';
    try {
      const cfg = config({ agents: { crossover: { resolve: 'llm' }, llm: { baseUrl: server.openaiBaseUrl, model: 'm', apiKeyEnv: 'EVOGIT_TEST_XO_KEY', retries: 0 } } });
      const out = await new CrossoverAgent().propose(await agentInput(f.worktree, { parent: node(f.parent), mate: node(f.mate), config: cfg }));
      expect(out).toMatchObject({ outcome: 'edited', model: 'm' });
      expect(await evaluate(f.worktree)).toBe('10,20,330');
      expect(JSON.stringify(server.requests[0]!.body)).toContain('return 300;');
      expect(await readFile(out.transcript!, 'utf8')).not.toContain('SECRET123');
      await assertCleanMergeState(f);

      // A second crossover whose model reply is unusable takes the better side's hunk.
      await f.repo.cleanup();
      f = await fixture();
      server.enqueue({ text: 'no code here' });
      const out2 = await new CrossoverAgent().propose(await agentInput(f.worktree, { parent: node(f.parent), mate: node(f.mate), config: cfg, passRates: { [f.mate]: 1 } }));
      expect(out2.outcome).toBe('edited');
      expect(await evaluate(f.worktree)).toBe('10,20,300');
      const t = JSON.parse(await readFile(out2.transcript!, 'utf8')) as CrossoverTranscript;
      expect(t.hunks[0]).toMatchObject({ resolvedBy: 'theirs', note: 'model reply had no code block' });
    } finally {
      delete process.env.EVOGIT_TEST_XO_KEY;
    }
  });

  it('reports no-edit when the mate is already contained in the parent', async () => {
    f = await fixture();
    const root = (await git(f.repo.dir, ['rev-list', '--max-parents=0', 'HEAD'])).trim();
    const out = await new CrossoverAgent().propose(await agentInput(f.worktree, { parent: node(f.parent), mate: node(root) }));
    expect(out.outcome).toBe('no-edit');
    expect(out.extraParents).toBeUndefined();
  });
});

describe('conflict parsing', () => {
  it('splits diff3 and merge style markers, and rejects broken ones', () => {
    const text = 'a\n<<<<<<< HEAD\nours\n||||||| base\nbase\n=======\ntheirs\n>>>>>>> m\nz\n';
    expect(parseConflicts(text)).toEqual([
      { kind: 'text', text: 'a\n' },
      { kind: 'conflict', ours: 'ours\n', base: 'base\n', theirs: 'theirs\n' },
      { kind: 'text', text: 'z\n' },
    ]);
    expect(parseConflicts('<<<<<<< HEAD\nx\n=======\ny\n>>>>>>> m\n')).toEqual([{ kind: 'conflict', ours: 'x\n', base: null, theirs: 'y\n' }]);
    expect(parseConflicts('<<<<<<< HEAD\nx\n=======\ny\n')).toBeNull();
  });

  it('prefers the parent unless the mate is known to score higher', () => {
    const p = node('p');
    const m = node('m');
    expect(betterSide({ parent: p, mate: m, lineage: [] }).side).toBe('ours');
    expect(betterSide({ parent: p, mate: m, lineage: [], passRates: { m: 0.5 } }).side).toBe('theirs');
    expect(betterSide({ parent: p, mate: m, lineage: [], passRates: { p: 0.5, m: 0.5 } }).side).toBe('ours');
  });
});

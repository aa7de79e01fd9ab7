/**
 * forge.minimize's validator (keepsPasses): a smaller change must pass, in the real sandbox,
 * every task the node passed — and only those; a run stopped midway gives no verdict.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ArchiveSnapshot, Evaluation } from '../../src/archive/types.js';
import { loadConfig } from '../../src/config/index.js';
import { keepsPasses, prepareWork } from '../../src/loop/work.js';
import { LocalSandbox } from '../../src/sandbox/index.js';
import { evogit, git, makeRepo, removedAfterAll, revParse } from '../helpers/repo.js';

const dirs = removedAfterAll();

const test = (name: string, expr: string) => `import { test } from 'node:test';\nimport assert from 'node:assert';\nimport { add, sub } from '../src/calc.js';\ntest('${name}', () => assert.ok(${expr}));\n`;

describe('keepsPasses', () => {
  it('re-runs exactly the tasks the node passed, fails a commit that breaks one, and refuses a verdict once stopped', async () => {
    const dir = await makeRepo({
      'package.json': JSON.stringify({ name: 'calc', type: 'module', scripts: { test: 'node --test' } }),
      'src/calc.js': 'export const add = (a, b) => a + b;\nexport const sub = (a, b) => a + b;\n',
      'test/add.test.js': test('adds', 'add(2, 3) === 5'),
      'test/sub.test.js': test('subtracts', 'sub(3, 2) === 1'),
    });
    dirs.push(dir);
    expect((await evogit(dir, ['init', '--sandbox', 'local'])).exitCode).toBe(0);
    const root = await revParse(dir, 'evo/root');
    const config = await loadConfig(dir);
    const work = await prepareWork({ repoDir: dir, root, config, sandbox: new LocalSandbox(undefined, () => undefined), agentKind: 'mutate' });
    const line = (task: string, outcome: Evaluation['outcome']): Evaluation => ({ node: root, task, outcome, durationMs: 1, harness: 'local', writer: 'a1', time: '2026-01-01T00:00:00.000Z' });
    // The root passed add and failed sub (twice: one task, asked once).
    const snapshot = { root, nodes: [], claims: [], evaluations: new Map([[root, [line('test/add.test.js', 'pass'), line('test/add.test.js', 'pass'), line('test/sub.test.js', 'fail')]]]) } as unknown as ArchiveSnapshot;
    const logs = path.join(dir, '.git', 'evogit', 'logs');
    const ran: string[] = [];
    const watched = { ...work, evaluate: (r: Parameters<typeof work.evaluate>[0]) => (ran.push(r.task), work.evaluate(r)) };
    const validate = keepsPasses(watched, snapshot, root, { writer: 'pr', logDirOf: () => logs });

    expect(await validate(root)).toBe(true);
    expect(ran).toEqual(['test/add.test.js']);
    await writeFile(path.join(dir, 'src/calc.js'), 'export const add = (a, b) => a - b;\nexport const sub = (a, b) => a - b;\n');
    await git(dir, ['commit', '-qam', 'fixes sub, breaks add']);
    const broken = await revParse(dir);
    expect(await validate(broken)).toBe(false);

    const stop = new AbortController();
    stop.abort();
    await expect(keepsPasses(work, snapshot, root, { writer: 'pr', logDirOf: () => logs, signal: stop.signal })(root)).rejects.toThrow(/stopped/);
    // A node with no pass has nothing to keep: never minimised into something.
    expect(await keepsPasses(work, { ...snapshot, evaluations: new Map() }, root, { writer: 'pr', logDirOf: () => logs })(root)).toBe(false);
  });
});

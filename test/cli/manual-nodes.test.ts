/**
 * Commits a person makes by hand on any branch under evo/ (README, "The archive in git"): each
 * is a `manual` node that `status` and `best` show, named by the writer of its branch, the
 * first name component. A branch with two commits by hand has two manual nodes of that writer;
 * the one below the tip has no branch of its own, and was never pruned.
 */
import { describe, expect, it } from 'vitest';
import { commitOnBranch, evogit, makeRepo, removedAfterAll, revParse } from '../helpers/repo.js';

const project = {
  'package.json': JSON.stringify({ name: 'calc', version: '1.0.0', type: 'module', scripts: { test: 'node --test' } }, null, 2),
  'src/add.js': 'export const add = (a, b) => a - b;\n',
  'src/sub.js': 'export const sub = (a, b) => a + b;\n',
  'test/add.test.js': "import { test } from 'node:test';\nimport assert from 'node:assert';\nimport { add } from '../src/add.js';\ntest('adds', () => assert.equal(add(2, 3), 5));\n",
  'test/sub.test.js': "import { test } from 'node:test';\nimport assert from 'node:assert';\nimport { sub } from '../src/sub.js';\ntest('subtracts', () => assert.equal(sub(5, 3), 2));\n",
};
const ADD = 'export const add = (a, b) => a + b;\n';
const SUB = 'export const sub = (a, b) => a - b;\n';

interface StatusJson {
  nodes: { id: string; branch: string | null; writer: string; operator: string; pruned: boolean; own: { pass: number; fail: number } }[];
}

const dirs = removedAfterAll();

describe('commits made by hand under evo/', () => {
  it('are manual nodes of their branch\'s writer in status and best, the tip and the commit below it alike', async () => {
    const repo = await makeRepo(project);
    dirs.push(repo);
    const init = await evogit(repo, ['init', '--sandbox', 'local']);
    expect(init.exitCode, init.stderr).toBe(0);
    const root = await revParse(repo, 'evo/root');
    // One commit on a branch of a name no agent writes; two on another (fix add, then sub).
    const patch = await commitOnBranch(repo, 'evo/atk/assertpatch', root, { 'src/add.js': ADD }, 'fix add by hand');
    const first = await commitOnBranch(repo, 'evo/alice/try-this', root, { 'src/add.js': ADD }, 'fix add');
    const tip = await commitOnBranch(repo, 'evo/alice/try-this', first, { 'src/sub.js': SUB }, 'fix sub too');
    for (const node of ['evo/atk/assertpatch', 'evo/alice/try-this', first]) {
      const r = await evogit(repo, ['eval', node]);
      expect(r.exitCode, r.stderr).toBe(0);
    }

    const json = await evogit(repo, ['status', '--json']);
    expect(json.exitCode, json.stderr).toBe(0);
    const nodes = (JSON.parse(json.stdout) as StatusJson).nodes;
    const byId = new Map(nodes.map((n) => [n.id, n]));
    expect(nodes).toHaveLength(4);
    expect(byId.get(patch)).toMatchObject({ branch: 'evo/atk/assertpatch', writer: 'atk', operator: 'manual', pruned: false, own: { pass: 1, fail: 1 } });
    expect(byId.get(tip)).toMatchObject({ branch: 'evo/alice/try-this', writer: 'alice', operator: 'manual', pruned: false, own: { pass: 2, fail: 0 } });
    expect(byId.get(first)).toMatchObject({ branch: null, writer: 'alice', operator: 'manual', pruned: false, own: { pass: 1, fail: 1 } });

    const text = await evogit(repo, ['status']);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`evo/atk/assertpatch  ${patch.slice(0, 10)}  manual by atk  `));
    expect(text.stdout).toMatch(new RegExp(`evo/alice/try-this  ${tip.slice(0, 10)}  manual by alice  `));
    expect(text.stdout).toMatch(new RegExp(`\\(no branch\\) ${first.slice(0, 12)}  ${first.slice(0, 10)}  manual by alice  `));
    expect(text.stdout).not.toContain('(pruned)');
    expect(text.stdout).toContain('4 nodes (0 pruned), 6 evaluations');
    for (const line of text.stdout.split('\n').filter((l) => l.includes(' manual'))) expect(line).toMatch(/ manual by [a-z]+ {2}/);

    const show = await evogit(repo, ['show', first]);
    expect(show.exitCode, show.stderr).toBe(0);
    expect(show.stdout.split('\n').slice(0, 3)).toEqual([`node ${first}  (no branch)`, '  fix add', expect.stringMatching(/^ {2}made by alice with manual, /)]);
    expect(show.stdout).toMatch(new RegExp(`^ {2}${first.slice(0, 10)} {2}\\(no branch\\) +manual +fix add$`, 'm'));

    const best = await evogit(repo, ['best']);
    expect(best.exitCode, best.stderr).toBe(0);
    expect(best.stdout.split('\n')[0]).toBe(`evo/alice/try-this  ${tip}`);
  });
});

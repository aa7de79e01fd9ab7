/**
 * The writer's worktree is reused from one expansion to the next (checkout + clean instead of
 * remove + add): every agent must still start from a clean checkout of its parent, whatever
 * the last agent left behind (edits of a failed attempt, untracked and ignored files).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, makeRepo, removedAfterAll, tempDir } from '../helpers/repo.js';
import { expectCleanRepo, start } from './helpers.js';

const dirs = removedAfterAll();

// Records what it finds, then edits; of every three attempts one is accepted, one fails (edits
// left unstaged) and one touches the hidden test (rejected: protected path, edits left staged).
const AGENT = `
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const [record, worktree] = process.argv.slice(2);
const git = (...args) => execFileSync('git', args, { cwd: worktree, encoding: 'utf8' });
const n = fs.existsSync(record) ? fs.readFileSync(record, 'utf8').split('\\n').filter(Boolean).length : 0;
const seen = { head: git('rev-parse', 'HEAD').trim(), status: git('status', '--porcelain=v1', '--ignored', '--untracked-files=all'), lines: fs.readFileSync(path.join(worktree, 'log.txt'), 'utf8') };
fs.appendFileSync(record, JSON.stringify(seen) + '\\n');
fs.appendFileSync(path.join(worktree, 'log.txt'), n + ' ' + Math.random() + '\\n');
fs.writeFileSync(path.join(worktree, 'scratch.tmp'), 'ignored leftover');
fs.mkdirSync(path.join(worktree, 'build', 'deep'), { recursive: true });
fs.writeFileSync(path.join(worktree, 'build', 'deep', 'out.tmp'), 'ignored leftover');
if (n % 3 === 2) {
  fs.writeFileSync(path.join(worktree, 'dirty.txt'), 'leftover of a rejected attempt');
  fs.appendFileSync(path.join(worktree, 'test', 'ok.test.js'), '// touched\\n');
}
// A failed attempt (killed at the agent's timeout): nothing staged, a tracked file deleted and an untracked one left.
if (n % 3 === 1) {
  fs.rmSync(path.join(worktree, 'keep.txt'));
  fs.writeFileSync(path.join(worktree, 'stray.txt'), 'leftover of a failed attempt');
  setTimeout(() => undefined, 60_000);
}
`;

describe('the reused worktree', () => {
  it('starts every agent on a clean checkout of its parent, after rejected and accepted attempts alike', async () => {
    const tools = await tempDir('evogit-wt-agent-');
    dirs.push(tools);
    const agent = path.join(tools, 'agent.cjs');
    const record = path.join(tools, 'seen.jsonl');
    await writeFile(agent, AGENT);
    const config = `version: 1
language: javascript
test:
  command: [node, test/ok.test.js]
  format: none
  tasks:
    mode: single
  timeout: 10s
sandbox:
  kind: local
agents:
  kind: command
  command:
    run: [node, ${JSON.stringify(agent)}, ${JSON.stringify(record)}, "{worktree}"]
    timeout: 1s
`;
    const repo = await makeRepo({ 'test/ok.test.js': 'process.exit(0);\n', 'log.txt': 'start\n', 'keep.txt': 'tracked\n', '.gitignore': '*.tmp\n', 'evogit.yml': config });
    dirs.push(repo);
    await git(repo, ['branch', 'evo/root']);

    const run = start(repo, ['run', '--agents', '1', '--max-evals', '8']);
    const { code } = await run.exit;
    expect(code, run.stderr.join('\n')).toBe(0);

    const seen = (await readFile(record, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { head: string; status: string; lines: string });
    const parents = run.events.filter((e) => e.type === 'decision' && e.kind === 'expand').map((e) => (e as { node: string }).node);
    expect(seen.length).toBe(parents.length);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    const reasons = run.events.filter((e) => e.type === 'rejected').map((e) => (e as { reason: string }).reason);
    expect(reasons).toContain('protected paths touched');
    expect(reasons).toContain('failed');
    for (const [i, s] of seen.entries()) {
      expect(s.head, `attempt ${i}`).toBe(parents[i]);
      expect(s.status, `attempt ${i}`).toBe('');
      // The file as committed in the parent, not as the previous attempt left it.
      expect(s.lines, `attempt ${i}`).toBe(await git(repo, ['show', `${parents[i]}:log.txt`]));
    }
    await expectCleanRepo(repo);
  }, 120_000);
});

/**
 * Many machines, simulated: 3 clones share one bare remote, one `evogit agent --remote` in
 * each, started at once. The bare remote's pre-receive hook logs every ref update and rejects
 * any non-fast-forward one, so "no push was forced" is checked by the remote itself. Every
 * node and evaluation an agent reported must be on the remote afterwards. Pruning is tested
 * here too: one node deleted on the remote, one deleted with `git branch -D` on one machine
 * (local prune, agents of `evogit run` on one repo) — no agent expands them afterwards.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, initRepo, removedAfterAll, tempDir } from '../helpers/repo.js';
import { counted, demoRepo, expectCleanRepo, nodeBranches, noteLines, start, waitFor, type Timed } from './helpers.js';

const dirs = removedAfterAll();

const HOOK = `#!/bin/sh
# Log every update; reject non-fast-forward updates of existing refs.
zero=0000000000000000000000000000000000000000
status=0
while read old new ref; do
  echo "$old $new $ref" >> "$GIT_DIR/updates.log"
  if [ "$old" != "$zero" ] && [ "$new" != "$zero" ]; then
    if ! git merge-base --is-ancestor "$old" "$new" 2>/dev/null; then
      echo "REJECTED non-fast-forward $ref" >> "$GIT_DIR/updates.log"
      echo "non-fast-forward update of $ref refused" >&2
      status=1
    fi
  fi
done
exit $status
`;

/**
 * After `deletedAt`, once the writer has re-read the archive (its second budget event after
 * that time: the first may come from a read that started before), it neither decides to expand
 * the pruned node nor writes a child of it.
 */
function expectNotExpandedAfter(events: Timed[], node: string, deletedAt: number): number {
  let checked = 0;
  const writers = new Set(events.map((e) => e.writer));
  for (const w of writers) {
    const mine = events.filter((e) => e.writer === w);
    const first = mine.findIndex((e) => e.type === 'budget' && (e.at ?? 0) > deletedAt);
    if (first < 0) continue;
    const fresh = mine.findIndex((e, i) => i > first && e.type === 'budget');
    if (fresh < 0) continue;
    for (const e of mine.slice(fresh)) {
      if (e.type === 'decision' && e.kind === 'expand') {
        checked++;
        expect(e.node, `${w} chose the pruned node`).not.toBe(node);
        expect(e.mate).not.toBe(node);
      }
      if (e.type === 'expanded') expect(e.parents, `${w} expanded the pruned node`).not.toContain(node);
    }
  }
  return checked;
}

describe('many machines through one bare remote', () => {
  it('3 agents in 3 clones: everything reported is on the remote, nothing was forced, a node deleted on the remote is not expanded again', async () => {
    const base = await demoRepo();
    const bare = await tempDir('evogit-bare-');
    dirs.push(base, bare);
    await initRepo(bare, { bare: true });
    await writeFile(path.join(bare, 'hooks', 'pre-receive'), HOOK);
    await chmod(path.join(bare, 'hooks', 'pre-receive'), 0o755);
    await git(base, ['push', '--quiet', bare, 'main', 'refs/heads/evo/root']);
    const clones: string[] = [];
    for (let k = 1; k <= 3; k++) {
      const c = await tempDir(`evogit-clone${k}-`);
      dirs.push(c);
      await git(c, ['clone', '--quiet', bare, '.']);
      clones.push(c);
    }
    const budget = 30;
    const agents = clones.map((c, i) => start(c, ['agent', '--remote', bare, '--writer', `w${i + 1}`, '--max-evals', String(budget), '--sandbox', 'local']));
    const all = () => agents.flatMap((a) => a.events);

    // Prune a node on the remote once others have had a chance to see it (which writer made it
    // is up to the scorer's draws: its own writer must drop it too, not push it back).
    await waitFor(() => all().filter((e) => e.type === 'expanded').length >= 1 && all().filter((e) => e.type === 'evaluated').length >= 8, 120_000, 'a node and 8 evaluations');
    const victim = all().find((e) => e.type === 'expanded');
    if (victim?.type !== 'expanded') throw new Error('unreachable');
    await git(base, ['fetch', '--quiet', bare, `refs/heads/${victim.branch}`]);
    await git(base, ['push', '--quiet', bare, '--delete', victim.branch]);
    const deletedAt = Date.now();

    const exits = await Promise.all(agents.map((a) => a.exit));
    for (const [i, x] of exits.entries()) expect(x.code, agents[i]!.stderr.join('\n')).toBe(0);
    const events = all();

    // Check on a fresh clone of the remote: every reported node (except the pruned one) and every reported evaluation is there.
    const fresh = await tempDir('evogit-fresh-');
    dirs.push(fresh);
    await git(fresh, ['clone', '--quiet', '--mirror', bare, '.']);
    const branches = await nodeBranches(fresh);
    for (const e of events) {
      if (e.type === 'expanded' && e.node !== victim.node) expect(branches.get(e.branch), `${e.branch} reported by ${e.writer}, missing on the remote`).toBe(e.node);
    }
    const log = await readFile(path.join(bare, 'updates.log'), 'utf8');
    expect(branches.has(victim.branch), `the pruned branch came back:\n${log.split('\n').filter((l) => l.includes(victim.branch)).join('\n')}`).toBe(false);
    const lines = await noteLines(fresh);
    const have = new Set(lines.map((l) => `${l.writer} ${l.node} ${l.task} ${l.outcome}`));
    const reported = events.filter((e) => e.type === 'evaluated');
    for (const e of reported) if (e.type === 'evaluated') expect(have.has(`${e.writer} ${e.node} ${e.task} ${e.outcome}`)).toBe(true);
    expect(lines.length).toBe(reported.length);
    // The budget across machines has no lock: an agent decides on its last fetch, which can miss
    // each other agent's in-flight evaluation and one it just finished. Overshoot stays small.
    expect(counted(lines)).toBeGreaterThanOrEqual(budget);
    expect(counted(lines)).toBeLessThanOrEqual(budget + 2 * (agents.length - 1));

    // The remote saw no forced update; the only deletions were released claims and our prune.
    expect(log).not.toContain('REJECTED');
    const deletions = log
      .split('\n')
      .filter((l) => l.split(' ')[1] === '0'.repeat(40))
      .map((l) => l.split(' ')[2] as string);
    expect(deletions.filter((r) => !r.startsWith('refs/evogit/claims/'))).toEqual([`refs/heads/${victim.branch}`]);
    // No claim is left on the remote.
    expect(await git(bare, ['for-each-ref', 'refs/evogit/claims/'])).toBe('');

    expect(expectNotExpandedAfter(events, victim.node, deletedAt)).toBeGreaterThanOrEqual(0);
    for (const c of clones) await expectCleanRepo(c);
  }, 180_000);

  it('`git branch -D` during `evogit run` on one machine: no agent expands the node afterwards', async () => {
    const repo = await demoRepo();
    dirs.push(repo);
    const run = start(repo, ['run', '--agents', '3', '--max-evals', '60', '--sandbox', 'local', '--seed', '3']);
    await waitFor(() => run.events.filter((e) => e.type === 'expanded').length >= 2, 60_000, 'two nodes');
    // Prune the node the agents like most so far: the first one made.
    const victim = run.events.find((e) => e.type === 'expanded');
    if (victim?.type !== 'expanded') throw new Error('unreachable');
    await git(repo, ['branch', '-D', victim.branch]);
    const deletedAt = Date.now();
    expect((await run.exit).code, run.stderr.join('\n')).toBe(0);
    expect(expectNotExpandedAfter(run.events, victim.node, deletedAt)).toBeGreaterThan(0);
    expect((await nodeBranches(repo)).has(victim.branch)).toBe(false);
    // The budget counts every graded run in the notes, the pruned node's too: pruning gives no budget back.
    expect(counted(await noteLines(repo))).toBe(60);
    await expectCleanRepo(repo);
  }, 120_000);
});

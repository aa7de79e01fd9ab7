/**
 * `evogit run` on one machine: N agent processes share one repository and stop at the
 * evaluation budget exactly (the budget is checked and claimed under one lock file), leave
 * every node on a branch, and leave no worktree, claim or process behind — also when stopped
 * with Ctrl-C, after which a second run resumes from the archive's counts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Archive, thisHost } from '../../src/archive/index.js';
import { processAlive } from '../../src/loop/lock.js';
import { git, removedAfterAll } from '../helpers/repo.js';
import { archiveRoot, claimRefs, counted, demoRepo, expectCleanRepo, groupMembers, nodeBranches, noteLines, start, waitFor } from './helpers.js';

const dirs = removedAfterAll();

describe('evogit run on one machine', () => {
  it('4 agents reach an evaluation budget of 24 exactly, every node on a branch, nothing left behind', async () => {
    const repo = await demoRepo();
    dirs.push(repo);
    const run = start(repo, ['run', '--agents', '4', '--max-evals', '24', '--sandbox', 'local', '--seed', '7']);
    const { code } = await run.exit;
    expect(code, run.stderr.join('\n')).toBe(0);

    const lines = await noteLines(repo);
    expect(counted(lines)).toBe(24);
    // Every evaluation the agents reported is in the notes, and nothing else is.
    const reported = run.events.filter((e) => e.type === 'evaluated');
    expect(reported.length).toBe(lines.length);
    const writers = new Set(run.events.filter((e) => e.type === 'start').map((e) => e.writer));
    expect(writers.size).toBe(4);

    // Every node the agents made still has its branch, at the reported commit.
    const branches = await nodeBranches(repo);
    const expanded = run.events.flatMap((e) => (e.type === 'expanded' ? [e] : []));
    expect(expanded.length).toBeGreaterThan(0);
    expect(branches.size).toBe(expanded.length);
    for (const e of expanded) expect(branches.get(e.branch)).toBe(e.node);
    // Every evaluated node is the root or a node with a branch.
    const ids = new Set([...branches.values(), await archiveRoot(repo)]);
    for (const l of lines) expect(ids.has(l.node)).toBe(true);

    await expectCleanRepo(repo);
    expect(await claimRefs(repo)).toEqual([]);
    expect(await groupMembers([run.pid])).toEqual([]);

    // At the end nobody polls: an agent whose remaining budget is in flight with the others
    // here stops and says so (the one holding the last slot finishes the run).
    expect(run.events.filter((e) => e.type === 'waiting')).toEqual([]);
    const reasons = run.events.flatMap((e) => (e.type === 'done' ? [e.reason] : []));
    expect(reasons).toHaveLength(4);
    for (const r of reasons) expect(r).toMatch(/^(evaluation budget spent|the rest of the budget is in flight with a\d)/);
  });

  it('with test.timeout auto, the root runs every task first, and later runs get their limit from it', async () => {
    const repo = await demoRepo(undefined, { timeout: 'auto' });
    dirs.push(repo);
    const run = start(repo, ['run', '--agents', '1', '--max-evals', '8', '--sandbox', 'local', '--seed', '5']);
    const { code } = await run.exit;
    expect(code, run.stderr.join('\n')).toBe(0);
    const root = await archiveRoot(repo);
    const decided = run.events.flatMap((e) => (e.type === 'decision' ? [e] : []));
    expect(decided.slice(0, 3).map((e) => [e.kind, e.node])).toEqual([['evaluate', root], ['evaluate', root], ['evaluate', root]]);
    expect(new Set(decided.slice(0, 3).map((e) => e.task)).size).toBe(3);
    const lines = await noteLines(repo);
    const later = lines.filter((l) => l.node !== root);
    expect(later.length).toBeGreaterThan(0);
    for (const l of later) expect(l.timeoutMs).toBeLessThan(120_000);
  }, 120_000);

  it('grades a child first on the test file its edit is aimed at, and runs its other files only when it beat its parent', async () => {
    const repo = await demoRepo();
    dirs.push(repo);
    const run = start(repo, ['run', '--agents', '1', '--max-evals', '15', '--sandbox', 'local', '--seed', '3']);
    const { code } = await run.exit;
    expect(code, run.stderr.join('\n')).toBe(0);
    const root = await archiveRoot(repo);
    const runs = run.events.flatMap((e) => (e.type === 'evaluated' ? [e] : []));
    const byNode = new Map<string, typeof runs>();
    for (const e of runs) byNode.set(e.node, [...(byNode.get(e.node) ?? []), e]);
    const children = [...byNode.keys()].filter((n) => n !== root);
    // Three test files, 15 runs: one file per child that fixed nothing, so well over 4 children.
    expect(children.length).toBeGreaterThan(6);
    let aimed = 0;
    for (const child of children) {
      const message = await git(repo, ['log', '-1', '--format=%B', child]);
      const targets = /^Evogit-Targets: (.*)$/m.exec(message);
      if (targets) {
        aimed++;
        expect(JSON.parse(targets[1]!), message).toContain(byNode.get(child)![0]!.task);
      }
      // The rest of its files only after its first run beat the root on that file.
      const [first, ...rest] = byNode.get(child)!;
      const before = byNode.get(root)!.find((e) => e.task === first!.task)!;
      if (rest.length > 0) expect(first!.tests!.passed, `${child} ran ${rest.length + 1} files`).toBeGreaterThan(before.tests!.passed);
    }
    expect(aimed).toBe(children.length);
  }, 120_000);

  it('waits for a claim from another machine, says so once, and takes the slot when the claim is gone', async () => {
    const repo = await demoRepo();
    dirs.push(repo);
    const archive = await Archive.open({ repoDir: repo });
    const root = (await archive.root()) as string;
    // Another machine's agent claimed the budget's one evaluation.
    const claim = await archive.putClaim({ writer: 'far-a1', node: root, kind: 'evaluate', task: 'test/stats.test.js', expires: Date.now() + 3_600_000, host: 'another-machine', pid: 1 });
    const run = start(repo, ['run', '--agents', '1', '--max-evals', '1', '--sandbox', 'local', '--seed', '3']);
    await waitFor(() => run.events.some((e) => e.type === 'waiting'), 60_000, 'the agent to say it waits');
    // Let it poll a while, then the other machine's run ends (its claim is released, no evaluation came of it).
    await new Promise((r) => setTimeout(r, 2000));
    await archive.releaseClaim(claim);
    const { code } = await run.exit;
    expect(code, run.stderr.join('\n')).toBe(0);
    const waits = run.events.filter((e) => e.type === 'waiting');
    expect(waits).toEqual([expect.objectContaining({ writer: 'a1', for: [{ writer: 'far-a1', node: root, task: 'test/stats.test.js' }] })]);
    expect(run.events.filter((e) => e.type === 'evaluated')).toHaveLength(1);
    expect(counted(await noteLines(repo))).toBe(1);
  }, 120_000);

  it('Ctrl-C stops every agent cleanly, and the next run resumes from the archive to the budget', async () => {
    const repo = await demoRepo();
    dirs.push(repo);
    const first = start(repo, ['run', '--agents', '2', '--max-evals', '400', '--sandbox', 'local']);
    await waitFor(() => first.events.filter((e) => e.type === 'evaluated').length >= 6, 60_000, 'six evaluations');
    // A terminal's Ctrl-C reaches the whole foreground process group.
    first.signalGroup('SIGINT');
    const stopped = await first.exit;
    expect(stopped.code, first.stderr.join('\n')).toBe(0);
    const done = first.events.filter((e) => e.type === 'done');
    expect(done.map((e) => e.type === 'done' && e.reason).sort(), first.stderr.join('\n')).toEqual(['stopped', 'stopped']);
    await expectCleanRepo(repo);
    expect(await claimRefs(repo)).toEqual([]);
    expect(await groupMembers([first.pid])).toEqual([]);

    const before = counted(await noteLines(repo));
    expect(before).toBeGreaterThanOrEqual(6);
    expect(before).toBeLessThan(400);
    const budget = before + 9;
    const second = start(repo, ['run', '--agents', '2', '--max-evals', String(budget), '--sandbox', 'local']);
    expect((await second.exit).code, second.stderr.join('\n')).toBe(0);
    // The second run counted what the first one spent: it ran only the remaining evaluations.
    expect(second.events.filter((e) => e.type === 'evaluated' && e.outcome !== 'error').length).toBe(9);
    expect(counted(await noteLines(repo))).toBe(budget);
    await expectCleanRepo(repo);
  });
  it('a claim left by a process that died on this machine is released by the next run, whatever its writer name', async () => {
    const repo = await demoRepo();
    dirs.push(repo);
    // A process that has exited: its pid is dead. Its claim (an evaluation, valid for an hour)
    // names a writer that never had a worktree here, so only the pid says it is stale.
    const dead = spawnSync(process.execPath, ['-e', '']).pid as number;
    const archive = await Archive.open({ repoDir: repo });
    const root = (await archive.root()) as string;
    await archive.putClaim({ writer: 'ghost', node: root, kind: 'evaluate', task: 'x', expires: Date.now() + 3_600_000, host: thisHost(), pid: dead });
    expect(await claimRefs(repo)).toHaveLength(1);
    // Without the release the run would wait for the claim's hour at the end of its budget.
    const run = start(repo, ['run', '--agents', '1', '--max-evals', '3', '--sandbox', 'local', '--seed', '3']);
    const { code } = await run.exit;
    expect(code, run.stderr.join('\n')).toBe(0);
    expect(counted(await noteLines(repo))).toBe(3);
    expect(await claimRefs(repo)).toEqual([]);
  }, 120_000);

  it('ends what the agent CLI of a writer killed mid-step left running in its worktree', async () => {
    const repo = await demoRepo();
    dirs.push(repo);
    // As a SIGKILLed agent leaves it: its pid file, its worktree, and the CLI's own process
    // group (the agent's kill does not reach it) still running there.
    const worktrees = path.join(repo, '.git', 'evogit', 'worktrees');
    await mkdir(path.join(worktrees, 'gone'), { recursive: true });
    await writeFile(path.join(worktrees, 'gone.pid'), String(spawnSync(process.execPath, ['-e', '']).pid));
    const cli = spawn('sleep', ['120'], { cwd: path.join(worktrees, 'gone'), detached: true, stdio: 'ignore' });
    cli.unref();
    expect(processAlive(cli.pid as number)).toBe(true);
    const run = start(repo, ['run', '--agents', '1', '--max-evals', '1', '--sandbox', 'local', '--seed', '3']);
    const { code } = await run.exit;
    expect(code, run.stderr.join('\n')).toBe(0);
    expect(processAlive(cli.pid as number)).toBe(false);
    expect(run.events.some((e) => e.type === 'warning' && /ended 1 process\(es\) left running in the worktree of stopped writer gone/.test(e.message))).toBe(true);
    await expectCleanRepo(repo);
  }, 120_000);
});

/**
 * Chaos: agents SIGKILLed at random moments, 20 times, then `evogit run` again to the budget.
 * Every node and evaluation an agent reported before it was killed must survive (an event is
 * emitted after its write), the repository must stay whole, and nothing may be left behind:
 * no worktree, no claim, no process (local sandbox) and no container (Docker).
 */
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { describeDocker, ensureTestImage } from '../helpers/docker.js';
import { removedAfterAll } from '../helpers/repo.js';
import { claimRefs, counted, demoRepo, expectCleanRepo, groupMembers, nodeBranches, noteLines, prng, start, type Timed } from './helpers.js';

const dirs = removedAfterAll();

/** Everything reported as written must be in the repository. */
async function expectReportedKept(repo: string, events: Timed[]): Promise<void> {
  const branches = await nodeBranches(repo);
  for (const e of events) if (e.type === 'expanded') expect(branches.get(e.branch), `node ${e.branch} was reported, then lost`).toBe(e.node);
  const lines = await noteLines(repo);
  const have = new Map<string, number>();
  for (const l of lines) have.set(`${l.writer} ${l.node} ${l.task} ${l.outcome}`, (have.get(`${l.writer} ${l.node} ${l.task} ${l.outcome}`) ?? 0) + 1);
  const want = new Map<string, number>();
  for (const e of events) if (e.type === 'evaluated') want.set(`${e.writer} ${e.node} ${e.task} ${e.outcome}`, (want.get(`${e.writer} ${e.node} ${e.task} ${e.outcome}`) ?? 0) + 1);
  for (const [k, n] of want) expect(have.get(k) ?? 0, `evaluation ${k} was reported ${n}×, then lost`).toBeGreaterThanOrEqual(n);
}

describe('chaos', () => {
  it('20 SIGKILLs of whole agent process groups at random moments lose nothing, and a last run completes the budget exactly', async () => {
    const seed = Number(process.env.EVOGIT_CHAOS_SEED ?? Date.now() % 100_000);
    const random = prng(seed);
    const repo = await demoRepo();
    dirs.push(repo);
    // Budgets: unbounded while killing; the last run's budget is what was spent plus 30.
    const chaosBudget = 100_000;
    const events: Timed[] = [];
    const groups: number[] = [];
    for (let i = 0; i < 20; i++) {
      // Alternate `run --agents 2` and a lone `evogit agent` with a writer of its own.
      const args = i % 3 === 2 ? ['agent', '--writer', `solo${i % 2}`] : ['run', '--agents', String(1 + (i % 2) + (i % 4 === 0 ? 1 : 0))];
      const p = start(repo, [...args, '--max-evals', String(chaosBudget), '--sandbox', 'local']);
      groups.push(p.pid);
      await new Promise((r) => setTimeout(r, 300 + random() * 2700));
      p.signalGroup('SIGKILL');
      await p.exit;
      events.push(...p.events);
    }
    await expectReportedKept(repo, events);
    const budget = counted(await noteLines(repo)) + 30;

    const last = start(repo, ['run', '--agents', '3', '--max-evals', String(budget), '--sandbox', 'local']);
    const { code } = await last.exit;
    expect(code, `seed ${seed}\n${last.stderr.join('\n')}`).toBe(0);
    events.push(...last.events);
    await expectReportedKept(repo, events);
    expect(counted(await noteLines(repo)), `seed ${seed}`).toBe(budget);
    await expectCleanRepo(repo);
    expect(await claimRefs(repo)).toEqual([]);
    expect(await groupMembers([...groups, last.pid])).toEqual([]);
  }, 240_000);
});

describeDocker('chaos in Docker', () => {
  it('a SIGKILLed run leaves no container once the next run has started, and the budget completes exactly', async () => {
    await ensureTestImage();
    const repo = await demoRepo();
    dirs.push(repo);
    const docker = new Docker();
    const ours = async (pids: number[]) =>
      (await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['evogit.owner=evogit'] }) })).filter((c) => pids.includes(Number(c.Labels['evogit.pid'])));
    const first = start(repo, ['run', '--agents', '2', '--max-evals', '12', '--sandbox', 'docker']);
    const deadline = Date.now() + 120_000;
    // Kill while a container is running.
    let agentPids: number[] = [];
    while (Date.now() < deadline) {
      const members = await groupMembers([first.pid]);
      agentPids = members.map((m) => Number(m.split(/\s+/)[0]));
      if ((await ours(agentPids)).some((c) => c.State === 'running')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    first.signalGroup('SIGKILL');
    await first.exit;
    expect((await ours(agentPids)).length).toBeGreaterThan(0);
    const second = start(repo, ['run', '--agents', '2', '--max-evals', '12', '--sandbox', 'docker']);
    const { code } = await second.exit;
    expect(code, second.stderr.join('\n')).toBe(0);
    await expectReportedKept(repo, [...first.events, ...second.events]);
    expect(await ours(agentPids)).toEqual([]);
    expect(counted(await noteLines(repo))).toBe(12);
    await expectCleanRepo(repo);
  }, 200_000);
});

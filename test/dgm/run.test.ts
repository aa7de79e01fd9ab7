import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatModel } from '../../src/agents/llm/index.js';
import { HELDOUT_NOTES, dgmReport, runDgm, type DgmEvent, type DgmReport } from '../../src/agents/self/index.js';
import { Archive, type ArchiveSnapshot } from '../../src/archive/index.js';
import { DockerSandbox, LocalSandbox } from '../../src/sandbox/index.js';
import { describeDocker, ensureTestImage, ownContainers } from '../helpers/docker.js';
import { git, removeDir } from '../helpers/repo.js';
import { SECRET_KEY, agentRepo, configOf, scriptedLlm, type ScriptedLlm } from './helpers.js';
import { CAREFUL, dgmModel } from './solver.js';

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out;
}

describe('a DGM-mode run: the repository is the seed agent, evolved by editing itself', () => {
  let repo: string;
  let dirs: string[] = [];
  let llm: ScriptedLlm;
  let snapshot: ArchiveSnapshot;
  let report: DgmReport;
  const events: DgmEvent[] = [];

  beforeAll(async () => {
    // Seed 6 puts two-fer and leap in the search split, reverse-string in the held-out split.
    ({ repo, dirs } = await agentRepo({ sandbox: 'local', fractions: { search: 0.6, selection: 0, heldout: 0.4 }, seed: 6 }));
    llm = await scriptedLlm(dgmModel());
    const config = await configOf(repo);
    const chat = createChatModel({ provider: 'openai', model: 'scripted', baseUrl: llm.server.openaiBaseUrl, apiKey: SECRET_KEY, timeoutMs: 10_000 });
    const sandbox = new LocalSandbox(undefined, () => undefined);
    const common = { repoDir: repo, config, writer: 'dgm', sandbox, llm: { proxy: llm.proxy, model: 'scripted' } };
    const result = await runDgm({ ...common, chat, budget: { evaluations: 12, expansions: 4 }, seed: 3, emit: (e) => events.push(e) });
    expect(result.evaluations).toBeGreaterThan(0);
    snapshot = await (await Archive.open({ repoDir: repo })).load();
    report = await dgmReport(common);
  }, 300_000);
  afterAll(async () => {
    await llm?.close();
    for (const d of dirs) await removeDir(d);
  });

  it('makes self-modified children whose commits carry operator self and an improvement request', async () => {
    const children = snapshot.nodes.filter((n) => n.operator === 'self');
    expect(children.length).toBeGreaterThanOrEqual(2);
    for (const child of children) {
      const agentJs = await git(repo, ['show', `${child.id}:agent.js`]);
      expect(agentJs).toContain(CAREFUL);
      const body = await git(repo, ['log', '-1', '--format=%B', child.id]);
      expect(body).toContain('Improvement request:');
      expect(body).toContain('Evogit-Operator: self');
      // The suites stay the evaluator's: a self-edit never changes them.
      const changed = await git(repo, ['diff', '--name-only', child.parents[0]!, child.id]);
      expect(changed).not.toContain('.evogit/');
    }
  });

  it('records evaluations on the agent nodes, and the improved agents resolve more search tasks than the seed', () => {
    const root = snapshot.root;
    const rate = (id: string): number | null => {
      const ls = (snapshot.evaluations.get(id) ?? []).filter((e) => e.outcome !== 'error');
      return ls.length ? ls.filter((e) => e.outcome === 'pass').length / ls.length : null;
    };
    expect(rate(root)).toBe(0.5); // two-fer passes, leap does not
    const evaluatedChildren = snapshot.nodes.filter((n) => n.operator === 'self' && rate(n.id) !== null);
    expect(evaluatedChildren.length).toBeGreaterThan(0);
    for (const c of evaluatedChildren) expect(rate(c.id)).toBe(1);
    for (const lines of snapshot.evaluations.values()) for (const e of lines) expect(e.task).toMatch(/^poly\/(javascript\/two-fer|python\/leap)$/);
    expect(events.some((e) => e.type === 'expanded')).toBe(true);
  });

  it('reports the best node against the root on the held-out split, with intervals', async () => {
    expect(report.heldOutTasks).toBe(1);
    expect(report.best.node).not.toBe(report.root.node);
    expect(report.root.heldOut).toMatchObject({ pass: 0, fail: 1 });
    expect(report.best.heldOut).toMatchObject({ pass: 1, fail: 0 });
    expect(report.best.heldOut.lo).toBeLessThan(report.best.heldOut.mean);
    expect(report.best.heldOut.hi).toBeGreaterThan(report.best.heldOut.mean);
    expect(report.difference).toBeCloseTo(2 / 3 - 1 / 3, 10);
    expect(report.ran).toBe(2);
    // Held-out runs live in their own notes: the scorer never counted them.
    const refs = await git(repo, ['for-each-ref', '--format=%(refname)', HELDOUT_NOTES]);
    expect(refs.trim()).toBe(`${HELDOUT_NOTES}/dgm`);
    for (const lines of snapshot.evaluations.values()) for (const e of lines) expect(e.task).not.toContain('reverse-string');
  });

  it('the report reuses recorded held-out runs', async () => {
    const config = await configOf(repo);
    const again = await dgmReport({ repoDir: repo, config, writer: 'dgm', sandbox: new LocalSandbox(undefined, () => undefined), llm: { proxy: llm.proxy, model: 'scripted' } });
    expect(again.ran).toBe(0);
    expect(again.best.heldOut).toEqual(report.best.heldOut);
  });

  it('the key appears in no commit, note, transcript or log', async () => {
    const history = await git(repo, ['log', '--all', '-p', '--format=%H%n%B']);
    const notes = await git(repo, ['log', '-p', '--format=%H', '--glob=refs/notes/*']);
    expect(history + notes).not.toContain(SECRET_KEY);
    expect(notes).toContain('"outcome"');
    const state = await allFiles(path.join(repo, '.git', 'evogit'));
    expect(state.some((f) => f.endsWith('self.json'))).toBe(true);
    for (const f of state) expect(await readFile(f, 'utf8'), f).not.toContain(SECRET_KEY);
  });
});

describeDocker('a DGM-mode run in Docker: evaluations and self-edits in containers with no network', () => {
  it('makes a self-modified child through containers; the key is in no commit or note', async () => {
    await ensureTestImage();
    const { repo, dirs } = await agentRepo({ sandbox: 'docker', fractions: { search: 0.6, selection: 0, heldout: 0.4 }, seed: 6 });
    const llm = await scriptedLlm(dgmModel());
    try {
      const config = await configOf(repo);
      const chat = createChatModel({ provider: 'openai', model: 'scripted', baseUrl: llm.server.openaiBaseUrl, apiKey: SECRET_KEY, timeoutMs: 10_000 });
      const sandbox = new DockerSandbox({ memory: 512 * 1024 * 1024, cpus: 1, pids: 256, user: '1000:1000' });
      const result = await runDgm({ repoDir: repo, config, writer: 'dgm', sandbox, llm: { proxy: llm.proxy, model: 'scripted' }, chat, budget: { evaluations: 6, expansions: 2 }, seed: 3 });
      expect(result.expansions).toBeGreaterThanOrEqual(1);
      const snapshot = await (await Archive.open({ repoDir: repo })).load();
      const child = snapshot.nodes.find((n) => n.operator === 'self')!;
      expect(await git(repo, ['show', `${child.id}:agent.js`])).toContain(CAREFUL);
      const lines = [...snapshot.evaluations.values()].flat();
      expect(lines.length).toBeGreaterThan(0);
      for (const e of lines) {
        expect(e.harness).toBe('docker');
        expect(e.outcome).not.toBe('error');
      }
      // Every call from inside a container came through the proxy with a per-node token.
      const agentCalls = llm.server.requests.filter((q) => !JSON.stringify(q.body).includes('You improve a coding agent'));
      expect(agentCalls.length).toBeGreaterThan(0);
      expect(await ownContainers()).toEqual([]);
      const history = await git(repo, ['log', '--all', '-p', '--format=%H%n%B']);
      expect(history).not.toContain(SECRET_KEY);
    } finally {
      await llm.close();
      for (const d of dirs) await removeDir(d);
    }
  }, 300_000);
});

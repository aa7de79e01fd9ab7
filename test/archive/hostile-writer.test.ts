/**
 * Two clones of one shared remote: an honest writer (alice, using evogit) and a hostile one
 * (mallory, using plain git, who has read evogit's code). Every forgery of the issue is pushed
 * to the remote; the honest clone's `evogit status` and `evogit best` (the real bin) must stay
 * correct, exit 0, and name what they ignored. Then the same pushes against a remote guarded by
 * `evogit remote-hook` are refused at the door, while alice's own pushes go through.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Archive, type Evaluation } from '../../src/archive/index.js';
import { defaultConfig, type Config } from '../../src/config/index.js';
import { EvogitError } from '../../src/errors/index.js';
import { spent } from '../../src/loop/index.js';
import { createSandbox, discoverTasks, runTask, type Sandbox } from '../../src/sandbox/index.js';
import type { TaskSpec } from '../../src/tasks/index.js';
import { describeDocker, ensureTestImage } from '../helpers/docker.js';
import { evogit, git, initRepo } from '../helpers/repo.js';
import { makeFixtureRepo, type FixtureRepo } from '../sandbox/fixture.js';
import { tempDir, cleanup } from './helpers.js';

const FIXED = "const { double } = require('tiny-dep');\nmodule.exports = { add: (a, b) => a + b, twice: (x) => double(x) };\n";

interface Json {
  nodes: { id: string; branch: string | null; untrusted?: string; own: { pass: number; fail: number } }[];
  ignored: { writer: string; node?: string; ref?: string; reason: string; count: number }[];
}

describeDocker('a hostile writer on a shared remote', () => {
  let repo: FixtureRepo;
  let config: Config;
  let sandbox: Sandbox;
  let task: TaskSpec;
  let alice: Archive;
  let remote: string;
  let mallory: string;
  let fixNode: string;
  let badNode: string;
  let forgedTrailers: string;
  let wrongWriter: string;

  const gitIn = (dir: string, ...args: string[]) => git(dir, args).then((s) => s.trim());
  /** A commit with evogit trailers, made with plain git as anybody can. */
  const commit = async (dir: string, tree: string, parent: string, subject: string, trailers: Record<string, string>) =>
    gitIn(dir, 'commit-tree', tree, '-p', parent, '-m', `${subject}\n\n${Object.entries(trailers).map(([k, v]) => `${k}: ${v}`).join('\n')}`);
  /** Replace (or create) mallory's note on `node` with these lines. */
  const note = async (ref: string, node: string, lines: unknown[]) => {
    const file = path.join(mallory, '.git', 'note.txt');
    await writeFile(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
    await gitIn(mallory, 'notes', `--ref=${ref}`, 'add', '-f', '-F', file, node);
  };
  const line = (node: string, writer: string, outcome: Evaluation['outcome'], extra: Record<string, unknown> = {}) => ({ node, task: task.id, outcome, durationMs: 5, harness: 'docker', writer, time: '2026-01-01T00:00:00.000Z', ...extra });

  beforeAll(async () => {
    await ensureTestImage();
    config = defaultConfig({
      language: 'javascript',
      test: { command: 'node --test', install: ['npm ci --offline --no-audit --no-fund'], timeout: '30s' },
      sandbox: { memory: '256m', installNetwork: false },
    });
    repo = await makeFixtureRepo('node-calc', config);
    sandbox = createSandbox(config);
    alice = await Archive.open({ repoDir: repo.dir });
    await alice.createRoot(repo.root);
    task = (await discoverTasks(repo.dir, repo.root, config))[0]!;
    remote = path.join(await tempDir(), 'shared.git');
    await initRepo(remote, { bare: true });
    await gitIn(repo.dir, 'push', '-q', remote, 'main', 'evo/root');

    // alice: a real fix, graded in the sandbox, and the root's real (failing) run.
    const fixCommit = await repo.candidate({ 'src/calc.js': FIXED }, 'fix add');
    const fix = await alice.writeNode({ writer: 'alice', parents: [repo.root], tree: await gitIn(repo.dir, 'rev-parse', `${fixCommit}^{tree}`), message: 'fix add', agent: 'manual', operator: 'manual' });
    fixNode = fix.id;
    const logDir = path.join(repo.dir, '.git', 'evogit', 'logs');
    const runs = await Promise.all([repo.root, fixNode].map((commit) => runTask({ repoDir: repo.dir, commit, root: repo.root, task, config, sandbox, writer: 'alice', logDir })));
    expect(runs.map((r) => r.outcome)).toEqual(['fail', 'pass']);
    await alice.appendEvaluations('alice', runs);
    await alice.push(remote, 'alice');

    // mallory: a plain clone of everything.
    mallory = path.join(await tempDir(), 'mallory');
    await gitIn(repo.dir, 'clone', '-q', remote, mallory);
    await gitIn(mallory, 'fetch', '-q', remote, '+refs/heads/evo/*:refs/heads/evo/*', '+refs/notes/*:refs/notes/*');
  });

  afterAll(async () => {
    await repo?.cleanup();
    await cleanup();
  });

  it("keeps the honest clone's status and best right, and names every forgery it ignored", async () => {
    const rootTree = await gitIn(mallory, 'rev-parse', `${repo.root}^{tree}`);
    const readme = (await git(mallory, ['hash-object', '-w', '--stdin'], 'notes\n')).trim();
    // A node that still has the bug (the root's code and a new file), on mallory's own branch.
    const extraTree = await git(mallory, ['mktree'], `${(await git(mallory, ['ls-tree', rootTree])).trim()}\n100644 blob ${readme}\tNOTES.md\n`).then((s) => s.trim());
    badNode = await commit(mallory, extraTree, repo.root, 'a node that keeps the bug', { 'Evogit-Writer': 'mallory', 'Evogit-Agent': 'x', 'Evogit-Operator': 'mutate' });
    await gitIn(mallory, 'update-ref', 'refs/heads/evo/mallory/1', badNode);
    // Commits with forged trailers: a negative cost (it would raise the budget) in carol's
    // namespace, carol's name on a branch of dave, and one in alice's own namespace (alice's
    // clone never takes refs of its own writer from a remote).
    forgedTrailers = await commit(mallory, rootTree, fixNode, 'free money', { 'Evogit-Writer': 'carol', 'Evogit-Agent': 'x', 'Evogit-Operator': 'llm', 'Evogit-Cost': '-1000' });
    await gitIn(mallory, 'update-ref', 'refs/heads/evo/carol/1', forgedTrailers);
    wrongWriter = await commit(mallory, rootTree, fixNode, 'in another name', { 'Evogit-Writer': 'carol', 'Evogit-Agent': 'x', 'Evogit-Operator': 'teleport' });
    await gitIn(mallory, 'update-ref', 'refs/heads/evo/dave/1', wrongWriter);
    await gitIn(mallory, 'update-ref', 'refs/heads/evo/alice/2', forgedTrailers);
    // A ref that blocks bob's first branch.
    await gitIn(mallory, 'update-ref', 'refs/heads/evo/bob/1/x', badNode);
    // Notes: passes in mallory's own name (schema-valid: they count until verified), a pass and a
    // tampered mark forged in alice's name, and malformed counts.
    const passes = Array.from({ length: 30 }, () => line(badNode, 'mallory', 'pass', { tests: { passed: 2, failed: 0, skipped: 0, total: 2 } }));
    await note('refs/notes/evogit/mallory', badNode, [...passes, line(badNode, 'alice', 'pass')]);
    await note('refs/notes/evogit/mallory', fixNode, [line(fixNode, 'alice', 'fail', { tampered: true, reason: 'forged' })]);
    await note('refs/notes/evogit/mallory', repo.root, [
      line(repo.root, 'mallory', 'pass', { tests: { passed: 1e308, failed: -5, skipped: 'a', total: null } }),
      line(repo.root, 'mallory', 'pass', { tests: { passed: '999999', failed: 0, skipped: 0, total: 1 } }),
      { ...line(repo.root, 'mallory', 'pass'), outcome: 'maybe' },
      'not json at all',
    ]);
    // Promotion tags for the bad node: unattributed, and in mallory's own name.
    await gitIn(mallory, 'update-ref', `refs/tags/evo-promoted/${badNode.slice(0, 12)}`, badNode);
    await gitIn(mallory, 'update-ref', `refs/tags/evo-promoted/mallory/${badNode.slice(0, 12)}`, badNode);
    await gitIn(mallory, 'push', '-q', '--force', remote, 'refs/heads/evo/mallory/1', 'refs/heads/evo/alice/2', 'refs/heads/evo/carol/1', 'refs/heads/evo/dave/1', 'refs/heads/evo/bob/1/x', 'refs/notes/evogit/mallory', 'refs/tags/evo-promoted/*:refs/tags/evo-promoted/*');

    await alice.fetch(remote, 'alice');
    const status = await evogit(repo.dir, ['status', '--json']);
    expect(status.exitCode, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as Json;
    const byId = new Map(s.nodes.map((n) => [n.id, n]));
    expect(byId.get(fixNode)?.own).toMatchObject({ pass: 1, fail: 0 });
    expect(byId.get(forgedTrailers)?.untrusted).toMatch(/Evogit-Cost "-1000"/);
    expect(byId.get(wrongWriter)?.untrusted).toMatch(/unknown Evogit-Operator "teleport"/);
    expect(s.nodes.some((n) => n.branch === 'evo/alice/2')).toBe(false);
    const said = (pred: (i: Json['ignored'][number]) => boolean) => s.ignored.filter(pred);
    expect(said((i) => i.writer === 'mallory' && i.node === badNode && /writer field "alice" in mallory's notes/.test(i.reason))).toHaveLength(1);
    expect(said((i) => i.writer === 'mallory' && i.node === fixNode && /writer field "alice"/.test(i.reason))).toHaveLength(1);
    expect(said((i) => i.writer === 'mallory' && i.node === repo.root)[0]).toMatchObject({ count: 4 });
    expect(said((i) => i.ref === 'refs/heads/evo/bob/1/x')).toHaveLength(1);
    expect(said((i) => i.node === badNode && /promotion tag not counted/.test(i.reason))).toHaveLength(2);
    expect(s.nodes.find((n) => n.id === badNode)).toBeDefined();
    // The negative cost spends nothing (and so cannot raise the budget).
    expect(spent(await alice.load()).cost).toBe(0);
    const text = await evogit(repo.dir, ['status']);
    expect(text.stdout).toMatch(/ignored \(\d+\):/);

    // best: mallory's 30 self-made passes would win; they are re-run here first and disputed.
    const best = await evogit(repo.dir, ['best', '--json']);
    expect(best.exitCode, best.stderr).toBe(0);
    const b = JSON.parse(best.stdout) as { node: string; verifications: { node: string; disputed: { writer: string; task: string }[] }[]; ignored: Json['ignored'] };
    expect(b.node).toBe(fixNode);
    expect(b.verifications[0]).toMatchObject({ node: badNode, disputed: [{ writer: 'mallory', task: task.id }] });
    expect(b.ignored.some((i) => i.writer === 'mallory' && i.node === badNode && /disputed/.test(i.reason))).toBe(true);
    // Later, with no new data, best names alice's fix at once (the dispute is remembered).
    const again = JSON.parse((await evogit(repo.dir, ['best', '--json'])).stdout) as { node: string; verifications: unknown[] };
    expect(again).toMatchObject({ node: fixNode, verifications: [] });
  });

  it("tells bob which ref blocks his push, and refuses a remote whose root was rewritten", async () => {
    const bobDir = path.join(await tempDir(), 'bob');
    await gitIn(repo.dir, 'clone', '-q', remote, bobDir);
    const bob = await Archive.open({ repoDir: bobDir });
    await bob.fetch(remote, 'bob');
    await bob.writeNode({ writer: 'bob', parents: [repo.root], tree: await gitIn(bobDir, 'rev-parse', `${repo.root}^{tree}`), message: 'bob', agent: 'x', operator: 'manual' });
    await expect(bob.push(remote, 'bob')).rejects.toThrow(/refs\/heads\/evo\/bob\/1\/x .*blocks it/);

    // The root force-pushed to a commit without the tests: every clone refuses, loudly.
    const emptied = await gitIn(mallory, 'commit-tree', await git(mallory, ['mktree'], '').then((t) => t.trim()), '-m', 'no tests');
    await gitIn(mallory, 'push', '-q', '--force', remote, `${emptied}:refs/heads/evo/root`);
    const before = (await alice.load()).root;
    const refused = await alice.fetch(remote, 'alice').then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(EvogitError);
    expect((refused as EvogitError).code).toBe('E_ROOT_MISMATCH');
    expect((refused as EvogitError).hint).toMatch(/git update-ref refs\/heads\/evo\/root/);
    expect((await alice.load()).root).toBe(before);
    const status = await evogit(repo.dir, ['status', '--json']);
    expect(status.exitCode).toBe(0);
    expect((JSON.parse(status.stdout) as { root: string }).root).toBe(repo.root);
  });

  it('refuses every forgery at a remote guarded by `evogit remote-hook`, and takes the honest pushes', async () => {
    const guarded = path.join(await tempDir(), 'guarded.git');
    await initRepo(guarded, { bare: true });
    const hook = await evogit(repo.dir, ['remote-hook']);
    expect(hook.exitCode).toBe(0);
    await mkdir(path.join(guarded, 'hooks'), { recursive: true });
    await writeFile(path.join(guarded, 'hooks', 'pre-receive'), hook.stdout);
    await chmod(path.join(guarded, 'hooks', 'pre-receive'), 0o755);
    await gitIn(guarded, 'config', 'evogit.writers.alice', 'alice');
    await gitIn(guarded, 'config', 'evogit.writers.mallory', 'mallory mallory-*');
    const as = async <T>(pusher: string, f: () => Promise<T>): Promise<T> => {
      process.env.EVOGIT_PUSHER = pusher;
      try {
        return await f();
      } finally {
        delete process.env.EVOGIT_PUSHER;
      }
    };
    // alice publishes the root, her node and her notes.
    await as('alice', async () => {
      await gitIn(repo.dir, 'push', '-q', guarded, 'main', 'evo/root');
      await alice.push(guarded, 'alice');
    });
    // Each of mallory's forgeries, pushed on its own, is refused with the rule it breaks.
    const attempt = (...refspecs: string[]) => as('mallory', () => git(mallory, ['push', '--force', '--porcelain', guarded, ...refspecs]).then(() => 'accepted', (e: Error) => e.message));
    expect(await attempt('refs/heads/evo/alice/2:refs/heads/evo/alice/2')).toMatch(/mallory may not write as alice/);
    expect(await attempt('refs/heads/evo/carol/1:refs/heads/evo/carol/1')).toMatch(/mallory may not write as carol/);
    expect(await attempt('refs/heads/evo/bob/1/x:refs/heads/evo/bob/1/x')).toMatch(/not a node branch name/);
    expect(await attempt(`${badNode}:refs/heads/evo/root`)).toMatch(/the archive root never moves/);
    expect(await attempt('refs/notes/evogit/mallory:refs/notes/evogit/alice')).toMatch(/may not write alice's evaluations/);
    expect(await attempt(`refs/tags/evo-promoted/${badNode.slice(0, 12)}`)).toMatch(/unattributed promotion tag/);
    expect(await attempt(`${badNode}:refs/heads/evo/alice/1`)).toMatch(/a node branch never moves|may not write as alice/);
    // What is mallory's own goes through; rewriting her own notes' history does not.
    expect(await attempt('refs/heads/evo/mallory/1:refs/heads/evo/mallory/1', 'refs/notes/evogit/mallory')).toBe('accepted');
    const rewritten = await gitIn(mallory, 'commit-tree', await gitIn(mallory, 'rev-parse', 'refs/notes/evogit/mallory^{tree}'), '-m', 'history rewritten');
    expect(await attempt(`${rewritten}:refs/notes/evogit/mallory`)).toMatch(/append-only/);
    const refs = await gitIn(guarded, 'for-each-ref', '--format=%(refname)');
    expect(refs.split('\n').sort()).toEqual(['refs/heads/evo/alice/1', 'refs/heads/evo/mallory/1', 'refs/heads/evo/root', 'refs/heads/main', 'refs/notes/evogit/alice', 'refs/notes/evogit/mallory']);
    expect(await readFile(path.join(guarded, 'hooks', 'pre-receive'), 'utf8')).toContain("prefix='evo'");
  });
});

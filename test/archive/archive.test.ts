import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, statSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Archive, cladeOf, ownCounts, thisHost } from '../../src/archive/index.js';
import { EvogitError } from '../../src/errors/index.js';
import { git, initRepo, revParse } from '../helpers/repo.js';
import { cleanup, evaluation, baseRepo, tempDir, treeWith } from './helpers.js';

afterAll(cleanup);

async function setup(opts: { keepGitOpen?: boolean } = {}) {
  const { dir, base } = await baseRepo();
  const archive = await Archive.open({ repoDir: dir, ...opts });
  await archive.createRoot('HEAD');
  return { dir, base, archive };
}

describe('Archive: write and read', () => {
  it('round-trips nodes, trailers, seq numbering, crossover, evaluations and claims', async () => {
    const { dir, base, archive } = await setup();
    expect(await archive.root()).toBe(base);
    const t1 = await treeWith(dir, 'one\n');
    const n1 = await archive.writeNode({ writer: 'a1', parents: [base], tree: t1, message: 'first try', agent: 'mutate-default', operator: 'mutate' });
    const n2 = await archive.writeNode({ writer: 'a1', parents: [n1.id], tree: await treeWith(dir, 'two\n'), message: 'second', agent: 'gpt', operator: 'llm', model: 'gpt-4o-mini', cost: 0.0123 });
    const m1 = await archive.writeNode({ writer: 'b2', parents: [base], tree: await treeWith(dir, 'three\n'), message: 'other writer', agent: 'aider', operator: 'command' });
    const x = await archive.writeNode({ writer: 'b2', parents: [n2.id, m1.id], tree: await treeWith(dir, 'merged\n'), message: 'cross', agent: 'merge', operator: 'crossover' });
    expect([n1.branch, n2.branch, m1.branch, x.branch]).toEqual(['evo/a1/1', 'evo/a1/2', 'evo/b2/1', 'evo/b2/2']);

    await archive.appendEvaluations('a1', [evaluation(n1.id, 't1', 'pass', 'a1'), evaluation(n1.id, 't2', 'fail', 'a1'), evaluation(x.id, 't1', 'error', 'a1')]);
    await archive.appendEvaluations('a1', [evaluation(n1.id, 't3', 'pass', 'a1')]);
    await archive.appendEvaluations('b2', [evaluation(n1.id, 't1', 'pass', 'b2')]);
    const claimRef = await archive.putClaim({ writer: 'b2', node: n2.id, kind: 'expand', expires: 1234 });
    expect(claimRef).toMatch(/^refs\/evogit\/claims\/b2\//);

    const snap = await archive.load();
    expect(snap.root).toBe(base);
    expect(new Set(snap.nodes.map((n) => n.id))).toEqual(new Set([base, n1.id, m1.id, n2.id, x.id]));
    expect(snap.nodes[0]?.id).toBe(base);
    const pos = new Map(snap.nodes.map((n, i) => [n.id, i]));
    for (const n of snap.nodes) for (const p of n.parents) if (pos.has(p)) expect(pos.get(p)).toBeLessThan(pos.get(n.id) as number);
    const byId = new Map(snap.nodes.map((n) => [n.id, n]));
    expect(byId.get(base)).toMatchObject({ operator: 'root', branch: 'evo/root', pruned: false });
    expect(byId.get(n2.id)).toEqual({ ...n2, time: byId.get(n2.id)?.time });
    expect(byId.get(n2.id)).toMatchObject({ writer: 'a1', agent: 'gpt', operator: 'llm', model: 'gpt-4o-mini', cost: 0.0123, subject: 'second', tree: n2.tree });
    expect(byId.get(x.id)?.parents).toEqual([n2.id, m1.id]);
    expect(byId.get(x.id)?.operator).toBe('crossover');
    expect(snap.evaluations.get(n1.id)?.map((e) => `${e.writer}:${e.task}:${e.outcome}`)).toEqual(['a1:t1:pass', 'a1:t2:fail', 'a1:t3:pass', 'b2:t1:pass']);
    // Snapshots leave the log tails out; evaluationLogs reads the lines back as written.
    const { log: tail, ...withoutLog } = evaluation(n1.id, 't1', 'pass', 'a1');
    expect(snap.evaluations.get(n1.id)?.[0]).toEqual(withoutLog);
    expect([...snap.evaluations.values()].flat().some((e) => 'log' in e)).toBe(false);
    const full = await archive.evaluationLogs(n1.id);
    expect(full.map((e) => `${e.writer}:${e.task}:${e.outcome}:${e.log}`)).toEqual(['a1:t1:pass', 'a1:t2:fail', 'a1:t3:pass', 'b2:t1:pass'].map((s) => `${s}:${tail}`));
    expect(full.map(({ log: _drop, ...rest }) => rest)).toEqual(snap.evaluations.get(n1.id));
    expect(await archive.evaluationLogs(n2.id)).toEqual([]);
    // A fresh Archive reads them too, also when asked twice at once (its loads run one at a time).
    const fresh = await Archive.open({ repoDir: dir });
    expect(await Promise.all([fresh.evaluationLogs(n1.id), fresh.evaluationLogs(x.id)])).toEqual([full, await archive.evaluationLogs(x.id)]);
    expect((await fresh.load()).evaluations).toEqual(snap.evaluations);
    expect(ownCounts(snap.evaluations.get(n1.id) ?? [])).toEqual({ pass: 3, fail: 1, error: 0 });
    expect(ownCounts(snap.evaluations.get(x.id) ?? [])).toEqual({ pass: 0, fail: 0, error: 1 });
    // A claim also says which host and process wrote it (so a dead process's claim can be released).
    expect(snap.claims).toEqual([{ writer: 'b2', node: n2.id, kind: 'expand', expires: 1234, ref: claimRef, host: thisHost(), pid: process.pid }]);
    expect(cladeOf(snap, n1.id).sort()).toEqual([n1.id, n2.id, x.id].sort());

    // Notes are plain git: one commit per append, readable by `git log --notes`.
    const shown = await git(dir, ['log', "--notes=evogit/*", '--format=%H%n%N', 'evo/a1/1', '-1']);
    expect(shown).toContain('"task":"t2"');
    expect(shown).toContain('"writer":"b2"');
    expect((await git(dir, ['rev-list', '--count', 'refs/notes/evogit/a1'])).trim()).toBe('2');

    await archive.releaseClaim(claimRef);
    expect((await archive.load()).claims).toEqual([]);
    // A deleted seq is not reused by the same process.
    await git(dir, ['branch', '-D', 'evo/b2/2']);
    const y = await archive.writeNode({ writer: 'b2', parents: [base], tree: t1, message: 'again', agent: 'a', operator: 'mutate' });
    expect(y.branch).toBe('evo/b2/3');
  });

  it('reads trailer-less commits on node branches as manual nodes and skips ancestors of the root', async () => {
    const { dir, base, archive } = await setup();
    await git(dir, ['checkout', '-q', '-b', 'evo/me/1']);
    await git(dir, ['commit', '-q', '--allow-empty', '-m', 'by hand']);
    const snap = await archive.load();
    expect(snap.nodes.map((n) => [n.operator, n.branch, n.pruned])).toEqual([
      ['root', 'evo/root', false],
      ['manual', 'evo/me/1', false],
    ]);
    expect(snap.nodes[0]?.id).toBe(base);
    expect(snap.nodes[1]?.writer).toBe('me');

    // Refresh paths: a long hand-made chain (more rounds than the parent walk takes) and a
    // parentless commit on a node branch both fall back to git's own walk; warm must equal cold.
    for (let i = 0; i < 6; i++) await git(dir, ['commit', '-q', '--allow-empty', '-m', `hand ${i}`]);
    const tree = await treeWith(dir, 'orphan\n');
    const orphan = (await git(dir, ['commit-tree', tree, '-m', 'orphan'])).trim();
    await git(dir, ['branch', 'evo/me/2', orphan]);
    const warm = await archive.load();
    expect(archive.lastLoad).toMatchObject({ cold: false, newCommits: 7 });
    await archive.saveCache();
    await rm(join(dir, '.git', 'evogit'), { recursive: true, force: true });
    expect(warm).toEqual(await (await Archive.open({ repoDir: dir })).load());
    expect(warm.nodes.find((n) => n.id === orphan)).toMatchObject({ operator: 'manual', branch: 'evo/me/2' });
  });

  it('takes a hand-made branch of any name under the prefix as a manual node of its first name component', async () => {
    const { dir, archive } = await setup();
    await git(dir, ['checkout', '-q', '-b', 'evo/atk/assertpatch']);
    await git(dir, ['commit', '-q', '--allow-empty', '-m', 'by hand']);
    await git(dir, ['checkout', '-q', '-b', 'evo/try-this']);
    await git(dir, ['commit', '-q', '--allow-empty', '-m', 'also by hand']);
    const snap = await archive.load();
    expect(snap.nodes.map((n) => [n.operator, n.branch, n.writer])).toEqual([
      ['root', 'evo/root', ''],
      ['manual', 'evo/atk/assertpatch', 'atk'],
      ['manual', 'evo/try-this', 'try-this'],
    ]);
    // It can be pruned like any node.
    expect(await archive.prune('evo/atk/assertpatch', { clade: true })).toEqual(['evo/atk/assertpatch', 'evo/try-this']);
  });

  it('names the writer of commits made by hand below a branch tip after the branch, warm as cold', async () => {
    const { dir, archive } = await setup();
    await git(dir, ['checkout', '-q', '-b', 'evo/alice/try-this']);
    await git(dir, ['commit', '-q', '--allow-empty', '-m', 'first by hand']);
    const first = await revParse(dir);
    expect((await archive.load()).nodes.find((n) => n.id === first)).toMatchObject({ branch: 'evo/alice/try-this', writer: 'alice' });
    // A second commit: the first loses its branch, not its writer, and is not pruned.
    await git(dir, ['commit', '-q', '--allow-empty', '-m', 'second by hand']);
    const second = await revParse(dir);
    const cold = async () => {
      await archive.saveCache();
      const fresh = await Archive.open({ repoDir: dir });
      await rm(join(dir, '.git', 'evogit'), { recursive: true, force: true });
      return fresh.load();
    };
    let warm = await archive.load();
    expect(warm.nodes.find((n) => n.id === first)).toMatchObject({ branch: null, writer: 'alice', operator: 'manual', pruned: false });
    expect(warm).toEqual(await cold());
    // Bob branches off alice's tip; alice deletes her branch: both commits are on bob's line now.
    await git(dir, ['branch', 'evo/bob/idea', second]);
    await git(dir, ['checkout', '-q', 'main']);
    await git(dir, ['branch', '-D', 'evo/alice/try-this']);
    warm = await archive.load();
    expect(warm.nodes.filter((n) => n.id === first || n.id === second).map((n) => [n.branch, n.writer])).toEqual([
      [null, 'bob'],
      ['evo/bob/idea', 'bob'],
    ]);
    expect(warm).toEqual(await cold());
  });
});

describe('Archive: a step releases its claim in the same ref transaction as its result', () => {
  it('writeNode and appendEvaluations delete the claim ref atomically, leave no temporary ref, and keep it when the write fails', async () => {
    const { dir, base, archive } = await setup();
    const claimA = await archive.putClaim({ writer: 'a1', node: base, kind: 'expand', expires: Date.now() + 60_000 });
    const n1 = await archive.writeNode({ writer: 'a1', parents: [base], tree: await treeWith(dir, 'one\n'), message: 'one', agent: 'x', operator: 'mutate', releaseClaim: claimA });
    expect((await archive.load()).claims).toEqual([]);
    expect(n1.branch).toBe('evo/a1/1');
    // A node's branch never moves: no reflog is made for it (git would delete it with the branch anyway).
    expect(existsSync(join(dir, '.git', 'logs', 'refs', 'heads', 'evo', 'a1', '1'))).toBe(false);

    // Next seq: a name taken behind this process's back is skipped (create-only), the claim stays until the write succeeds.
    await git(dir, ['branch', 'evo/a1/2', base]);
    const claimB = await archive.putClaim({ writer: 'a1', node: n1.id, kind: 'expand', expires: Date.now() + 60_000 });
    const n2 = await archive.writeNode({ writer: 'a1', parents: [n1.id], tree: await treeWith(dir, 'two\n'), message: 'two', agent: 'x', operator: 'mutate', releaseClaim: claimB });
    expect(n2.branch).toBe('evo/a1/3');
    expect((await archive.load()).claims).toEqual([]);

    const claimC = await archive.putClaim({ writer: 'a1', node: n2.id, kind: 'evaluate', task: 't1', expires: Date.now() + 60_000 });
    expect((await archive.load()).claims.map((c) => c.ref)).toEqual([claimC]);
    await archive.appendEvaluations('a1', [evaluation(n2.id, 't1', 'pass', 'a1')], { releaseClaim: claimC });
    await archive.appendEvaluations('a1', [evaluation(n2.id, 't2', 'fail', 'a1')]);
    // The notes ref keeps its reflog, with the message a plain update-ref would write.
    expect(await git(dir, ['reflog', '--format=%gs', 'refs/notes/evogit/a1'])).toBe('evogit: evaluations\nevogit: evaluations\n');
    const snap = await archive.load();
    expect(snap.claims).toEqual([]);
    expect(snap.evaluations.get(n2.id)?.map((e) => `${e.task}:${e.outcome}`)).toEqual(['t1:pass', 't2:fail']);
    expect(await git(dir, ['for-each-ref', 'refs/evogit/'])).toBe('');
    await expect(archive.appendEvaluations('a1', [evaluation(n2.id, 't3', 'pass', 'a1')], { releaseClaim: 'refs/heads/main' })).rejects.toThrow(/not a claim ref/);

    // A parent pruned while the agent worked: no branch, the claim stays for the caller to release.
    const claimD = await archive.putClaim({ writer: 'a1', node: n2.id, kind: 'expand', expires: Date.now() + 60_000 });
    const req = { writer: 'a1', parents: [n2.id], tree: await treeWith(dir, 'four\n'), message: 'four', agent: 'x', operator: 'mutate' as const, parentBranch: n2.branch as string, releaseClaim: claimD };
    await git(dir, ['branch', '-D', n2.branch as string]);
    await expect(archive.writeNode(req)).rejects.toMatchObject({ code: 'E_PARENT_PRUNED' });
    expect(await git(dir, ['for-each-ref', '--format=%(refname)', 'refs/heads/evo/a1/'])).toBe('refs/heads/evo/a1/1\nrefs/heads/evo/a1/2\n');
    expect((await archive.load()).claims.map((c) => c.ref)).toEqual([claimD]);
    // With the parent's branch in place the same request writes the node.
    await git(dir, ['branch', n2.branch as string, n2.id]);
    expect((await archive.writeNode(req)).branch).toBe('evo/a1/4');
    expect((await archive.load()).claims).toEqual([]);
  });
});

describe('Archive: a held claims directory', () => {
  it('survives the release of its last claim, is invisible to git and to loads, and goes on release', async () => {
    const { dir, base, archive } = await setup({ keepGitOpen: true });
    const writerDir = join(dir, '.git', 'refs', 'evogit', 'claims', 'a1');
    // Unheld, git removes the emptied directory when the last claim goes (the churn this avoids).
    await archive.releaseClaim(await archive.putClaim({ writer: 'a1', node: base, kind: 'expand', expires: Date.now() + 60_000 }));
    expect(existsSync(writerDir)).toBe(false);

    archive.holdClaimsDir('a1');
    const inode = statSync(writerDir).ino;
    for (let i = 0; i < 3; i++) {
      const ref = await archive.putClaim({ writer: 'a1', node: base, kind: 'evaluate', task: `t${i}`, expires: Date.now() + 60_000 });
      expect((await archive.load()).claims.map((c) => c.ref)).toEqual([ref]);
      await archive.appendEvaluations('a1', [evaluation(base, `t${i}`, 'pass', 'a1')], { releaseClaim: ref });
      expect((await archive.load()).claims).toEqual([]);
      // The very same directory: never removed and made again.
      expect(statSync(writerDir).ino).toBe(inode);
    }
    expect(await git(dir, ['for-each-ref', 'refs/evogit/'])).toBe('');
    await git(dir, ['pack-refs', '--all', '--prune']);
    await git(dir, ['fsck', '--strict', '--no-progress']);
    expect((await (await Archive.open({ repoDir: dir })).load()).claims).toEqual([]);

    archive.releaseClaimsDir('a1');
    expect(existsSync(writerDir)).toBe(false);
    // Releasing twice, or a directory that still holds a claim, is fine: a claim is never removed.
    archive.releaseClaimsDir('a1');
    archive.holdClaimsDir('a1');
    const kept = await archive.putClaim({ writer: 'a1', node: base, kind: 'expand', expires: Date.now() + 60_000 });
    archive.releaseClaimsDir('a1');
    expect((await archive.load()).claims.map((c) => c.ref)).toEqual([kept]);
    await archive.close();
  });
});

describe('Archive: plain git is a full client', () => {
  it('git branch -D prunes, prune --clade deletes the clade, promote tags, git log --notes shows evaluations', async () => {
    const { dir, base, archive } = await setup();
    const t = await treeWith(dir, 'x\n');
    const a = await archive.writeNode({ writer: 'w', parents: [base], tree: t, message: 'a', agent: 'm', operator: 'mutate' });
    const b = await archive.writeNode({ writer: 'w', parents: [a.id], tree: t, message: 'b', agent: 'm', operator: 'mutate' });
    const c = await archive.writeNode({ writer: 'w', parents: [b.id], tree: t, message: 'c', agent: 'm', operator: 'mutate' });
    const d = await archive.writeNode({ writer: 'w', parents: [base], tree: t, message: 'd', agent: 'm', operator: 'mutate' });
    await archive.appendEvaluations('w', [evaluation(a.id, 'task-A', 'pass', 'w'), evaluation(b.id, 'task-B', 'fail', 'w')]);
    const logged = await git(dir, ['log', '--notes=evogit/*', '--branches=evo/*']);
    expect(logged).toContain('Notes (evogit/w):');
    expect(logged).toContain('"task":"task-A"');

    await archive.load();
    await git(dir, ['branch', '-D', 'evo/w/2']);
    let snap = await archive.load();
    expect(snap.nodes.find((n) => n.id === b.id)).toMatchObject({ pruned: true, branch: null });
    expect(snap.nodes.find((n) => n.id === c.id)).toMatchObject({ pruned: false, branch: 'evo/w/3' });

    expect(await archive.prune('evo/w/1', { clade: true })).toEqual(['evo/w/1', 'evo/w/3']);
    expect((await git(dir, ['branch', '--list', 'evo/w/*'])).trim()).toBe('evo/w/4');
    snap = await archive.load();
    expect(snap.nodes.map((n) => n.id)).toEqual([base, d.id]);

    expect(await archive.promote(d.id.slice(0, 8))).toBe(`evo-promoted/${d.id.slice(0, 12)}`);
    expect(await archive.promote('evo/w/4')).toBe(`evo-promoted/${d.id.slice(0, 12)}`);
    expect((await git(dir, ['tag', '--list'])).trim()).toBe(`evo-promoted/${d.id.slice(0, 12)}`);
    snap = await archive.load();
    expect(snap.nodes.find((n) => n.id === d.id)?.promoted).toBe(true);
    await expect(archive.prune('evo/root')).rejects.toMatchObject({ code: 'E_PRUNE_ROOT' });
  });
});

describe('Archive: bad input', () => {
  it('says what is wrong and what to do', async () => {
    const plain = await tempDir();
    const e1 = await Archive.open({ repoDir: plain }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(EvogitError);
    expect(e1).toMatchObject({ code: 'E_NOT_A_REPO' });
    expect((e1 as EvogitError).hint).toMatch(/git init/);

    await initRepo(plain);
    await expect(Archive.open({ repoDir: plain })).rejects.toMatchObject({ code: 'E_NO_COMMITS', hint: expect.stringMatching(/commit/) });

    const { dir, archive } = await (async () => {
      const r = await baseRepo();
      return { dir: r.dir, archive: await Archive.open({ repoDir: r.dir }) };
    })();
    await expect(archive.load()).rejects.toMatchObject({ code: 'E_NO_ROOT', hint: expect.stringMatching(/evogit init/) });
    await archive.createRoot('main');
    await expect(archive.createRoot('nope')).rejects.toMatchObject({ code: 'E_UNKNOWN_COMMIT' });
    await git(dir, ['commit', '-q', '--allow-empty', '-m', 'next']);
    await expect(archive.createRoot('HEAD')).rejects.toMatchObject({ code: 'E_ROOT_EXISTS' });
    const err = await archive.resolve('evo/zz/9').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_UNKNOWN_NODE' });
    expect((err as EvogitError).hint).toMatch(/evogit status/);
    await expect(archive.resolve('HEAD')).rejects.toMatchObject({ code: 'E_UNKNOWN_NODE' });
    await expect(archive.writeNode({ writer: 'bad/name', parents: ['x'], tree: 'x', message: 'm', agent: 'a', operator: 'mutate' })).rejects.toMatchObject({ code: 'E_BAD_WRITER' });
  });
});

describe('Archive: the cache is disposable', () => {
  // With git kept open the refresh parses new commits itself and walks the notes trees over the
  // long-lived cat-file instead of git log and diff-tree: it must give the same archive.
  it.each([false, true])('an incremental refresh equals a cold load after deleting the cache (keepGitOpen %s)', async (keepGitOpen) => {
    const { dir, archive } = await setup({ keepGitOpen });
    const base = (await archive.root()) as string;
    const t = await treeWith(dir, 'y\n');
    // A seeded walk of writes, deletions, notes and claims; after each step compare warm vs cold.
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const ids: string[] = [base];
    await archive.load();
    for (let step = 0; step < 40; step++) {
      const what = rand(10);
      const writer = ['a', 'b', 'c'][rand(3)] as string;
      if (what < 5) {
        const parents = [ids[rand(ids.length)] as string];
        if (rand(4) === 0) parents.push(ids[rand(ids.length)] as string);
        const n = await archive.writeNode({ writer, parents: [...new Set(parents)], tree: t, message: `s${step}`, agent: 'x', operator: parents.length > 1 ? 'crossover' : 'mutate' });
        ids.push(n.id);
      } else if (what < 7) {
        const node = ids[rand(ids.length)] as string;
        await archive.appendEvaluations(writer, [evaluation(node, `t${step}`, rand(2) ? 'pass' : 'fail', writer)]);
      } else if (what < 8) {
        const branches = (await git(dir, ['for-each-ref', '--format=%(refname:short)', 'refs/heads/evo/'])).split('\n').filter((b) => b && b !== 'evo/root');
        if (branches.length > 0) await git(dir, ['branch', '-D', branches[rand(branches.length)] as string]);
      } else if (what < 9) {
        await archive.putClaim({ writer, node: ids[rand(ids.length)] as string, kind: 'evaluate', task: 't', expires: step });
        // What gc does on its own: the refs move from loose files into packed-refs.
        if (rand(2) === 0) await git(dir, ['pack-refs', '--all']);
      } else {
        await archive.promote(ids[rand(ids.length)] as string).catch((e: unknown) => {
          if (!(e instanceof EvogitError)) throw e; // a pruned-away node cannot be promoted
        });
      }
      // Refresh after every step (the snapshot is rebuilt from the previous one), compare every fourth.
      const before = await archive.load();
      const frozen = structuredClone(before);
      if (step % 4 === 3) {
        const warm = await archive.load();
        expect(archive.lastLoad?.cold).toBe(false);
        await archive.saveCache();
        await rm(join(dir, '.git', 'evogit'), { recursive: true, force: true });
        const coldArchive = await Archive.open({ repoDir: dir });
        const cold = await coldArchive.load();
        expect(coldArchive.lastLoad?.cold).toBe(true);
        await coldArchive.saveCache();
        expect(warm).toEqual(cold);
        expect(before).toEqual(frozen);
      }
    }
    // And across processes: a fresh Archive reads the cache file and refreshes from it.
    await archive.saveCache();
    await archive.writeNode({ writer: 'a', parents: [base], tree: t, message: 'late', agent: 'x', operator: 'mutate' });
    const fromFile = await Archive.open({ repoDir: dir });
    const viaCache = await fromFile.load();
    expect(fromFile.lastLoad).toMatchObject({ cold: false, newCommits: 1 });
    await fromFile.saveCache();
    await rm(join(dir, '.git', 'evogit'), { recursive: true, force: true });
    const last = await Archive.open({ repoDir: dir });
    expect(viaCache).toEqual(await last.load());
    expect(last.lastLoad?.cold).toBe(true);
    await last.saveCache();
    await archive.close();
  });

  it('follows a writer whose notes tree fans out (200 → 300 notes) incrementally, with git kept open', async () => {
    const { dir, archive } = await setup({ keepGitOpen: true });
    // Notes on 300 distinct objects: a few nodes (their evaluations show in the snapshot), the
    // rest blobs (a note can annotate any object; such lines count only in the budget).
    const base = (await archive.root()) as string;
    const t = await treeWith(dir, 'n\n');
    const objects: string[] = [];
    for (let i = 0; i < 5; i++) objects.push((await archive.writeNode({ writer: 'w', parents: [base], tree: t, message: `n${i}`, agent: 'x', operator: 'mutate' })).id);
    const files = await tempDir();
    for (let i = objects.length; i < 300; i++) await writeFile(join(files, `o${i}`), `object ${i}\n`);
    const paths = Array.from({ length: 300 - objects.length }, (_, i) => join(files, `o${i + objects.length}`));
    objects.push(...(await git(dir, ['hash-object', '-w', '--stdin-paths'], paths.join('\n') + '\n')).split('\n').filter(Boolean));
    expect(new Set(objects).size).toBe(300);
    await archive.load();
    const coldEquals = async () => {
      const warm = await archive.load();
      expect(archive.lastLoad?.cold).toBe(false);
      const cold = await (await Archive.open({ repoDir: dir })).load();
      expect(warm).toEqual(cold);
      return warm;
    };
    let appended = 0;
    const append = async (n: number, outcome: 'pass' | 'fail') => {
      const evals = objects.slice(appended, appended + n).map((o, i) => evaluation(o, `t${appended + i}`, outcome, 'w'));
      appended += n;
      await archive.appendEvaluations('w', evals);
    };
    await append(1, 'pass');
    await coldEquals();
    await append(199, 'fail');
    await coldEquals();
    // One note at a time across the fan-out (git re-fans at 256 notes).
    while (appended < 300) {
      await append(1, appended % 2 ? 'pass' : 'fail');
      if (appended >= 250 && appended <= 262) await coldEquals();
    }
    // A second line on an old note (its path moved into a subtree since it was written).
    await archive.appendEvaluations('w', [evaluation(objects[0] as string, 'again', 'fail', 'w')]);
    const snap = await coldEquals();
    expect(snap.evaluations.get(objects[0] as string)?.map((e) => e.task)).toEqual(['t0', 'again']);
    const top = (await git(dir, ['ls-tree', 'refs/notes/evogit/w'])).split('\n').filter(Boolean);
    expect(top.every((l) => / tree [0-9a-f]{40}\t[0-9a-f]{2}$/.test(l))).toBe(true);
    // The last steps were walked over cat-file, and agree with diff-tree.
    const walked = await archive.git.diffTrees('refs/notes/evogit/w~1^{tree}', 'refs/notes/evogit/w^{tree}');
    const diffTree = await git(dir, ['diff-tree', '-r', '-z', '--no-renames', 'refs/notes/evogit/w~1', 'refs/notes/evogit/w']);
    expect(walked?.map((c) => `${c.status} ${c.path}`)).toEqual([`M ${(objects[0] as string).slice(0, 2)}/${(objects[0] as string).slice(2)}`]);
    expect(diffTree).toContain((objects[0] as string).slice(2));
    await archive.close();
  });
});

describe('Archive: what a node aimed at (Evogit-Targets)', () => {
  it('round-trips the targets through the commit, and drops a malformed trailer without distrusting the node', async () => {
    const { dir, base, archive } = await setup();
    const aimed = await archive.writeNode({ writer: 'a1', parents: [base], tree: await treeWith(dir, 'one\n'), message: 'aimed', agent: 'mutate', operator: 'mutate', targets: ['test/dates.test.js', 'tests/test_x.py::test_a[a b]'] });
    expect(aimed.targets).toEqual(['test/dates.test.js', 'tests/test_x.py::test_a[a b]']);
    // Another writer's odd value: a string, not a list.
    const tree = await treeWith(dir, 'two\n');
    const odd = (await git(dir, ['commit-tree', tree, '-p', base, '-m', 'odd\n\nEvogit-Writer: b2\nEvogit-Agent: x\nEvogit-Operator: mutate\nEvogit-Targets: test/dates.test.js'])).trim();
    await git(dir, ['update-ref', 'refs/heads/evo/b2/1', odd]);
    for (const reader of [archive, await Archive.open({ repoDir: dir })]) {
      const byId = new Map((await reader.load()).nodes.map((n) => [n.id, n]));
      expect(byId.get(aimed.id)?.targets).toEqual(aimed.targets);
      expect(byId.get(odd)).toMatchObject({ writer: 'b2', operator: 'mutate' });
      expect(byId.get(odd)?.targets).toBeUndefined();
      expect(byId.get(odd)?.untrusted).toBeUndefined();
    }
  });
});

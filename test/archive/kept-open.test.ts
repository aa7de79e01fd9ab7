import { afterAll, describe, expect, it } from 'vitest';
import { Archive, type Evaluation } from '../../src/archive/index.js';
import { commitText, Git } from '../../src/git/index.js';
import { git, revParse } from '../helpers/repo.js';
import { cleanup, evaluation, baseRepo } from './helpers.js';

afterAll(cleanup);

describe('Archive with git kept open (the loop’s long-lived processes)', () => {
  it('writes notes git reads back, laid out as fast-import lays them out, fan-out included', async () => {
    const { dir, base } = await baseRepo();
    const open = await Archive.open({ repoDir: dir, keepGitOpen: true });
    const oneShot = await Archive.open({ repoDir: dir });
    await oneShot.createRoot('HEAD');
    // 300 distinct commits to annotate: past the 256 notes where git fans a notes tree out.
    const g = new Git(dir);
    g.keepOpen();
    const tree = await revParse(dir, 'HEAD^{tree}');
    const nodes: string[] = [];
    for (let i = 0; i < 300; i++) nodes.push(await g.writeObject('commit', commitText({ tree, parents: [base], message: `n${i}\n`, time: 1_700_000_000 + i })));
    await g.close();

    const batches: string[][] = [nodes.slice(0, 250), ...nodes.slice(250, 260).map((n) => [n]), [...nodes.slice(260), ...nodes.slice(0, 5)], [nodes[7]!, nodes[270]!]];
    for (const [k, batch] of batches.entries()) {
      const lines = (writer: string): Evaluation[] => batch.map((n, i) => evaluation(n, `t${k}`, i % 3 === 0 ? 'fail' : 'pass', writer));
      await open.appendEvaluations('a1', lines('a1'));
      await oneShot.appendEvaluations('b2', lines('b2'));
    }
    await open.close();

    const paths = async (writer: string) => (await git(dir, ['ls-tree', '-r', '--name-only', `refs/notes/evogit/${writer}`])).split('\n').filter(Boolean).sort();
    const a1 = await paths('a1');
    expect(a1).toHaveLength(300);
    expect(a1.every((p) => /^[0-9a-f]{2}\/[0-9a-f]{38}$/.test(p))).toBe(true);
    expect(a1).toEqual(await paths('b2'));
    // git's own notes reader finds every note, with the lines in the order appended.
    for (const n of [nodes[0]!, nodes[7]!, nodes[255]!, nodes[270]!, nodes[299]!]) {
      const a = await git(dir, ['notes', '--ref=refs/notes/evogit/a1', 'show', n]);
      const b = await git(dir, ['notes', '--ref=refs/notes/evogit/b2', 'show', n]);
      expect(a.replaceAll('"writer":"a1"', '"writer":"b2"')).toBe(b);
    }
    const snap = await oneShot.load();
    for (const n of nodes) {
      const lines = snap.evaluations.get(n) ?? [];
      const by = (w: string) => lines.filter((e) => e.writer === w).map((e) => `${e.task}:${e.outcome}`);
      expect(by('a1')).toEqual(by('b2'));
    }
    const annotated = async (writer: string) => (await git(dir, ['notes', `--ref=refs/notes/evogit/${writer}`, 'list'])).split('\n').filter(Boolean).map((l) => l.split(' ')[1]).sort();
    expect(await annotated('a1')).toEqual([...nodes].sort());
    expect(await annotated('b2')).toEqual([...nodes].sort());
    expect((await git(dir, ['fsck', '--no-progress', '--no-dangling', '--strict'])).trim()).toBe('');
    // The history of the notes ref is one commit per append, none forced.
    expect((await git(dir, ['rev-list', '--count', 'refs/notes/evogit/a1'])).trim()).toBe(String(batches.length));
  });

  it('appends after the notes ref moved behind its back (another process of the writer) lose nothing', async () => {
    const { dir, base } = await baseRepo();
    const first = await Archive.open({ repoDir: dir, keepGitOpen: true });
    const second = await Archive.open({ repoDir: dir, keepGitOpen: true });
    await first.createRoot('HEAD');
    await first.appendEvaluations('a1', [evaluation(base, 't1', 'pass', 'a1')]);
    // `first` remembers what it wrote; `second` moves the ref on.
    await second.appendEvaluations('a1', [evaluation(base, 't2', 'fail', 'a1')]);
    await first.appendEvaluations('a1', [evaluation(base, 't3', 'pass', 'a1')]);
    await first.appendEvaluations('a1', [evaluation(base, 't4', 'pass', 'a1')]);
    const tasks = (await first.load()).evaluations.get(base)?.map((e) => e.task);
    expect(tasks).toEqual(['t1', 't2', 't3', 't4']);
    expect((await git(dir, ['rev-list', '--count', 'refs/notes/evogit/a1'])).trim()).toBe('4');
    await Promise.all([first.close(), second.close()]);
  });

  it('claims and nodes written through it are created only, and released in the same transaction', async () => {
    const { dir, base } = await baseRepo();
    const archive = await Archive.open({ repoDir: dir, keepGitOpen: true });
    await archive.createRoot('HEAD');
    const claim = await archive.putClaim({ writer: 'a1', node: base, kind: 'expand', expires: Date.now() + 60_000 });
    expect((await archive.load()).claims.map((c) => c.node)).toEqual([base]);
    const tree = await revParse(dir, 'HEAD^{tree}');
    const node = await archive.writeNode({ writer: 'a1', parents: [base], tree, message: 'child', agent: 'x', operator: 'command', releaseClaim: claim, parentBranch: 'evo/root' });
    const snap = await archive.load();
    expect(snap.claims).toEqual([]);
    expect(snap.nodes.find((n) => n.id === node.id)).toMatchObject({ branch: 'evo/a1/1', subject: 'child', writer: 'a1' });
    // Same commit as git commit-tree writes for these fields.
    const viaGit = (
      await git(dir, ['-c', 'user.name=x', 'commit-tree', tree, '-p', base], `child\n\nEvogit-Writer: a1\nEvogit-Agent: x\nEvogit-Operator: command\n`)
    ).trim();
    const show = (sha: string) => git(dir, ['cat-file', '-p', sha]);
    expect((await show(node.id)).replace(/^(author|committer) .*$/gm, '')).toBe((await show(viaGit)).replace(/^(author|committer) .*$/gm, ''));
    // A parent branch that moved: no node, and the claim stays.
    const c2 = await archive.putClaim({ writer: 'a1', node: base, kind: 'expand', expires: Date.now() + 60_000 });
    await git(dir, ['branch', '-f', 'evo/root', node.id]);
    await expect(archive.writeNode({ writer: 'a1', parents: [base], tree, message: 'late', agent: 'x', operator: 'command', releaseClaim: c2, parentBranch: 'evo/root' })).rejects.toThrow(/deleted while the agent worked/);
    expect((await archive.load()).claims.map((c) => c.ref)).toEqual([c2]);
    await archive.releaseClaim(c2);
    expect((await archive.load()).claims).toEqual([]);
    await archive.close();
  });
});

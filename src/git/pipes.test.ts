import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitText, Git, zeroIdLike } from './index.js';

describe('Git kept open (long-lived cat-file and update-ref, objects written in place)', () => {
  let dir = '';
  let open: Git;
  let oneShot: Git;
  let head = '';
  let tree = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evogit-pipes-'));
    oneShot = new Git(dir);
    await oneShot.run(['init', '-q']);
    await oneShot.run(['commit', '-q', '--allow-empty', '-m', 'base']);
    head = (await oneShot.out(['rev-parse', 'HEAD'])).trim();
    tree = (await oneShot.out(['rev-parse', 'HEAD^{tree}'])).trim();
    open = new Git(dir);
    open.keepOpen();
  });

  afterAll(async () => {
    await open?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes the same objects as one process per call, a commit as `git commit-tree` does', async () => {
    const text = '{"writer":"a1","node":"ü"}';
    expect(await open.writeObject('blob', text)).toBe(await oneShot.writeObject('blob', text));
    const message = 'a node\n\nEvogit-Writer: a1\n';
    const time = 1_700_000_000;
    const viaGit = (await oneShot.out(['commit-tree', tree, '-p', head], { input: message, env: { GIT_AUTHOR_DATE: `${time} +0000`, GIT_COMMITTER_DATE: `${time} +0000` } })).trim();
    expect(await open.writeObject('commit', commitText({ tree, parents: [head], message, time }))).toBe(viaGit);
    // Checked as git checks what it is given: a malformed commit is refused, and the next write still works.
    await expect(open.writeObject('commit', 'not a commit\n')).rejects.toThrow(/git refused to write a commit object/);
    expect(await open.writeObject('blob', text)).toBe(await oneShot.writeObject('blob', text));
    // Written straight into the object store: git reads them, fsck finds nothing wrong, no temporary file is left.
    expect(await oneShot.out(['cat-file', '-p', await open.writeObject('blob', text)])).toBe(text);
    expect((await oneShot.run(['fsck', '--strict', '--no-dangling'], { reject: false })).exitCode).toBe(0);
    const leftovers = (await readdir(join(dir, '.git', 'objects'), { recursive: true })).filter((f) => String(f).includes('tmp_obj'));
    expect(leftovers).toEqual([]);
  });

  it('reads objects, leaving out missing names', async () => {
    const blob = await open.writeObject('blob', 'line\n');
    const found = await open.catFiles([blob, 'f'.repeat(40), 'HEAD:nothing-here', head]);
    expect([...found.keys()]).toEqual([blob, head]);
    expect(found.get(blob)).toMatchObject({ sha: blob, type: 'blob', content: 'line\n' });
    expect(found.get(head)?.type).toBe('commit');
  });

  it('answers reads of what it wrote from memory, in the order asked, the rest from git', async () => {
    const blob = await open.writeObject('blob', 'remembered\n');
    const subtree = await open.writeObject('tree', Buffer.concat([Buffer.from('100644 f\0'), Buffer.from(blob, 'hex')]));
    const commit = await open.writeObject('commit', commitText({ tree: subtree, parents: [head], message: 'm\n', time: 1_700_000_000 }));
    // Gone from the store behind its back (a reader that asked git would now miss them).
    for (const id of [blob, subtree, commit]) await rm(join(dir, '.git', 'objects', id.slice(0, 2), id.slice(2)));
    const found = await open.catFileBytes([commit, 'f'.repeat(40), `${commit}^{tree}`, head, blob]);
    expect([...found.keys()]).toEqual([commit, `${commit}^{tree}`, head, blob]);
    expect(found.get(`${commit}^{tree}`)).toMatchObject({ sha: subtree, type: 'tree' });
    expect(found.get(blob)?.content.toString()).toBe('remembered\n');
    expect(found.get(head)?.type).toBe('commit');
    expect(await open.diffTrees(`${head}^{tree}`, `${commit}^{tree}`)).toEqual([{ status: 'A', path: 'f', sha: blob, oldMode: null, newMode: '100644' }]);
    // Written again through git (the store is whole for the next tests).
    expect(await oneShot.writeObject('blob', 'remembered\n')).toBe(blob);
    expect(await oneShot.writeObject('tree', Buffer.concat([Buffer.from('100644 f\0'), Buffer.from(blob, 'hex')]))).toBe(subtree);
    expect(await oneShot.writeObject('commit', commitText({ tree: subtree, parents: [head], message: 'm\n', time: 1_700_000_000 }))).toBe(commit);
  });

  it('applies each ref transaction atomically; a refused one changes nothing and the next one works', async () => {
    expect(await open.updateRefs([[`update refs/x/a`, head, zeroIdLike(head)]])).toEqual({ ok: true, stderr: '' });
    // Create-only on an existing ref: the whole transaction is refused, refs/x/b included.
    const refused = await open.updateRefs([
      [`update refs/x/b`, head, zeroIdLike(head)],
      [`update refs/x/a`, head, zeroIdLike(head)],
    ]);
    expect(refused.ok).toBe(false);
    expect(refused.stderr).toMatch(/refs\/x\/a/);
    expect(await oneShot.out(['for-each-ref', '--format=%(refname)', 'refs/x/'])).toBe('refs/x/a\n');
    expect((await open.updateRefs([[`delete refs/x/a`, head], [`update refs/x/c`, head, zeroIdLike(head)]], { message: 'evogit: test' })).ok).toBe(true);
    expect(await oneShot.out(['for-each-ref', '--format=%(refname)', 'refs/x/'])).toBe('refs/x/c\n');
  });
});

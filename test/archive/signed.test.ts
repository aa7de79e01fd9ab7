/**
 * trust: signed — with real SSH keys and git's own verification: a writer's nodes and notes
 * count on another clone only when signed by a key evogit.yml lists for that writer; unsigned
 * or wrongly signed data is shown, marked, and not counted.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Archive, type TrustOptions } from '../../src/archive/index.js';
import { run } from '../../src/proc/index.js';
import { git, initRepo, revParse } from '../helpers/repo.js';
import { cleanup, evaluation, baseRepo, tempDir } from './helpers.js';

afterAll(cleanup);

async function sshKey(dir: string, name: string): Promise<{ file: string; pub: string }> {
  const file = path.join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file], { cwd: dir });
  return { file, pub: (await readFile(`${file}.pub`, 'utf8')).trim() };
}

describe('trust: signed', () => {
  it("counts another clone's data only when a listed key of its writer signed it", async () => {
    const keys = await tempDir();
    const [aliceKey, malloryKey] = await Promise.all([sshKey(keys, 'alice'), sshKey(keys, 'mallory')]);
    const trust: TrustOptions = { mode: 'signed', writers: { alice: { keys: [aliceKey.pub] }, mallory: { keys: [malloryKey.pub] } } };
    const { dir: seed, base } = await baseRepo();
    const remote = path.join(await tempDir(), 'shared.git');
    await initRepo(remote, { bare: true });
    await (await Archive.open({ repoDir: seed })).createRoot(base);
    await git(seed, ['push', '-q', remote, 'main', 'evo/root']);
    const clone = async (name: string, key?: string) => {
      const dir = path.join(await tempDir(), name);
      await git(seed, ['clone', '-q', remote, dir]);
      if (key) {
        await git(dir, ['config', 'gpg.format', 'ssh']);
        await git(dir, ['config', 'user.signingkey', key]);
      }
      const archive = await Archive.open({ repoDir: dir, trust });
      await archive.fetch(remote, name);
      return { dir, archive };
    };

    // alice signs her node and her notes (evogit signs through git when trust is signed).
    const alice = await clone('alice', aliceKey.file);
    const aliceNode = await alice.archive.writeNode({ writer: 'alice', parents: [base], tree: await revParse(alice.dir, `${base}^{tree}`), message: 'signed', agent: 'x', operator: 'manual' });
    await alice.archive.appendEvaluations('alice', [evaluation(aliceNode.id, 't', 'pass', 'alice')]);
    await alice.archive.push(remote, 'alice');
    expect(await git(alice.dir, ['cat-file', '-p', aliceNode.id])).toContain('-----BEGIN SSH SIGNATURE-----');

    // mallory: an unsigned node with unsigned passes, a node in alice's namespace signed with
    // mallory's own key, and a properly signed node of her own.
    const mallory = await clone('mallory');
    const tree = await revParse(mallory.dir, `${base}^{tree}`);
    const trailers = (w: string) => `\n\nEvogit-Writer: ${w}\nEvogit-Agent: x\nEvogit-Operator: mutate\n`;
    const unsigned = (await git(mallory.dir, ['commit-tree', tree, '-p', base, '-m', `unsigned${trailers('mallory')}`])).trim();
    await git(mallory.dir, ['config', 'gpg.format', 'ssh']);
    await git(mallory.dir, ['config', 'user.signingkey', malloryKey.file]);
    const inAlicesName = (await git(mallory.dir, ['commit-tree', '-S', tree, '-p', aliceNode.id, '-m', `alice, really${trailers('alice')}`])).trim();
    const own = (await git(mallory.dir, ['commit-tree', '-S', tree, '-p', base, '-m', `mine${trailers('mallory')}`])).trim();
    await git(mallory.dir, ['update-ref', 'refs/heads/evo/mallory/1', unsigned]);
    await git(mallory.dir, ['update-ref', 'refs/heads/evo/mallory/2', own]);
    await git(mallory.dir, ['update-ref', 'refs/heads/evo/alice/2', inAlicesName]);
    await git(mallory.dir, ['config', '--unset', 'user.signingkey']);
    await git(mallory.dir, ['notes', '--ref=refs/notes/evogit/mallory', 'add', '-m', JSON.stringify(evaluation(unsigned, 't', 'pass', 'mallory')), unsigned]);
    await git(mallory.dir, ['push', '-q', '--force', remote, 'refs/heads/evo/mallory/1', 'refs/heads/evo/mallory/2', 'refs/heads/evo/alice/2', 'refs/notes/evogit/mallory']);

    // bob reads it all, with trust: signed.
    const bob = await clone('bob');
    const snap = await bob.archive.load();
    const node = (id: string) => snap.nodes.find((n) => n.id === id);
    expect(node(aliceNode.id)?.untrusted).toBeUndefined();
    expect(snap.evaluations.get(aliceNode.id)).toHaveLength(1);
    expect(node(own)?.untrusted).toBeUndefined();
    expect(node(unsigned)?.untrusted).toMatch(/not signed by a key trust.writers lists for mallory/);
    expect(node(inAlicesName)?.untrusted).toMatch(/not signed by a key trust.writers lists for alice/);
    expect(snap.evaluations.get(unsigned)).toBeUndefined();
    expect(snap.ignored?.some((i) => i.writer === 'mallory' && /notes not counted: notes commit .* is not signed/.test(i.reason))).toBe(true);

    // With trust: all the same archive counts everything that passes the checks.
    const open = await (await Archive.open({ repoDir: bob.dir })).load();
    expect(open.nodes.find((n) => n.id === unsigned)?.untrusted).toBeUndefined();
  });
});

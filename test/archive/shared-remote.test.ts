import { afterAll, describe, expect, it } from 'vitest';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Archive, type Evaluation } from '../../src/archive/index.js';
import { InfraError } from '../../src/errors/index.js';
import { git, initRepo } from '../helpers/repo.js';
import { cleanup, evaluation, baseRepo, tempDir, treeWith } from './helpers.js';

afterAll(cleanup);

/** Logs every ref update the remote receives, so the test can prove none was forced. */
const PRE_RECEIVE = `#!/bin/sh
cat >> "$GIT_DIR/updates.log"
`;

async function withRetries<T>(f: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await f();
    } catch (e) {
      // Two pushes racing on one bare repo can briefly fail to lock packed-refs; a real agent retries.
      if (!(e instanceof InfraError) || i >= 8) throw e;
      await new Promise((r) => setTimeout(r, 20 * (i + 1)));
    }
  }
}

describe('Archive: two writers, one shared remote', () => {
  it('writes nodes and notes concurrently through two clones; everything arrives, nothing is forced', async () => {
    const { dir: seed, base } = await baseRepo();
    const remote = join(await tempDir(), 'shared.git');
    await initRepo(remote, { bare: true });
    await git(remote, ['config', 'receive.denyNonFastForwards', 'true']);
    await writeFile(join(remote, 'hooks', 'pre-receive'), PRE_RECEIVE);
    await chmod(join(remote, 'hooks', 'pre-receive'), 0o755);
    const seedArchive = await Archive.open({ repoDir: seed });
    await seedArchive.createRoot(base);
    await git(seed, ['push', '-q', remote, 'main', 'evo/root']);

    const writers = ['alice', 'bob'];
    const clones = await Promise.all(
      writers.map(async (w) => {
        const dir = join(await tempDir(), w);
        await git(seed, ['clone', '-q', remote, dir]);
        const archive = await Archive.open({ repoDir: dir });
        await archive.fetch(remote, w);
        return { w, dir, archive };
      }),
    );

    const written = new Map<string, string[]>();
    const evaluated: Evaluation[] = [];
    const ROUNDS = 8;
    await Promise.all(
      clones.map(async ({ w, dir, archive }) => {
        const mine: string[] = [];
        written.set(w, mine);
        for (let round = 0; round < ROUNDS; round++) {
          const snap = await archive.load();
          // Grow from the newest node anyone wrote, so the writers build on each other's work.
          const parent = snap.nodes[snap.nodes.length - 1]?.id as string;
          const node = await archive.writeNode({ writer: w, parents: [parent], tree: await treeWith(dir, `${w} ${round}\n`), message: `${w} round ${round}`, agent: 'test', operator: 'mutate' });
          mine.push(node.id);
          const other = snap.nodes[round % snap.nodes.length]?.id as string;
          const evals = [evaluation(node.id, `t${round}`, 'pass', w), evaluation(other, `x${round}`, round % 3 ? 'fail' : 'error', w)];
          evaluated.push(...evals);
          await archive.appendEvaluations(w, evals);
          const claim = await archive.putClaim({ writer: w, node: node.id, kind: 'evaluate', task: 'x', expires: Date.now() + 60_000 });
          await withRetries(() => archive.push(remote, w));
          await archive.releaseClaim(claim);
          await withRetries(() => archive.fetch(remote, w));
        }
        await withRetries(() => archive.push(remote, w));
      }),
    );
    for (const c of clones) await c.archive.fetch(remote, c.w);

    const remoteArchive = await Archive.open({ repoDir: remote });
    const snaps = [await remoteArchive.load(), ...(await Promise.all(clones.map((c) => c.archive.load())))];
    const allNodes = [base, ...writers.flatMap((w) => written.get(w) ?? [])];
    const lines = (s: (typeof snaps)[number]) =>
      [...s.evaluations.values()]
        .flat()
        .map((e) => JSON.stringify(e))
        .sort();
    for (const snap of snaps) {
      expect(new Set(snap.nodes.map((n) => n.id))).toEqual(new Set(allNodes));
      expect(snap.nodes.every((n) => !n.pruned)).toBe(true);
      // Snapshots carry the lines without their log tails.
      expect(lines(snap)).toEqual(evaluated.map(({ log: _drop, ...e }) => JSON.stringify(e)).sort());
      expect(snap.claims).toEqual([]);
    }
    expect(snaps[1]).toEqual(snaps[0]);
    expect(snaps[2]).toEqual(snaps[0]);
    for (const w of writers) {
      const branches = (await git(remote, ['for-each-ref', '--format=%(refname:short)', `refs/heads/evo/${w}/`])).trim().split('\n');
      expect(branches.sort()).toEqual(Array.from({ length: ROUNDS }, (_, i) => `evo/${w}/${i + 1}`).sort());
    }

    for (const d of [remote, ...clones.map((c) => c.dir)]) {
      const fsck = await git(d, ['fsck', '--strict', '--no-progress', '--no-dangling']);
      expect(fsck.trim()).toBe('');
    }
    // Every update the remote accepted was a creation, a deletion (released claims) or a fast-forward.
    const updates = (await readFile(join(remote, 'updates.log'), 'utf8')).trim().split('\n');
    expect(updates.length).toBeGreaterThan(ROUNDS * 2);
    const ZERO = '0'.repeat(40);
    for (const u of updates) {
      const [oldSha, newSha, ref] = u.split(' ') as [string, string, string];
      if (oldSha === ZERO || newSha === ZERO) {
        if (newSha === ZERO) expect(ref).toMatch(/^refs\/evogit\/claims\//);
        continue;
      }
      expect(ref).toMatch(/^refs\/notes\/evogit\//);
      await git(remote, ['merge-base', '--is-ancestor', oldSha, newSha]);
    }
  });

  it('merges a rejected notes push instead of forcing it (one writer name on two machines)', async () => {
    const { dir: seed, base } = await baseRepo();
    const remote = join(await tempDir(), 'shared.git');
    await initRepo(remote, { bare: true });
    await git(remote, ['config', 'receive.denyNonFastForwards', 'true']);
    await (await Archive.open({ repoDir: seed })).createRoot(base);
    await git(seed, ['push', '-q', remote, 'main', 'evo/root']);
    const [one, two] = await Promise.all(
      ['one', 'two'].map(async (name) => {
        const dir = join(await tempDir(), name);
        await git(seed, ['clone', '-q', remote, dir]);
        const archive = await Archive.open({ repoDir: dir });
        await archive.fetch(remote, 'w');
        return archive;
      }),
    );
    await one!.appendEvaluations('w', [evaluation(base, 'from-one', 'pass', 'w')]);
    await two!.appendEvaluations('w', [evaluation(base, 'from-two', 'fail', 'w')]);
    await one!.push(remote, 'w');
    await two!.push(remote, 'w');
    const snap = await (await Archive.open({ repoDir: remote })).load();
    expect(snap.evaluations.get(base)?.map((e) => e.task).sort()).toEqual(['from-one', 'from-two']);
  });
});

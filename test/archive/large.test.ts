/**
 * Sizes a real archive reaches in a long run: refreshes whose changes count in the hundred
 * thousands must not hit the engine's limit on call arguments.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Archive } from '../../src/archive/index.js';
import { git } from '../helpers/repo.js';
import { cleanup, baseRepo } from './helpers.js';

afterAll(cleanup);

describe('a refresh with very many changes', () => {
  it('drops 150k nodes whose branches were all deleted at once', async () => {
    const { dir, base } = await baseRepo();
    const archive = await Archive.open({ repoDir: dir });
    await archive.createRoot('HEAD');
    // 150k commits, each on its own branch, written by fast-import (a minute of agents' work).
    const n = 150_000;
    const chunks: string[] = [];
    for (let i = 1; i <= n; i++) {
      chunks.push(`commit refs/heads/scratch\nmark :${i}\ncommitter t <t@localhost> ${1_700_000_000 + i} +0000\ndata 2\nc\nfrom ${base}\n\n`);
    }
    const marks = join(dir, '.git', 'marks');
    await git(dir, ['fast-import', '--quiet', `--export-marks=${marks}`], chunks.join(''));
    await git(dir, ['update-ref', '-d', 'refs/heads/scratch']);
    // Their branches packed, as gc leaves them (150k loose files would dominate the test).
    const shas = new Map((await readFile(marks, 'utf8')).trim().split('\n').map((l) => [Number(l.split(' ')[0]!.slice(1)), l.split(' ')[1]!] as const));
    await git(dir, ['pack-refs', '--all']);
    const file = join(dir, '.git', 'packed-refs');
    const [header, ...kept] = (await readFile(file, 'utf8')).trim().split('\n');
    const lines = [...kept, ...[...shas].map(([i, sha]) => `${sha} refs/heads/evo/w/${i}`)].sort((a, b) => (a.slice(41) < b.slice(41) ? -1 : 1));
    await writeFile(file, [header, ...lines].join('\n') + '\n');
    const listed = (await git(dir, ['for-each-ref', '--format=%(refname)', 'refs/heads/evo/w/'])).trim().split('\n');
    expect(listed).toHaveLength(n);
    expect((await archive.load()).nodes.length).toBe(n + 1);
    // All their branches go at once (packed-refs rewritten without them, as one `git
    // update-ref --stdin` of 150k deletions would leave it, only faster).
    await writeFile(file, [header, ...kept].join('\n') + '\n');
    expect((await git(dir, ['for-each-ref', 'refs/heads/evo/w/'])).trim()).toBe('');
    const after = await archive.load();
    expect(after.nodes.map((x) => x.id)).toEqual([base]);
    expect(archive.lastLoad?.removedCommits).toBe(n);
  }, 120_000);
});

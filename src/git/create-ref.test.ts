/**
 * Git.createRef: a create-only ref (a claim) through git's own `update-ref`, kept open or not.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Git } from './index.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function repo(...initArgs: string[]): Promise<{ g: Git; blob: string; other: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'evogit-createref-'));
  dirs.push(dir);
  const g = new Git(dir);
  await g.run(['init', '-q', ...initArgs]);
  const blob = (await g.out(['hash-object', '-w', '--stdin'], { input: 'claim\n' })).trim();
  const other = (await g.out(['hash-object', '-w', '--stdin'], { input: 'other\n' })).trim();
  return { g, blob, other };
}

describe('Git.createRef', () => {
  it.each([['sha1'], ['sha256']])('creates a ref once; a second create of it, loose or packed, is refused (%s)', async (format) => {
    const { g, blob, other } = await repo(`--object-format=${format}`);
    for (const open of [true, false]) {
      if (open) g.keepOpen();
      const ref = `refs/evogit/claims/a1/${open ? 'kept' : 'plain'}`;
      expect((await g.createRef(ref, blob)).ok).toBe(true);
      expect((await g.out(['rev-parse', ref])).trim()).toBe(blob);
      const taken = await g.createRef(ref, other);
      expect(taken.ok).toBe(false);
      expect(taken.stderr).toMatch(/reference already exists|cannot lock ref/);
      await g.run(['pack-refs', '--all']);
      expect((await g.createRef(ref, other)).ok).toBe(false);
      expect((await g.out(['rev-parse', ref])).trim()).toBe(blob);
      // A ref inside an existing ref's name: git refuses it, and says so.
      expect((await g.createRef(`${ref}/deeper`, blob)).ok).toBe(false);
      await g.close();
    }
    expect((await g.run(['fsck', '--no-dangling'])).exitCode).toBe(0);
  });
});

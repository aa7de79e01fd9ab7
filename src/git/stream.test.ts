import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Git } from './index.js';

describe('Git.catFileStream (a real repository)', () => {
  let dir = '';
  let git: Git;
  const blobs: { sha: string; text: string }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evogit-catfile-'));
    git = new Git(dir);
    await git.run(['init', '-q']);
    // Small, empty, non-ASCII, and larger than a pipe chunk (so contents span chunks).
    for (const text of ['one\n', '', 'ü✓ → ×\n'.repeat(10), 'x'.repeat(300_000) + '\n', '{"log":"tail"}\n']) {
      const sha = (await git.out(['hash-object', '-w', '--stdin'], { input: text })).trim();
      blobs.push({ sha, text });
    }
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('yields every object in the order asked, as bytes, leaving out missing names', async () => {
    const missing = 'f'.repeat(40);
    const names = [blobs[0]!.sha, missing, ...blobs.slice(1).map((b) => b.sha), blobs[0]!.sha];
    const got: { name: string; type: string; text: string }[] = [];
    let batches = 0;
    for await (const objects of git.catFileStream(names)) {
      batches++;
      for (const o of objects) got.push({ name: o.name, type: o.type, text: o.content.toString('utf8') });
    }
    const expected = [...blobs, blobs[0]!].map((b) => ({ name: b.sha, type: 'blob', text: b.text }));
    expect(got).toEqual(expected);
    expect(batches).toBeGreaterThan(1);
    const map = await git.catFiles(names);
    expect(map.has(missing)).toBe(false);
    expect([...map.values()].map((o) => o.content)).toEqual(blobs.map((b) => b.text));
  });

  it('a consumer that stops early ends git (no hang), and a bad repository throws', async () => {
    const many = Array.from({ length: 200 }, () => blobs[3]!.sha);
    for await (const objects of git.catFileStream(many)) {
      expect(objects.length).toBeGreaterThan(0);
      break;
    }
    const notARepo = await mkdtemp(join(tmpdir(), 'evogit-catfile-none-'));
    try {
      const consume = async () => {
        for await (const _ of new Git(notARepo).catFileStream([blobs[0]!.sha])) void _;
      };
      await expect(consume()).rejects.toThrow(/cat-file/);
    } finally {
      await rm(notARepo, { recursive: true, force: true });
    }
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Git, LOG_FORMAT, LogReader, parseLog, type RawCommit } from './index.js';

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

describe('Git.logStream (a real repository)', () => {
  it('gives the commits parseLog gives, however the output is cut into chunks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evogit-logstream-'));
    try {
      const git = new Git(dir);
      await git.run(['init', '-q']);
      let parent: string | null = null;
      const subjects = ['plain', 'ünïcødé ✓ subject', 'with\ttab and "quotes"', 'x'.repeat(70_000)];
      for (let i = 0; i < 40; i++) {
        const tree = (await git.out(['mktree'], { input: '' })).trim();
        const msg = `${subjects[i % subjects.length]} ${i}\n\nEvogit-Writer: w${i % 3}\nEvogit-Operator: mutate\n`;
        const args: string[] = ['commit-tree', tree, ...(parent ? ['-p', parent] : [])];
        parent = (await git.out(args, { input: msg })).trim();
      }
      await git.run(['update-ref', 'refs/heads/main', parent as string]);
      const whole = parseLog(await git.out(['log', `--format=${LOG_FORMAT}`, 'main']));
      const streamed: RawCommit[] = [];
      for await (const batch of git.logStream([], 'main\n')) streamed.push(...batch);
      expect(streamed).toEqual(whole);
      expect(streamed).toHaveLength(40);
      // Chunk boundaries anywhere, down to single bytes.
      const bytes = Buffer.from(await git.out(['log', `--format=${LOG_FORMAT}`, 'main']), 'utf8');
      for (const size of [1, 7, 100, 4096]) {
        const reader = new LogReader();
        const out: RawCommit[] = [];
        for (let at = 0; at < bytes.length; at += size) out.push(...reader.push(bytes.subarray(at, at + size)));
        expect(reader.complete).toBe(true);
        expect(out).toEqual(whole);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

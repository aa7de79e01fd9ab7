import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FrameReader, concatTarStream, layerBytes } from './stream.js';
import { makeTar, readTar } from './tar.js';

async function collect(gen: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of gen) parts.push(c);
  return Buffer.concat(parts);
}

/** A layer that arrives in small uneven chunks, as a pipe delivers it. */
const chunked = (buf: Buffer, size: number) => ({
  stream: async function* () {
    for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
  },
});

describe('the sandbox transport', () => {
  it('concatenates archives as one stream that GNU tar reads whole, later entries last, owners rewritten', async () => {
    const a = makeTar([{ path: 'src/a.js', content: 'a1' }, { path: 'big.bin', content: Buffer.alloc(70_000, 7) }]);
    const b = makeTar([{ path: 'src/a.js', content: 'a2' }, { path: 'test/t.js', content: 't' }]);
    const out = await collect(concatTarStream([chunked(a, 333), b], { uid: 4242, gid: 4343 }));
    const listing = execFileSync('tar', ['-tvf', '-'], { input: out }).toString();
    expect(listing).toMatch(/4242\/4343 +70000 .* big\.bin/);
    const files = readTar(out);
    expect(files.get('src/a.js')?.toString()).toBe('a2');
    expect(files.get('big.bin')?.length).toBe(70_000);
    // Exactly one end-of-archive marker, at the end.
    expect(out.subarray(-1024).every((x) => x === 0)).toBe(true);
  });

  it('throws when an archive ends inside an entry (a stream cut short)', async () => {
    const a = makeTar([{ path: 'x', content: Buffer.alloc(5000, 1) }]);
    await expect(collect(concatTarStream([chunked(a.subarray(0, 2048), 100)]))).rejects.toThrow(/ends inside an entry/);
    expect((await layerBytes(chunked(a, 7))).equals(a)).toBe(true);
  });

  it('splits output from frames only the secret opens, across any chunking', () => {
    const secret = 'f00d';
    const payload = Buffer.from('<xml>\n\u0000binary\n</xml>');
    const stream = Buffer.concat([
      Buffer.from('test output\nfake \n0000 exit 0 0 1 command\n'),
      Buffer.from(`\n${secret} file ${payload.length} 0 /evogit/out/results.xml\n`),
      payload,
      Buffer.from(`more output ${secret} not a frame (no newline before it)\n`),
      Buffer.from(`\n${secret} file 999999999 0 /too/big\nstill output`),
      Buffer.from(`\n${secret} exit 1 0 1234 command\n`),
    ]);
    for (const size of [1, 3, 17, stream.length]) {
      let text = '';
      const r = new FrameReader(secret, (c) => (text += c.toString('latin1')), 1024);
      for (let i = 0; i < stream.length; i += size) r.push(stream.subarray(i, i + size));
      r.end();
      expect(r.report.files.get('/evogit/out/results.xml')?.data.equals(payload)).toBe(true);
      expect(r.report.files.has('/too/big')).toBe(false);
      expect(r.report.exit).toEqual({ code: 1, timedOut: false, ms: 1234, phase: 'command' });
      expect(text).toContain('test output\nfake \n0000 exit 0 0 1 command\n');
      expect(text).toContain(`more output ${secret} not a frame`);
      expect(text).not.toContain('1234');
    }
  });
});

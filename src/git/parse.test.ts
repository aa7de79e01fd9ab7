import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CatFileBatchReader, notePathToSha, parseCatFileBatch, parseDiffTree, parseForEachRef, forEachLsTreeBlob, parseLog, parsePushRejections, parseTrailerLines } from './parse.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const T = 'c'.repeat(40);

describe('git output parsers (captured output)', () => {
  it('parseLog reads NUL-separated records with trailers and several parents', () => {
    const out =
      `${A}\x00${T}\x00${B} ${T}\x001700000000\x00merge: ünï\x00Evogit-Writer: w1\x1fEvogit-Operator: crossover\x1fEvogit-Cost: 0.5\x00\n` +
      `${B}\x00${T}\x00\x001699999999\x00root commit\x00\x00\n`;
    expect(parseLog(out)).toEqual([
      { id: A, tree: T, parents: [B, T], time: 1700000000, subject: 'merge: ünï', trailers: { 'Evogit-Writer': 'w1', 'Evogit-Operator': 'crossover', 'Evogit-Cost': '0.5' } },
      { id: B, tree: T, parents: [], time: 1699999999, subject: 'root commit', trailers: {} },
    ]);
    expect(parseLog('')).toEqual([]);
  });

  it('parseTrailerLines keeps the last value and ignores junk', () => {
    expect(parseTrailerLines('K: 1\x1fK: 2\x1fnot a trailer\x1fX:  y z ')).toEqual({ K: '2', X: 'y z' });
  });

  it('parseForEachRef, forEachLsTreeBlob, parseDiffTree', () => {
    expect(parseForEachRef(`refs/heads/evo/a/1\x00${A}\nrefs/notes/evogit/a\x00${B}\n`)).toEqual([
      { ref: 'refs/heads/evo/a/1', sha: A },
      { ref: 'refs/notes/evogit/a', sha: B },
    ]);
    const listing = Buffer.from(`100644 blob ${A}\taa/${'a'.repeat(38)}\x00040000 tree ${T}\tdir\x00100644 blob ${B}\t${B}\x00`);
    const blobs: { sha: string; path: string }[] = [];
    forEachLsTreeBlob(listing, (sha, start, end) => blobs.push({ sha, path: listing.toString('utf8', start, end) }));
    expect(blobs).toEqual([
      { sha: A, path: `aa/${'a'.repeat(38)}` },
      { sha: B, path: B },
    ]);
    const diff = `:100644 100644 ${A} ${B} M\x00aa/bb\x00:100644 000000 ${A} ${'0'.repeat(40)} D\x00cc\x00:000000 100644 ${'0'.repeat(40)} ${T} A\x00dd\x00`;
    expect(parseDiffTree(diff)).toEqual([
      { status: 'M', sha: B, path: 'aa/bb' },
      { status: 'D', sha: '0'.repeat(40), path: 'cc' },
      { status: 'A', sha: T, path: 'dd' },
    ]);
    expect(notePathToSha('ab/cd/ef')).toBe('abcdef');
  });

  it('parseCatFileBatch counts bytes, not characters, and skips missing names', () => {
    const body = 'ü✓\nline\n';
    const out = Buffer.from(`${A} blob ${Buffer.byteLength(body)}\n${body}\nmissing-name missing\n${B} blob 0\n\n`);
    const m = parseCatFileBatch(out, [A, 'missing-name', B]);
    expect(m.get(A)?.content).toBe(body);
    expect(m.has('missing-name')).toBe(false);
    expect(m.get(B)).toEqual({ name: B, sha: B, type: 'blob', content: '' });
  });

  it('CatFileBatchReader gives the same objects as parseCatFileBatch however the output is cut', () => {
    const bodies = ['ü✓\nline\n', '', 'x'.repeat(300), '{"a":"\\n"}\n\n', 'last'];
    const names = bodies.map((_, i) => String(i).repeat(40).slice(0, 40));
    const withMissing = [...names.slice(0, 2), 'nope', ...names.slice(2)];
    const out = Buffer.concat(
      withMissing.map((n) => {
        if (n === 'nope') return Buffer.from('nope missing\n');
        const body = bodies[names.indexOf(n)] as string;
        return Buffer.from(`${n} blob ${Buffer.byteLength(body)}\n${body}\n`);
      }),
    );
    const whole = [...parseCatFileBatch(out, withMissing).values()];
    expect(whole.map((o) => o.content)).toEqual(bodies);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: out.length - 1 }), { maxLength: 40 }), (cuts) => {
        const at = [0, ...cuts.sort((a, b) => a - b), out.length];
        const reader = new CatFileBatchReader(withMissing);
        const got = [];
        for (let i = 0; i + 1 < at.length; i++) {
          expect(reader.complete).toBe(false);
          got.push(...reader.push(out.subarray(at[i], at[i + 1])));
        }
        expect(reader.complete).toBe(true);
        expect(got.map((o) => ({ name: o.name, sha: o.sha, type: o.type, content: o.content.toString('utf8') }))).toEqual(whole);
      }),
    );
  });

  it('CatFileBatchReader fed one byte at a time', () => {
    const out = Buffer.from(`${A} blob 3\nabc\n${B} tree 0\n\n`);
    const reader = new CatFileBatchReader([A, B]);
    const got = [];
    for (let i = 0; i < out.length; i++) got.push(...reader.push(out.subarray(i, i + 1)));
    expect(got.map((o) => [o.name, o.type, o.content.toString()])).toEqual([
      [A, 'blob', 'abc'],
      [B, 'tree', ''],
    ]);
    expect(reader.complete).toBe(true);
  });

  it('parsePushRejections lists refs the remote refused', () => {
    const out = `To /tmp/r.git\n=\trefs/heads/evo/a/1:refs/heads/evo/a/1\t[up to date]\n!\trefs/notes/evogit/a:refs/notes/evogit/a\t[rejected] (fetch first)\nDone\n`;
    expect(parsePushRejections(out)).toEqual(['refs/notes/evogit/a:refs/notes/evogit/a']);
  });
});

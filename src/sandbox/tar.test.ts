import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { chownTar, concatTars, makeTar, readTar } from './tar.js';
import { CappedOutput } from './types.js';

describe('tar', () => {
  it('writes archives that GNU tar reads, with parents and owners', () => {
    const long = `${'d'.repeat(80)}/${'e'.repeat(60)}/file.txt`;
    const tar = makeTar([{ path: 'a/b.txt', content: 'hello' }, { path: long, content: Buffer.from([1, 2, 3]) }, { path: 'empty' }]);
    const listing = execFileSync('tar', ['-tvf', '-', '--numeric-owner'], { input: tar }).toString();
    expect(listing).toMatch(/1000\/1000 +5 .* a\/b\.txt/);
    expect(listing).toContain(long);
    expect(listing).toMatch(/^d.* empty\/$/m);
    expect(readTar(tar).get('a/b.txt')?.toString()).toBe('hello');
    expect(readTar(tar).get(long)).toEqual(Buffer.from([1, 2, 3]));
  });

  it('re-owns every entry of an existing archive', () => {
    const tar = chownTar(makeTar([{ path: 'x/y', content: 'z' }], { uid: 0, gid: 0 }), 1000, 1000);
    const listing = execFileSync('tar', ['-tvf', '-', '--numeric-owner'], { input: tar }).toString();
    expect(listing.trim().split('\n').every((l) => l.includes('1000/1000'))).toBe(true);
  });
});

describe('concatTars', () => {
  it('joins archives so that later entries win', () => {
    const joined = concatTars([makeTar([{ path: 'a', content: '1' }, { path: 'b', content: 'x' }]), makeTar([{ path: 'a', content: '2' }])]);
    expect(execFileSync('tar', ['-xOf', '-', 'a'], { input: joined }).toString()).toBe('12'); // extracted in order: the last write wins
    expect(readTar(joined).get('a')?.toString()).toBe('2');
    expect(readTar(joined).get('b')?.toString()).toBe('x');
  });
});

describe('CappedOutput', () => {
  it('keeps up to the limit and marks the cut', () => {
    const out = new CappedOutput(10);
    out.push(Buffer.from('0123456789abc'));
    out.push(Buffer.from('more'));
    expect(out.total).toBe(17);
    expect(out.text()).toMatch(/^0123456789\n\[evogit: output truncated: kept 10 of 17 bytes/);
  });
});

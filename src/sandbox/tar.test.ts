import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chownTar, concatTars, extractTar, makeTar, readTar } from './tar.js';
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

describe('extractTar', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const temp = (): string => {
    const d = mkdtempSync(path.join(tmpdir(), 'evogit-tar-'));
    dirs.push(d);
    return d;
  };
  /** Every path under `dir` with what a test of the result would see: kind, content or target, executable bit, mtime of files. */
  const listing = (dir: string): Record<string, string> => {
    const out: Record<string, string> = {};
    const walk = (rel: string): void => {
      for (const name of readdirSync(path.join(dir, rel)).sort()) {
        const p = rel ? `${rel}/${name}` : name;
        const st = lstatSync(path.join(dir, p));
        if (st.isSymbolicLink()) out[p] = `link ${readlinkSync(path.join(dir, p))}`;
        else if (st.isDirectory()) {
          out[p] = 'dir';
          walk(p);
        } else out[p] = `file ${(st.mode & 0o100) !== 0 ? 'x' : '-'} ${Math.floor(st.mtimeMs / 1000)} ${readFileSync(path.join(dir, p)).toString('base64')}`;
      }
    };
    walk('');
    return out;
  };

  it('extracts what git archive writes exactly as GNU tar does', () => {
    const repo = temp();
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@x', GIT_COMMITTER_DATE: '1700000000 +0000' } });
    git('init', '-q');
    const long = `${'deep/'.repeat(25)}${'n'.repeat(90)}.txt`;
    const files: Record<string, string | Buffer> = { 'a.txt': 'a\n', 'src/lib/x.js': 'x\n', [long]: 'long\n', 'ünï cødé.md': 'u\n', 'empty': '', 'bin.dat': Buffer.from([0, 1, 2, 255]), 'run.sh': '#!/bin/sh\n' };
    for (const [p, c] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(repo, p)), { recursive: true });
      writeFileSync(path.join(repo, p), c);
    }
    chmodSync(path.join(repo, 'run.sh'), 0o755);
    symlinkSync('a.txt', path.join(repo, 'to-file'));
    symlinkSync('src/lib', path.join(repo, 'to-dir'));
    git('add', '--all');
    git('commit', '-qm', 'all kinds');
    const tar = git('archive', '--format=tar', 'HEAD');
    const [byTar, byUs] = [temp(), temp()];
    execFileSync('tar', ['-x', '--no-same-owner', '-f', '-', '-C', byTar], { input: tar });
    extractTar(tar, byUs);
    expect(listing(byUs)).toEqual(listing(byTar));
    expect(Object.keys(listing(byUs))).toContain(long);
  });

  it('lets later layers replace files, links and empty directories, as the sandbox layers them', () => {
    const dir = temp();
    const src = temp();
    writeFileSync(path.join(src, 'tests'), 'a file the candidate put where the hidden tests go');
    symlinkSync('/etc/passwd', path.join(src, 'conf'));
    extractTar(execFileSync('tar', ['-cf', '-', '-C', src, 'tests', 'conf']), dir);
    extractTar(makeTar([{ path: 'tests/hidden.test.js', content: 'hidden' }, { path: 'conf', content: 'plain' }]), dir);
    expect(readFileSync(path.join(dir, 'tests', 'hidden.test.js'), 'utf8')).toBe('hidden');
    expect(lstatSync(path.join(dir, 'conf')).isSymbolicLink()).toBe(false);
    expect(readFileSync(path.join(dir, 'conf'), 'utf8')).toBe('plain');
  });

  it('refuses paths that leave the directory, also through a symbolic link, and writes nothing outside', () => {
    const outside = temp();
    const dir = path.join(temp(), 'work');
    mkdirSync(dir);
    const src = temp();
    mkdirSync(path.join(src, 'sub'));
    writeFileSync(path.join(src, 'x'), 'evil');
    // "../x" as an entry name (-P keeps it), and a link to outside followed by a file under it.
    expect(() => extractTar(execFileSync('tar', ['-cPf', '-', '../x'], { cwd: path.join(src, 'sub') }), dir)).toThrow(/refusing the entry "\.\.\/x"/);
    symlinkSync(outside, path.join(src, 'out'));
    extractTar(execFileSync('tar', ['-cf', '-', '-C', src, 'out']), dir);
    // An entry under the link, with no entry for the directory itself (makeTar would add one,
    // and a directory entry replaces a link, as GNU tar does).
    mkdirSync(path.join(src, 'sub', 'out'));
    writeFileSync(path.join(src, 'sub', 'out', 'planted'), 'evil');
    expect(() => extractTar(execFileSync('tar', ['-cf', '-', '-C', path.join(src, 'sub'), 'out/planted']), dir)).toThrow(/leads outside/);
    expect(lstatSync(path.join(dir, 'out')).isSymbolicLink()).toBe(true);
    expect(readdirSync(outside)).toEqual([]);
    expect(readdirSync(path.dirname(dir))).toEqual(['work']);
    // A link that stays inside is followed, as tar follows it.
    mkdirSync(path.join(dir, 'real'));
    symlinkSync('real', path.join(dir, 'alias'));
    mkdirSync(path.join(src, 'sub', 'alias'));
    writeFileSync(path.join(src, 'sub', 'alias', 'f'), 'in');
    extractTar(execFileSync('tar', ['-cf', '-', '-C', path.join(src, 'sub'), 'alias/f']), dir);
    expect(readFileSync(path.join(dir, 'real', 'f'), 'utf8')).toBe('in');
    // A directory entry replaces a link (GNU tar without --keep-directory-symlink).
    extractTar(makeTar([{ path: 'out/inside', content: 'fine' }]), dir);
    expect(lstatSync(path.join(dir, 'out')).isDirectory()).toBe(true);
    expect(readdirSync(outside)).toEqual([]);
  });
});

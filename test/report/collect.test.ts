/**
 * What the report reads from git, against git itself: commit messages and first-parent
 * patches, touched paths, the root's files, and the viewer's reconstruction of any node's
 * files (and so its diff against the root) from those — on a real repository with edits,
 * additions, deletions, a binary file, a file name with a space, and a merge.
 */
import { writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Git } from '../../src/git/index.js';
import { commitPatches, parseCommitPatches, patchPaths, rootTexts } from '../../src/report/html/commits.js';
import { samplePoints } from '../../src/report/html/timeline.js';
import { reconstruct, splitGitPatch, unifiedDiff } from '../../src/report/viewer/files.js';
import { commitAll, git, makeRepo, removedAfterAll, revParse } from '../helpers/repo.js';

const dirs = removedAfterAll();

const commit = (repo: string, message: string): Promise<string> => commitAll(repo, message, { allowEmpty: true });

describe('report: commits, patches and files from git', () => {
  it('rebuilds every commit\'s files from the root and first-parent patches exactly as git has them', async () => {
    const repo = await makeRepo({
      'src/a.js': 'export function a(x) {\n  return x + 1;\n}\n',
      'src/b.js': 'line 1\nline 2\nline 3\n',
      'notes/with space.txt': 'hello\n',
      'crlf.txt': 'one\r\ntwo\r\n',
      'bin.dat': Buffer.from([0, 1, 2, 3, 0, 255]).toString('latin1'),
    });
    dirs.push(repo);
    const root = await revParse(repo);
    await writeFile(path.join(repo, 'src/a.js'), 'export function a(x) {\n  return x - 1;\n}\n');
    await writeFile(path.join(repo, 'notes/with space.txt'), 'hello\nworld');
    const c1 = await commit(repo, 'edit a\n\nA body line.\n\nEvogit-Operator: mutate');
    await rm(path.join(repo, 'src/b.js'));
    await writeFile(path.join(repo, 'src/new.js'), 'export const n = 1;\n');
    await writeFile(path.join(repo, 'crlf.txt'), 'one\r\nTWO\r\n');
    await writeFile(path.join(repo, 'bin.dat'), Buffer.from([9, 9, 0, 1]));
    const c2 = await commit(repo, 'delete b, add new');
    await git(repo, ['checkout', '--quiet', '-b', 'side', root]);
    await writeFile(path.join(repo, 'src/a.js'), 'export function a(x) {\n  return x * 2;\n}\n');
    await writeFile(path.join(repo, 'src/side.js'), 'export const side = true;\n');
    const side = await commit(repo, 'side edit');
    await git(repo, ['checkout', '--quiet', 'main']);
    await git(repo, ['merge', '--quiet', '--no-ff', '-m', 'merge side', 'side', '-X', 'theirs']);
    const merge = await revParse(repo);

    const reader = new Git(repo);
    const commits = await commitPatches(reader, [c1, c2, side, merge]);
    expect([...commits.keys()]).toEqual([c1, c2, side, merge]);
    expect(commits.get(c1)!.message).toBe('edit a\n\nA body line.\n\nEvogit-Operator: mutate');
    expect(patchPaths(commits.get(c1)!.patch).sort()).toEqual(['notes/with space.txt', 'src/a.js']);
    expect(patchPaths(commits.get(c2)!.patch).sort()).toEqual(['bin.dat', 'crlf.txt', 'src/b.js', 'src/new.js']);

    const touched = [...new Set([...commits.values()].flatMap((c) => patchPaths(c.patch)))];
    const { texts, unreadable } = await rootTexts(reader, root, touched);
    expect(unreadable).toEqual(['bin.dat']);
    expect(texts.has('src/new.js')).toBe(false);
    const rootFile = (p: string) => (texts.has(p) ? texts.get(p)! : unreadable.includes(p) ? undefined : null);

    const lineages: Record<string, string[]> = { [c1]: [c1], [c2]: [c1, c2], [side]: [side], [merge]: [c1, c2, merge] };
    for (const [node, chain] of Object.entries(lineages)) {
      const { changes, unknown } = reconstruct(chain.map((c) => splitGitPatch(commits.get(c)!.patch)), rootFile);
      const names = (await git(repo, ['diff', '--name-only', '-z', root, node])).split('\0').filter(Boolean).sort();
      expect([...changes.map((c) => c.path), ...unknown].sort(), node).toEqual(names);
      for (const c of changes) {
        const real = await git(repo, ['cat-file', '-p', `${node}:${c.path}`]).catch(() => null);
        expect(c.after, `${c.path} at ${node}`).toBe(real);
      }
      if (names.includes('bin.dat')) expect(unknown).toEqual(['bin.dat']);
    }
    // The diff the viewer renders names each file the way git does.
    const diff = unifiedDiff(reconstruct([splitGitPatch(commits.get(c1)!.patch), splitGitPatch(commits.get(c2)!.patch)], rootFile).changes);
    expect(diff).toContain('diff --git a/src/new.js b/src/new.js\nnew file mode 100644\n--- /dev/null\n+++ b/src/new.js');
    expect(diff).toContain('+++ /dev/null');
    expect(diff).toContain('-  return x + 1;\n+  return x - 1;');
  });

  it('parses git log output with empty bodies and commits without a patch', () => {
    const out = '\0\0' + 'a'.repeat(40) + '\nsubject only\0\n' + '\0\0' + 'b'.repeat(40) + '\nwith body\n\nbody\n\0\n\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-1\n+2\n';
    const parsed = parseCommitPatches(out);
    expect(parsed.get('a'.repeat(40))).toEqual({ message: 'subject only', patch: '' });
    expect(parsed.get('b'.repeat(40))!.message).toBe('with body\n\nbody');
    expect(parsed.get('b'.repeat(40))!.patch.startsWith('diff --git a/x b/x')).toBe(true);
  });

  it('reads C-quoted paths in diff headers', () => {
    expect(patchPaths('diff --git "a/tab\\there" "b/tab\\there"\n--- "a/tab\\there"\n+++ "b/tab\\there"\n@@ -1 +1 @@\n-a\n+b\n')).toEqual(['tab\there']);
    expect(patchPaths('diff --git a/x b/x\nnew file mode 100644\n--- /dev/null\n+++ b/x\n')).toEqual(['x']);
  });

  it('samples the timeline evenly and always ends at the last evaluation', () => {
    expect(samplePoints(0)).toEqual([0]);
    expect(samplePoints(3)).toEqual([0, 1, 2, 3]);
    const many = samplePoints(10_000, 120);
    expect(many.length).toBe(121);
    expect(many.at(-1)).toBe(10_000);
    expect(many.every((x, i) => i === 0 || x > many[i - 1]!)).toBe(true);
  });
});

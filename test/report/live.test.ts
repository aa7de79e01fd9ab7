/**
 * The report's collector on a real archive: an oversized patch is left out (named, never
 * half-carried) and the nodes after it say their diff against the root cannot be rebuilt for
 * its files; a live report started before new nodes and runs ends with all of them.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Archive } from '../../src/archive/index.js';
import { PATCH_MAX_BYTES } from '../../src/report/html/commits.js';
import { LiveReport } from '../../src/report/index.js';
import { lineageStep, reconstruct } from '../../src/report/viewer/files.js';
import { evogit, git, makeRepo, removedAfterAll, tempDir } from '../helpers/repo.js';
import { readReport } from './helpers.js';

const dirs = removedAfterAll();

/** A node on the archive from the working tree's files: what an agent's expansion commits. */
async function node(archive: Archive, repo: string, parent: string, files: Record<string, string>): Promise<string> {
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(repo, name), text);
  await git(repo, ['add', '--all']);
  const tree = (await git(repo, ['write-tree'])).trim();
  return (await archive.writeNode({ writer: 'a1', parents: [parent], tree, message: 'an edit', agent: 'a1', operator: 'manual' })).id;
}

describe('report collector and live report on a real archive', () => {
  it('leaves out an oversized patch by name, and keeps the report up to date until closed', async () => {
    const repo = await makeRepo({ 'big.txt': 'start\n', 'small.js': 'export const x = 1;\n' });
    dirs.push(repo);
    const init = await evogit(repo, ['init', '--sandbox', 'local', '--test', 'true']);
    expect(init.exitCode, init.stderr).toBe(0);
    const archive = await Archive.open({ repoDir: repo });
    const root = (await archive.root())!;
    const out = await tempDir();
    dirs.push(out);
    const file = path.join(out, 'report.html');
    const errors: string[] = [];
    const live = await LiveReport.start({ repoDir: repo, file, intervalMs: 50, onError: (m) => errors.push(m) });
    expect((await readReport(file)).nodes.map((n) => n.id)).toEqual([root]);

    const big = await node(archive, repo, root, { 'big.txt': 'x'.repeat(PATCH_MAX_BYTES + 1000) + '\n' });
    const small = await node(archive, repo, big, { 'small.js': 'export const x = 2;\n' });
    await archive.appendEvaluations('a1', [{ node: small, task: 't', outcome: 'pass', durationMs: 5, harness: 'local', writer: 'a1', time: new Date().toISOString(), log: 'ok 1 - it works' }]);
    live.poke();
    await live.close();
    expect(errors).toEqual([]);

    const data = await readReport(file);
    expect(data.nodes.map((n) => n.id)).toEqual([root, big, small]);
    const [, bigNode, smallNode] = data.nodes;
    expect(bigNode!.patch).toBe('');
    expect(bigNode!.patchOmitted).toEqual({ bytes: expect.any(Number), paths: ['big.txt'] });
    expect(bigNode!.patchOmitted!.bytes).toBeGreaterThan(PATCH_MAX_BYTES);
    expect(smallNode!.patch).toContain('+export const x = 2;');
    expect(smallNode!.evaluations).toEqual([expect.objectContaining({ task: 't', outcome: 'pass', log: 'ok 1 - it works' })]);

    // Against the root, the small file is rebuilt and the big one is named as not shown.
    const rootFile = (p: string) => (p in data.rootFiles ? data.rootFiles[p] : data.unreadable.includes(p) ? undefined : null);
    const { changes, unknown } = reconstruct([lineageStep(bigNode!), lineageStep(smallNode!)], rootFile);
    expect(changes).toEqual([{ path: 'small.js', before: 'export const x = 1;\n', after: 'export const x = 2;\n' }]);
    expect(unknown).toEqual(['big.txt']);
    await archive.close();
  });
});

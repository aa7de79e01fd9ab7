/**
 * The clean-up after local writers that died (src/loop/writers.ts), itself interrupted: what a
 * dead writer held must be released by the next clean-up, however far the last one got.
 */
import { spawn } from 'node:child_process';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Archive } from '../../src/archive/index.js';
import { cleanDeadWriters, ownerFile } from '../../src/loop/writers.js';
import { makeRepo, removedAfterAll } from '../helpers/repo.js';
import { heldClaimsDirs } from './helpers.js';

const dirs = removedAfterAll();

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

async function setUp(): Promise<{ repo: string; archive: Archive; worktrees: string }> {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  dirs.push(repo);
  const archive = await Archive.open({ repoDir: repo });
  const worktrees = path.join(repo, '.git', 'evogit', 'worktrees');
  await mkdir(worktrees, { recursive: true });
  return { repo, archive, worktrees };
}

describe('cleaning up after dead writers', () => {
  it('a clean-up that stops half-way is finished by the next one: the dead writer stays known until all it held is released', async () => {
    const { repo, archive, worktrees } = await setUp();
    // Writer "gone" registered, held its claims directory, and was SIGKILLed.
    await writeFile(ownerFile(worktrees, 'gone'), String(await deadPid()));
    archive.holdClaimsDir('gone');
    const events: unknown[] = [];
    // The clean-up stops where it reads the archive (here: no root yet, as a clean-up killed there).
    await expect(cleanDeadWriters(archive, worktrees, 'me', (e) => events.push(e))).rejects.toThrow(/root/);
    expect(await heldClaimsDirs(repo)).toEqual(['gone']);

    await archive.createRoot('HEAD');
    await cleanDeadWriters(archive, worktrees, 'me', (e) => events.push(e));
    expect(await heldClaimsDirs(repo)).toEqual([]);
    await expect(stat(ownerFile(worktrees, 'gone'))).rejects.toThrow(/ENOENT/);
  });

  it('a claims directory held with no writer registered beside it is released', async () => {
    const { repo, archive, worktrees } = await setUp();
    await archive.createRoot('HEAD');
    archive.holdClaimsDir('orphan');
    // A live writer's is kept.
    await writeFile(ownerFile(worktrees, 'alive'), String(process.pid));
    archive.holdClaimsDir('alive');
    await cleanDeadWriters(archive, worktrees, 'me', () => undefined);
    expect(await heldClaimsDirs(repo)).toEqual(['alive']);
  });
});

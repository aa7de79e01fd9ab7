import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { withLock } from './lock.js';

const dir = mkdtempSync(path.join(tmpdir(), 'evogit-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('withLock', () => {
  it('lets one holder in at a time', async () => {
    const file = path.join(dir, 'one.lock');
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        withLock(file, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 2));
          order.push(i);
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(order.sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect(existsSync(file)).toBe(false);
  });

  it('wakes a waiter when the holder lets go, not at its next look', async () => {
    const file = path.join(dir, 'wake.lock');
    let release!: () => void;
    const held = withLock(file, () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 20));
    // With no change event the waiter would look again only after a minute (past the test's timeout).
    const waiter = withLock(file, async () => 'in', { recheckMs: 60_000 });
    await new Promise((r) => setTimeout(r, 50));
    release();
    await held;
    expect(await waiter).toBe('in');
  }, 10_000);

  it('takes over the lock of a process that died holding it', async () => {
    const file = path.join(dir, 'dead.lock');
    // A pid that surely no longer runs: a child that has exited.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(file, String(gone));
    expect(await withLock(file, async () => 'taken', { recheckMs: 60_000 })).toBe('taken');
    expect(existsSync(file)).toBe(false);
  }, 10_000);
});

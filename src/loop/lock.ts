/**
 * A lock file shared by the agents of one machine (they share .git). It makes "check the
 * budget, then claim a slot" atomic, so N agents on one repo stop at the budget exactly.
 *
 * A lock whose owner died is taken over — carefully: two waiters that both saw the same dead
 * owner must not both delete the file (the second would delete the first one's fresh lock and
 * both would hold it). So a takeover happens only under a second, short-lived "breaker" file,
 * and the waiter re-reads the lock under it: only a file that still names the dead owner is
 * removed. A breaker is held for a few milliseconds; one older than BREAKER_STALE_MS belongs
 * to a process killed mid-takeover and is removed.
 *
 * Beside it, what agents of one machine need to know of each other's processes: whether one
 * is alive, and ending what a dead one left running.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, unlinkSync, watch, writeSync, type FSWatcher } from 'node:fs';
import path from 'node:path';

const BREAKER_STALE_MS = 10_000;

/**
 * Is the process running? A zombie (killed, not yet reaped by its parent — or never, under an
 * init that does not reap) answers kill(0) but is dead.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (e) {
    // Gone between the two looks.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * End (SIGKILL) every process of this user whose working directory is `dir` or below it, and
 * say which. For what a dead agent left in its worktree: its agent CLI runs in a process group
 * of its own (so it ends with the agent's step, not with the agent), and an agent killed with
 * SIGKILL mid-step leaves that group running. Linux only (/proc); elsewhere nothing is found.
 */
export function killProcessesIn(dir: string): number[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  const killed: number[] = [];
  for (const pid of pids) {
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
      killed.push(Number(pid));
    } catch {
      // Gone meanwhile, or not ours.
    }
  }
  return killed;
}

/**
 * Create `file` holding `content` unless it exists. Synchronous: three system calls of a few
 * microseconds, taken twice a step by every agent (a thread-pool round trip each cost more).
 */
function createExclusive(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Remove `file` if it is there. */
function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

function ownerOf(text: string): number | null {
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Remove `file` if it still names the dead process `dead`; serialised with other breakers. */
async function breakStale(file: string, dead: number): Promise<void> {
  const breaker = `${file}.breaker`;
  if (!createExclusive(breaker, String(process.pid))) {
    const age = await stat(breaker).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > BREAKER_STALE_MS) await rm(breaker, { force: true });
    return;
  }
  try {
    const now = await readFile(file, 'utf8').catch(() => null);
    if (now !== null && ownerOf(now) === dead) await rm(file, { force: true });
  } finally {
    await rm(breaker, { force: true });
  }
}

/**
 * Resolves when `file` may have been removed (an inotify event for its name in its directory),
 * or after `fallbackMs` at the latest (a filesystem without change events). Watching starts
 * before the caller looks at the file again, so a release in between is not missed.
 */
function watchRemoval(file: string, fallbackMs: number): { removed: Promise<void>; close(): void } {
  let done!: () => void;
  const removed = new Promise<void>((resolve) => (done = resolve));
  let watcher: FSWatcher | null = null;
  try {
    const name = path.basename(file);
    watcher = watch(path.dirname(file), { persistent: false }, (_event, changed) => {
      if (changed === null || changed === name) done();
    });
    watcher.on('error', () => done());
  } catch {
    // No change events here: the timer alone.
  }
  const timer = setTimeout(done, fallbackMs);
  return {
    removed,
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}

export async function withLock<T>(file: string, fn: () => Promise<T>, opts: { timeoutMs?: number; /** Longest wait between looks when no change event comes. */ recheckMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  for (;;) {
    if (createExclusive(file, String(process.pid))) break;
    // Waiters wake when the holder removes the file (a step holds it for a few milliseconds;
    // polling every 10–30 ms made agents of a busy machine wait longer than the work itself).
    const release = watchRemoval(file, opts.recheckMs ?? 100 + Math.random() * 50);
    try {
      if (createExclusive(file, String(process.pid))) break;
      if (await lockHeldBy(file, deadline)) await release.removed;
    } finally {
      release.close();
    }
  }
  try {
    return await fn();
  } finally {
    // Only a dead owner's lock is ever taken over, so this file is still ours.
    removeFile(file);
  }
}

/** Whether a live process holds `file` (then wait for its release); false when it was released or a dead owner's lock was broken (try again now). */
async function lockHeldBy(file: string, deadline: number): Promise<boolean> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return false; // released meanwhile
  const owner = ownerOf(text);
  // An empty file is a lock whose owner died between creating and writing it (or is writing now).
  if (owner === null) {
    const age = await stat(file).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > BREAKER_STALE_MS) await breakStaleEmpty(file);
  } else if (!processAlive(owner)) {
    await breakStale(file, owner);
    return false;
  }
  if (Date.now() > deadline) throw new Error(`lock ${file} is held by process ${owner ?? '?'} for too long`);
  return true;
}

async function breakStaleEmpty(file: string): Promise<void> {
  const breaker = `${file}.breaker`;
  if (!createExclusive(breaker, String(process.pid))) return;
  try {
    const now = await readFile(file, 'utf8').catch(() => null);
    if (now !== null && ownerOf(now) === null) await rm(file, { force: true });
  } finally {
    await rm(breaker, { force: true });
  }
}

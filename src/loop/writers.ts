/** The writers running on this machine (a pid file each), and the clean-up after those that died. */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { thisHost, type Archive, type Claim } from '../archive/index.js';
import { git } from '../git/index.js';
import type { EventSink } from './events.js';
import { killProcessesIn, processAlive } from './lock.js';
import { realpathOr, removeWorktree } from './worktree.js';

export const ownerFile = (worktreesDir: string, writer: string) => path.join(worktreesDir, `${writer}.pid`);

/** The writers registered in this repository (the agents of a run here): a fetch never takes the remote's copy of their refs. */
export async function localWriters(archive: Archive): Promise<string[]> {
  const entries = await readdir(path.join(archive.gitCommonDir, 'evogit', 'worktrees')).catch(() => [] as string[]);
  return entries.filter((e) => e.endsWith('.pid')).map((e) => e.slice(0, -4));
}

export async function readOwner(worktreesDir: string, writer: string): Promise<number | null> {
  const text = await readFile(ownerFile(worktreesDir, writer), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/**
 * Clean up after local writers whose process is gone (called under the budget lock, with this
 * writer already registered): their worktree, their claims, the lock files git left on their
 * refs when killed mid-update (a stale refs/notes/evogit/<w>.lock would fail every later
 * evaluation of that writer), and their temporary refs. A writer's pid file goes last, so a
 * clean-up that is itself killed is finished by the next one; a claims directory still held
 * with no pid file beside it (a writer registers before it holds one) is a dead writer's too.
 */
export async function cleanDeadWriters(archive: Archive, worktreesDir: string, me: string, emit: EventSink): Promise<void> {
  const entries = await readdir(worktreesDir);
  const writers = new Set<string>([me]);
  for (const e of entries) writers.add(e.endsWith('.pid') ? e.slice(0, -4) : e);
  for (const w of archive.heldClaimsDirs()) writers.add(w);
  const dead: string[] = [];
  for (const w of writers) {
    const owner = w === me ? null : await readOwner(worktreesDir, w);
    if (owner !== null && processAlive(owner)) continue;
    dead.push(w);
    // What its agent CLI left running there (a SIGKILLed agent does not end that group).
    const leftovers = killProcessesIn(realpathOr(path.join(worktreesDir, w)));
    if (leftovers.length) emit({ type: 'warning', writer: me, message: `ended ${leftovers.length} process(es) left running in the worktree of stopped writer ${w}` });
    await removeWorktree(archive.repoDir, path.join(worktreesDir, w));
  }
  const deadSet = new Set(dead);
  // Also any claim written on this machine by a process that is gone: a writer whose worktree
  // was already cleaned up can still leave one (a write the killed agent had just handed to
  // its long-lived git process lands a moment after it died).
  const here = thisHost();
  const orphaned = (c: Claim) => c.host === here && typeof c.pid === 'number' && c.pid !== process.pid && !processAlive(c.pid);
  const claims = (await archive.load()).claims.filter((c) => c.ref && (deadSet.has(c.writer) || orphaned(c)));
  for (const c of claims) await archive.releaseClaim(c.ref as string);
  const gitDir = archive.gitDir;
  for (const w of dead) {
    for (const dir of [path.join(gitDir, 'refs', 'heads', archive.prefix, w), path.join(gitDir, 'refs', 'evogit', 'claims', w)]) {
      for (const f of await readdir(dir).catch(() => [] as string[])) if (f.endsWith('.lock')) await rm(path.join(dir, f), { force: true });
    }
    await rm(path.join(gitDir, 'refs', 'notes', 'evogit', `${w}.lock`), { force: true });
    if (w !== me) {
      archive.releaseClaimsDir(w);
      await rm(ownerFile(worktreesDir, w), { force: true });
    }
  }
  const tmp = (await git(archive.repoDir, ['for-each-ref', '--format=%(refname)', 'refs/evogit/tmp/'])).stdout.split('\n').filter(Boolean);
  for (const ref of tmp) {
    const m = /^refs\/evogit\/tmp\/notes-(.+)-(\d+)-[0-9a-f]+$/.exec(ref);
    if (m && !processAlive(Number(m[2]))) await git(archive.repoDir, ['update-ref', '-d', ref], { reject: false });
  }
  if (claims.length || dead.length > 1) emit({ type: 'warning', writer: me, message: `cleaned up after stopped writers ${dead.filter((w) => w !== me).join(', ') || me}: ${claims.length} stale claims released` });
}

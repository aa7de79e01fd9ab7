/**
 * Claims: short-lived "I am working on this node" refs (refs/evogit/claims/<writer>/<id>, a
 * blob holding one Claim), so agents spread out and the budget is not overrun; and the
 * machine a claim names (thisHost), so the next agent here can release the claims of its
 * processes that died.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { InfraError } from '../errors/index.js';
import { RefFiles, type Git } from '../git/index.js';
import { checkClaimRef, checkWriter } from './git-calls.js';
import { RefLayout, WRITER_RE } from './refs.js';
import type { Claim } from './types.js';

export async function putClaim(git: Git, layout: RefLayout, claim: Claim): Promise<string> {
  checkWriter(claim.writer);
  const blob = await git.writeObject('blob', JSON.stringify({ host: thisHost(), pid: process.pid, ...claim }));
  for (let attempt = 0; ; attempt++) {
    const ref = layout.claimRef(claim.writer, `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`);
    // Create only: a name taken (by chance) is never overwritten.
    const r = await git.createRef(ref, blob);
    if (r.ok) return ref;
    if (attempt >= 20) throw new InfraError('E_REF_BUSY', `could not write a claim for writer ${claim.writer}: ${r.stderr.trim()}`, 'Check that .git is writable and not full.');
  }
}

export async function releaseClaim(git: Git, ref: string): Promise<void> {
  checkClaimRef(ref);
  const r = await git.updateRefs([[`delete ${ref}`, '']]);
  if (!r.ok) throw new InfraError('E_REF_BUSY', `could not release the claim ${ref}: ${r.stderr.trim()}`, 'Check that .git is writable; a stale claim expires on its own.');
}

/**
 * Keep the writer's claims directory in place while its loop runs. Each step writes a claim
 * and releases it; releasing the last one makes git remove the emptied directory, and the
 * next claim makes it again: a mkdir and an rmdir every step (about 1 ms on ext4). An empty
 * `.keep` directory inside it stops that: git skips names starting with "." and no ref can
 * have one, so nothing that reads refs sees it. Only where refs are files (not reftable).
 */
export function holdClaimsDir(gitDir: string, layout: RefLayout, writer: string): void {
  checkWriter(writer);
  const common = RefFiles.commonDirOf(gitDir);
  if (RefFiles.supported(common)) mkdirSync(join(common, layout.claimsKeepDir(writer)), { recursive: true });
}

/** The writers whose claims directory is held here (holdClaimsDir), alive or not. */
export function heldClaimsDirs(gitDir: string, layout: RefLayout): string[] {
  const common = RefFiles.commonDirOf(gitDir);
  let writers: string[];
  try {
    writers = readdirSync(join(common, RefLayout.claimsDir));
  } catch {
    return [];
  }
  return writers.filter((w) => WRITER_RE.test(w) && existsSync(join(common, layout.claimsKeepDir(w))));
}

/** Undo holdClaimsDir (also for a writer that died holding it): the directory goes once empty, as git would leave it. */
export function releaseClaimsDir(gitDir: string, layout: RefLayout, writer: string): void {
  if (!WRITER_RE.test(writer)) return;
  const keep = join(RefFiles.commonDirOf(gitDir), layout.claimsKeepDir(writer));
  for (const dir of [keep, dirname(keep)]) {
    try {
      rmdirSync(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTEMPTY' || code === 'EEXIST') return;
      throw e;
    }
  }
}

let hostId: string | null = null;
/**
 * This machine, as claims name it: the host name and, on Linux, the kernel's boot id (two
 * machines or containers may share a name, never a boot id; containers on one kernel share it,
 * as they share the processes a pid names).
 */
export function thisHost(): string {
  if (hostId === null) {
    let boot = '';
    try {
      boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().slice(0, 8);
    } catch {
      // Not Linux: the host name alone.
      boot = '';
    }
    hostId = boot ? `${hostname()}#${boot}` : hostname();
  }
  return hostId;
}

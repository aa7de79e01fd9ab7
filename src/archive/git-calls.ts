/**
 * The git calls and checks every part of the archive's write side shares: list refs, resolve a
 * revision, write a signed commit (trust: signed), and refuse a writer or claim name that
 * cannot be one.
 */
import { EvogitError } from '../errors/index.js';
import { FOR_EACH_REF_FORMAT, parseForEachRef, type Git } from '../git/index.js';
import { RefLayout, WRITER_RE } from './refs.js';

export async function listRefs(git: Git, ...prefixes: string[]): Promise<{ ref: string; sha: string }[]> {
  return parseForEachRef(await git.out(['for-each-ref', `--format=${FOR_EACH_REF_FORMAT}`, ...prefixes]));
}

/** The full SHA a revision names, or null when it names nothing. */
export async function revParse(git: Git, rev: string): Promise<string | null> {
  const r = await git.run(['rev-parse', '--verify', '--quiet', '--end-of-options', rev], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : null;
}

/** `git commit-tree -S`: the commit signed with user.signingkey (gpg.format says SSH or GPG). */
export async function signedCommit(git: Git, tree: string, parents: readonly string[], message: string, identity?: { name: string; email: string }): Promise<string> {
  const env: Record<string, string> = identity ? { GIT_AUTHOR_NAME: identity.name, GIT_AUTHOR_EMAIL: identity.email, GIT_COMMITTER_NAME: identity.name, GIT_COMMITTER_EMAIL: identity.email } : {};
  const r = await git.run(['commit-tree', '-S', ...parents.flatMap((p) => ['-p', p]), '-F', '-', tree], { input: message, env, reject: false });
  if (r.exitCode !== 0) {
    throw new EvogitError('E_SIGN', `git could not sign a commit (trust: signed): ${lastLine(r.stderr)}`, 'Set a signing key: `git config user.signingkey <key>` (and `git config gpg.format ssh` for an SSH key), or use trust: all.');
  }
  return r.stdout.trim();
}

export function checkWriter(writer: string): void {
  if (!WRITER_RE.test(writer)) {
    throw new EvogitError('E_BAD_WRITER', `writer name "${writer}" is not usable in a ref`, 'Use letters, digits, ".", "_" and "-", starting with a letter or digit (e.g. "a1").');
  }
}

export function checkClaimRef(ref: string): void {
  if (!ref.startsWith(RefLayout.claimsDir)) throw new EvogitError('E_NOT_A_CLAIM', `${ref} is not a claim ref`, `Claims live under ${RefLayout.claimsDir}.`);
}

/** The last line of git's stderr: what went wrong, for an error message. */
export function lastLine(s: string): string {
  return s.trim().split('\n').slice(-1)[0] ?? '';
}

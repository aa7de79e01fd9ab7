/**
 * Commit files on top of HEAD in one step that either happens whole or not at all: the
 * commit is built without the index or the working tree (a temporary index), and HEAD's
 * branch moves together with any other refs in one ref transaction. Until that transaction
 * the repository is as it was (new objects are unreachable, invisible); after it, the caller
 * brings the working tree and the index up to the commit (checkOutFiles), a step that can be
 * redone at any time from the commit.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EvogitError } from '../errors/index.js';
import { Git } from './index.js';
import { zeroIdLike } from './parse.js';

export interface FileToCommit {
  /** Relative to the repository's top, with `/`. */
  path: string;
  content: string | Buffer;
  executable?: boolean;
}

export interface CommittedFiles {
  commit: string;
  /** HEAD's commit before, or null on an unborn branch (the commit is then the first). */
  parent: string | null;
}

/**
 * Commit `files` over HEAD's tree (or as the first commit of an unborn branch) and, in the
 * same ref transaction, move HEAD's branch from `head` (HEAD's commit as the caller read it,
 * null when unborn) and set each `also` ref to the new commit (`old`: its expected value, null
 * when it must not exist yet). If HEAD moved since the caller read it, nothing changes.
 */
export async function commitFilesOnHead(repoDir: string, req: { head: string | null; files: FileToCommit[]; message: string; also?: { ref: string; old: string | null }[] }): Promise<CommittedFiles> {
  const git = new Git(repoDir);
  const { files, message, also = [] } = req;
  const parent = req.head;
  const index = path.join(tmpdir(), `evogit-index-${process.pid}-${randomBytes(6).toString('hex')}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    await git.run(parent ? ['read-tree', parent] : ['read-tree', '--empty'], { env });
    for (const f of files) {
      const blob = (await git.out(['hash-object', '-w', '--stdin'], { input: f.content })).trim();
      await git.run(['update-index', '--add', '--cacheinfo', `${f.executable ? '100755' : '100644'},${blob},${f.path}`], { env });
    }
    const tree = (await git.out(['write-tree'], { env })).trim();
    const commit = (await git.out(['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-F', '-'], { input: message })).trim();
    const zero = zeroIdLike(commit);
    const lines = [['update HEAD', commit, parent ?? zero], ...also.map((a) => [`update ${a.ref}`, commit, a.old ?? zero])];
    const moved = await git.run(['update-ref', '-m', message.split('\n')[0] ?? 'evogit', '--stdin', '-z'], { input: lines.map((l) => l.join('\0') + '\0').join(''), reject: false });
    if (moved.exitCode !== 0) {
      // Nothing moved (one transaction): HEAD or a ref changed meanwhile, or a git process left a lock.
      throw new EvogitError('E_REF_BUSY', `could not commit: ${moved.stderr.trim().split('\n').at(-1) ?? `git update-ref exited with ${moved.exitCode}`}`, 'Nothing was changed. Run the command again; if git names a .lock file and no git command is running, remove that file.');
    }
    return { commit, parent };
  } finally {
    await rm(index, { force: true });
  }
}

/**
 * Bring `paths` of the working tree and the index to what `commit` has (git checkout COMMIT --
 * PATHS): after commitFilesOnHead, or to finish one that was interrupted after its transaction.
 * Other changes in the index and the working tree are left as they are.
 */
export async function checkOutFiles(repoDir: string, commit: string, paths: string[]): Promise<void> {
  if (paths.length) await new Git(repoDir).run(['checkout', commit, '--', ...paths]);
}

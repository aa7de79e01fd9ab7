/**
 * Patch minimisation: drop the hunks a node does not need to keep its score, by delta
 * debugging (ddmin) over the hunks of `git diff root node`. Each candidate is built without
 * touching any worktree: a temporary index (GIT_INDEX_FILE) is read from the root, the chosen
 * hunks are applied with `git apply --cached`, then write-tree + commit-tree. The caller's
 * `validate` runs the sandbox on the candidate commit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git } from './git.js';

export interface PatchUnit {
  /** The file's `diff --git` header lines. */
  header: string;
  /** One `@@` hunk, or '' when the file's change is indivisible (new, deleted, binary, mode-only). */
  hunk: string;
  path: string;
}

/** Split `git diff -U0 --binary` output into units: one per hunk, one per indivisible file change. Pure. */
export function splitPatch(patch: string): PatchUnit[] {
  const units: PatchUnit[] = [];
  const files = patch.split(/^(?=diff --git )/m).filter((f) => f.startsWith('diff --git '));
  for (const file of files) {
    const firstHunk = file.search(/^@@ /m);
    const header = firstHunk === -1 ? file : file.slice(0, firstHunk);
    const path = /^\+\+\+ b\/(.*)$/m.exec(header)?.[1] ?? /^diff --git a\/(.*?) b\//.exec(header)?.[1] ?? '';
    const indivisible = firstHunk === -1 || /^(new file|deleted file|GIT binary patch|Binary files)/m.test(file);
    if (indivisible) {
      units.push({ header: file, hunk: '', path });
      continue;
    }
    for (const hunk of file.slice(firstHunk).split(/^(?=@@ )/m)) units.push({ header, hunk, path });
  }
  return units;
}

/** The patch text of a subset of units, files in their original order. Pure. */
export function joinPatch(units: PatchUnit[]): string {
  let out = '';
  let lastHeader: string | undefined;
  for (const u of units) {
    if (u.header !== lastHeader) out += u.header;
    out += u.hunk;
    lastHeader = u.header;
  }
  return out;
}

/** Zeller's ddmin: a 1-minimal subset of `units` for which `test` holds (given that it holds for all). */
export async function ddmin<T>(units: T[], test: (subset: T[]) => Promise<boolean>): Promise<T[]> {
  let c = units;
  let n = 2;
  while (c.length >= 2) {
    const size = Math.ceil(c.length / n);
    const chunks: T[][] = [];
    for (let i = 0; i < c.length; i += size) chunks.push(c.slice(i, i + size));
    let reduced = false;
    for (const chunk of chunks) {
      if (await test(chunk)) {
        c = chunk;
        n = 2;
        reduced = true;
        break;
      }
    }
    if (!reduced && chunks.length > 2) {
      for (let i = 0; i < chunks.length; i++) {
        const complement = chunks.filter((_, j) => j !== i).flat();
        if (await test(complement)) {
          c = complement;
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (!reduced) {
      if (n >= c.length) break;
      n = Math.min(c.length, 2 * n);
    }
  }
  return c;
}

export interface MinimizeOptions {
  repoDir: string;
  /** Full SHA of the node to minimise. */
  node: string;
  /** Full SHA of the base the patch is taken against (the archive root). */
  root: string;
  /** Does this commit keep the score? The caller runs the sandbox. */
  validate: (commitSha: string) => Promise<boolean>;
}

export interface MinimizeResult {
  /** The minimal commit (a child of the root), or the node itself when nothing could be dropped. */
  commit: string;
  minimized: boolean;
  kept: number;
  total: number;
  /** Calls of `validate`. */
  validations: number;
  /** Paths the minimal commit still changes. */
  paths: string[];
}

const IDENTITY = {
  GIT_AUTHOR_NAME: 'evogit',
  GIT_AUTHOR_EMAIL: 'evogit@localhost',
  GIT_COMMITTER_NAME: 'evogit',
  GIT_COMMITTER_EMAIL: 'evogit@localhost',
};

export async function minimizePatch(opts: MinimizeOptions): Promise<MinimizeResult> {
  const { repoDir, node, root } = opts;
  const patch = (await git(repoDir, ['diff', '--no-color', '--no-ext-diff', '--binary', '--full-index', '--no-renames', '-U0', root, node])).stdout;
  const units = splitPatch(patch);
  const unchanged = { commit: node, minimized: false, kept: units.length, total: units.length, validations: 0, paths: [...new Set(units.map((u) => u.path))] };
  if (units.length < 2) return unchanged;

  const tmp = await mkdtemp(join(tmpdir(), 'evogit-minimize-'));
  const [time = '', subject = ''] = (await git(repoDir, ['log', '-1', '--format=%ct%n%s', node])).stdout.trim().split('\n');
  // Dated as the node: the same hunks make the same commit, so a PR interrupted after its push resumes (no divergent branch).
  const date = `${time} +0000`;
  const built = new Map<string, string | null>();
  let validations = 0;
  let seq = 0;

  /** Build the commit for a subset; null when the hunks do not apply without the dropped ones. */
  async function build(subset: PatchUnit[]): Promise<string | null> {
    const key = subset.map((u) => units.indexOf(u)).join(',');
    if (built.has(key)) return built.get(key)!;
    const env = { ...IDENTITY, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date, GIT_INDEX_FILE: join(tmp, `index-${seq++}`) };
    await git(repoDir, ['read-tree', root], { env });
    const applied = await git(repoDir, ['apply', '--cached', '--unidiff-zero', '--whitespace=nowarn', '-'], { env, input: joinPatch(subset), reject: false });
    let commit: string | null = null;
    if (applied.exitCode === 0) {
      const tree = (await git(repoDir, ['write-tree'], { env })).stdout.trim();
      const message = `${subject} (minimal)\n\nKept ${subset.length} of ${units.length} hunks of ${node}.\n\nEvogit-Operator: manual\nEvogit-Minimized-From: ${node}\n`;
      commit = (await git(repoDir, ['commit-tree', tree, '-p', root, '-F', '-'], { env, input: message })).stdout.trim();
    }
    built.set(key, commit);
    return commit;
  }

  const verdicts = new Map<string, boolean>();
  const test = async (subset: PatchUnit[]): Promise<boolean> => {
    const commit = await build(subset);
    if (!commit) return false;
    if (!verdicts.has(commit)) {
      validations++;
      verdicts.set(commit, await opts.validate(commit));
    }
    return verdicts.get(commit)!;
  };

  try {
    const minimal = await ddmin(units, test);
    if (minimal.length === units.length) return { ...unchanged, validations };
    const commit = await build(minimal);
    if (!commit) throw new Error('the minimal hunk set no longer applies (internal error)');
    return { commit, minimized: true, kept: minimal.length, total: units.length, validations, paths: [...new Set(minimal.map((u) => u.path))] };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

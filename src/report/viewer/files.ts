/**
 * A node's diff against the root, rebuilt in the page: the report carries each node's patch
 * against its first parent and the root's text of every touched file, so a node's files are
 * the root's with the patches of its first-parent lineage applied in order (jsdiff), and its
 * diff against the root is computed from those texts. No DOM: tests run it against git.
 */
import { applyPatch, createTwoFilesPatch, parsePatch, type StructuredPatch } from 'diff';
import type { ReportNode } from '../html/data.js';

export interface FileChange {
  path: string;
  /** Null when the file does not exist on that side. */
  before: string | null;
  after: string | null;
}

/** One file's part of a git patch. */
export interface FilePatch {
  /** Paths without a/ b/; null for /dev/null. */
  oldPath: string | null;
  newPath: string | null;
  /** Binary, or only a mode change: no text to apply. */
  textless: boolean;
  patch: StructuredPatch | null;
}

const stripPrefix = (name: string | undefined): string | null => (name === undefined || name === '/dev/null' ? null : name.replace(/^[ab]\//, ''));

/** Split a `git diff` into files (jsdiff alone would fold a binary file's header into the next file). */
export function splitGitPatch(patch: string): FilePatch[] {
  const sections = patch.split(/^(?=diff --git )/m).filter((s) => s.startsWith('diff --git '));
  return sections.map((section) => {
    const parsed = parsePatch(section)[0];
    if (!parsed || parsed.hunks.length === 0 || (parsed.oldFileName === undefined && parsed.newFileName === undefined)) {
      const m = /^diff --git a\/(.+) b\/(.+)$/m.exec(section);
      const path = m ? m[2]! : null;
      const created = /^new file mode/m.test(section);
      const deleted = /^deleted file mode/m.test(section);
      const binary = /^Binary files /m.test(section);
      // An empty file created or deleted has no hunks either: it is still text.
      return { oldPath: created ? null : path, newPath: deleted ? null : path, textless: binary || (!created && !deleted), patch: binary ? null : parsed ?? null };
    }
    return { oldPath: stripPrefix(parsed.oldFileName), newPath: stripPrefix(parsed.newFileName), textless: false, patch: parsed };
  });
}

/** A lineage step: the node's patch split by file, or, for a patch left out, every path it changed as unknown. */
export function lineageStep(node: Pick<ReportNode, 'patch' | 'patchOmitted'>): FilePatch[] {
  if (!node.patchOmitted) return splitGitPatch(node.patch);
  return node.patchOmitted.paths.map((path) => ({ oldPath: path, newPath: path, textless: true, patch: null }));
}

export interface Reconstruction {
  changes: FileChange[];
  /** Paths whose text could not be rebuilt (binary, too large, or a patch that did not apply). */
  unknown: string[];
}

/**
 * The files a lineage changed, from the root's texts and each step's patch (root first).
 * `rootFile(path)` is the root's text, null when absent there, undefined when not carried.
 */
export function reconstruct(steps: FilePatch[][], rootFile: (path: string) => string | null | undefined): Reconstruction {
  const current = new Map<string, string | null>();
  const unknown = new Set<string>();
  const textOf = (path: string): string | null | undefined => (current.has(path) ? current.get(path)! : rootFile(path));
  for (const files of steps) {
    for (const f of files) {
      const path = f.newPath ?? f.oldPath;
      if (path === null || unknown.has(path)) continue;
      if (f.textless) {
        if (f.patch === null) unknown.add(path);
        continue;
      }
      if (f.newPath === null) {
        current.set(path, null);
        continue;
      }
      const before = f.oldPath === null ? '' : textOf(f.oldPath);
      const after = before === undefined || before === null || f.patch === null ? false : applyPatch(before, f.patch, { autoConvertLineEndings: false });
      if (after === false) unknown.add(path);
      else current.set(path, after);
    }
  }
  const changes: FileChange[] = [];
  for (const [path, after] of [...current].sort(([a], [b]) => a.localeCompare(b))) {
    if (unknown.has(path)) continue;
    const before = rootFile(path);
    if (before === undefined) {
      unknown.add(path);
      continue;
    }
    if (before !== after) changes.push({ path, before, after });
  }
  return { changes, unknown: [...unknown].sort() };
}

/** A unified diff of the changes, in the shape git prints, for the diff renderer. */
export function unifiedDiff(changes: FileChange[]): string {
  return changes
    .map((c) => {
      const body = createTwoFilesPatch(c.before === null ? '/dev/null' : `a/${c.path}`, c.after === null ? '/dev/null' : `b/${c.path}`, c.before ?? '', c.after ?? '', undefined, undefined, { context: 3 });
      // jsdiff opens with a separator line ("====…"); git opens each file with its `diff --git` line.
      const hunks = body.slice(body.indexOf('\n--- ') + 1);
      const mode = c.before === null ? 'new file mode 100644\n' : c.after === null ? 'deleted file mode 100644\n' : '';
      return `diff --git a/${c.path} b/${c.path}\n${mode}${hunks}`;
    })
    .join('');
}

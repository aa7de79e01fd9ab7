/**
 * What the coder shows the model about the repository: a compact map (tracked files and
 * sizes) and the files the failing logs and the goal point at, within a character budget.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { trackedFiles } from '../../git/reads.js';

export interface RepoFile {
  path: string;
  size: number;
}

export interface ContextFile {
  path: string;
  content: string;
  /** Cut at the budget: the model sees only the head. */
  truncated: boolean;
  protected: boolean;
}

export interface RepoContext {
  map: RepoFile[];
  /** Tracked files in all (the map may be cut). */
  total: number;
  files: ContextFile[];
}

const PATHLIKE = /(?:[A-Za-z]:)?[\w@.+-]*(?:[/\\][\w@.+-]+)*\.[A-Za-z][A-Za-z0-9]{0,7}/g;

/**
 * Tracked files named in the texts (stack traces, compiler errors, the goal), most
 * mentioned first, ties by first mention. Matches absolute paths from a container by suffix.
 */
export function mentionedFiles(texts: readonly string[], tracked: readonly string[]): string[] {
  const set = new Set(tracked);
  const byBase = new Map<string, string[]>();
  for (const t of tracked) {
    const base = t.split('/').pop()!;
    byBase.set(base, [...(byBase.get(base) ?? []), t]);
  }
  const score = new Map<string, { count: number; first: number }>();
  let order = 0;
  for (const text of texts) {
    for (const m of text.matchAll(PATHLIKE)) {
      const token = m[0].replace(/\\/g, '/').replace(/^file:\/\//, '').replace(/^\.\//, '');
      let hit: string | undefined;
      if (set.has(token)) hit = token;
      else {
        const base = token.split('/').pop()!;
        const candidates = byBase.get(base) ?? [];
        // The longest tracked path that the token ends with: /app/src/a.js → src/a.js.
        hit = candidates.filter((c) => token.endsWith('/' + c) || token === c).sort((a, b) => b.length - a.length)[0];
        // A bare file name (`calc.js:12`) counts when only one tracked file has it.
        if (!hit && !token.includes('/') && candidates.length === 1) hit = candidates[0];
      }
      if (!hit) continue;
      const s = score.get(hit) ?? { count: 0, first: order++ };
      s.count++;
      score.set(hit, s);
    }
  }
  return [...score.entries()].sort((a, b) => b[1].count - a[1].count || a[1].first - b[1].first).map(([p]) => p);
}

const BINARY = /\.(png|jpe?g|gif|ico|pdf|zip|gz|tgz|wasm|woff2?|ttf|eot|mp[34]|lock)$/i;

export interface BuildContextOptions {
  worktree: string;
  texts: string[];
  isProtected: (rel: string) => boolean;
  /** Characters of file content to include at most. */
  charBudget: number;
  /** Most map entries to list. */
  mapLimit?: number;
}

export async function buildRepoContext(options: BuildContextOptions): Promise<RepoContext> {
  const tracked = await trackedFiles(options.worktree);
  const map: RepoFile[] = [];
  for (const p of tracked) {
    const s = await stat(path.join(options.worktree, p)).catch(() => null);
    if (s?.isFile()) map.push({ path: p, size: s.size });
  }
  const sizes = new Map(map.map((f) => [f.path, f.size]));
  const wanted = mentionedFiles(options.texts, tracked).filter((p) => sizes.has(p) && !BINARY.test(p));
  if (!wanted.length) {
    // Nothing named: offer the smallest editable text files, so a small repo is seen whole.
    wanted.push(...map.filter((f) => !options.isProtected(f.path) && !BINARY.test(f.path)).sort((a, b) => a.size - b.size).map((f) => f.path));
  }
  const files: ContextFile[] = [];
  let left = options.charBudget;
  for (const p of wanted) {
    if (left <= 200) break;
    const content = await readFile(path.join(options.worktree, p), 'utf8');
    if (content.includes('\0')) continue;
    const truncated = content.length > left;
    files.push({ path: p, content: truncated ? content.slice(0, left) : content, truncated, protected: options.isProtected(p) });
    left -= Math.min(content.length, left);
  }
  return { map: map.slice(0, options.mapLimit ?? 400), total: map.length, files };
}

export function renderMap(map: readonly RepoFile[], total: number): string {
  const lines = map.map((f) => `${f.path} (${f.size} B)`);
  if (total > map.length) lines.push(`… and ${total - map.length} more files`);
  return lines.join('\n');
}

export function renderFiles(files: readonly ContextFile[]): string {
  return files
    .map((f) => {
      const note = [f.protected ? 'read-only: protected, do not edit' : '', f.truncated ? 'truncated' : ''].filter(Boolean).join(', ');
      return `${f.path}${note ? ` (${note})` : ''}\n\`\`\`\n${f.content}${f.content.endsWith('\n') ? '' : '\n'}\`\`\``;
    })
    .join('\n\n');
}

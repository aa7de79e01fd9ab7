/**
 * Where bench/repair finds the public repositories its corpus is built from. Nothing of them is
 * committed here: the manifests name a repository and a commit, and the bench reads the files
 * out of a local git snapshot (a clone or a bare repository) at bench time.
 *
 * A snapshot of `owner/name` is looked up, in order, as given by `--source owner/name=PATH`,
 * then under the snapshot directory (`--sources DIR` or EVOGIT_REPAIR_SOURCES) as
 * `DIR/owner+name/repo`, `DIR/owner+name`, `DIR/owner/name` or `DIR/name` (with or without `.git`).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../../src/proc/index.js';

export const SOURCES_ENV = 'EVOGIT_REPAIR_SOURCES';

/** What the corpus needs of one upstream repository. */
export interface Need {
  repo: string;
  commits: string[];
}

export interface SourceOptions {
  /** The snapshot directory (`--sources`, else EVOGIT_REPAIR_SOURCES). */
  dir?: string;
  /** `owner/name` → a git directory or clone, taking precedence over `dir`. */
  explicit?: Record<string, string>;
}

/** A located snapshot: read files of any of its commits. */
export interface Snapshot {
  repo: string;
  gitDir: string;
  /** The content of `file` at `commit` (`commit^` for the buggy parent), or null when absent there. */
  show(commit: string, file: string): Promise<string | null>;
  /** The files under `paths` at `commit`, written under `dest`. */
  extract(commit: string, paths: string[], dest: string): Promise<void>;
}

export class MissingSourcesError extends Error {
  constructor(
    readonly missing: { repo: string; commits: string[]; why: string }[],
    dir: string | undefined,
  ) {
    const lines = [
      `bench/repair builds its corpus from public repositories that are not committed here; ${missing.length} ${missing.length === 1 ? 'is' : 'are'} missing:`,
      ...missing.map((m) => `  ${m.repo} (commit${m.commits.length === 1 ? '' : 's'} ${m.commits.map((c) => c.slice(0, 12)).join(', ')}): ${m.why}`),
      '',
      `Get each one into one directory, e.g. DIR=${dir ?? '~/evogit-repair-sources'}:`,
      ...missing.map((m) => `  git clone --bare https://github.com/${m.repo} "$DIR/${m.repo.replace('/', '+')}"`),
      `then pass --sources DIR (or set ${SOURCES_ENV}=DIR), or one at a time with --source OWNER/NAME=PATH.`,
      `In an evogit session, the session's fetch tool gets each one (${missing.map((m) => `fetch github:${m.repo}`).join(', ')}) into /work/.mirror, which is read when no directory is given.`,
    ];
    super(lines.join('\n'));
    this.name = 'MissingSourcesError';
  }
}

async function git(gitDir: string, args: string[], reject = true): Promise<{ ok: boolean; stdout: string }> {
  const r = await run('git', ['-C', gitDir, ...args], { cwd: gitDir, reject: false, timeoutMs: 120_000, maxBuffer: 256 * 2 ** 20 });
  if (reject && r.exitCode !== 0) throw new Error(`git -C ${gitDir} ${args.join(' ')}: ${r.stderr.trim()}`);
  return { ok: r.exitCode === 0, stdout: r.stdout };
}

function candidates(repo: string, options: SourceOptions): string[] {
  const explicit = options.explicit?.[repo];
  if (explicit) return [explicit];
  if (!options.dir) return [];
  const [owner, name] = repo.split('/') as [string, string];
  const flat = `${owner}+${name}`;
  return [path.join(options.dir, flat, 'repo'), path.join(options.dir, flat), path.join(options.dir, owner, name), path.join(options.dir, name), path.join(options.dir, `${name}.git`)];
}

function snapshot(repo: string, gitDir: string): Snapshot {
  return {
    repo,
    gitDir,
    async show(commit, file) {
      const r = await git(gitDir, ['show', `${commit}:${file}`], false);
      return r.ok ? r.stdout : null;
    },
    async extract(commit, paths, dest) {
      const scratch = await mkdtemp(path.join(tmpdir(), 'evogit-repair-archive-'));
      try {
        const tar = path.join(scratch, 'a.tar');
        await git(gitDir, ['archive', '--format=tar', '-o', tar, commit, '--', ...paths]);
        await mkdir(dest, { recursive: true });
        await run('tar', ['-xf', tar, '-C', dest], { cwd: scratch, timeoutMs: 120_000 });
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  };
}

/** Locate every needed repository and check it has the needed commits; one error lists all that are missing. */
export async function locateSources(needs: Need[], options: SourceOptions): Promise<Map<string, Snapshot>> {
  const found = new Map<string, Snapshot>();
  const missing: { repo: string; commits: string[]; why: string }[] = [];
  for (const need of needs) {
    const tried = candidates(need.repo, options).filter((p) => existsSync(p));
    let located: string | null = null;
    let why = tried.length === 0 ? (options.dir || options.explicit?.[need.repo] ? 'no snapshot found' : `no snapshot directory given (--sources or ${SOURCES_ENV})`) : '';
    for (const dir of tried) {
      const absent: string[] = [];
      for (const c of need.commits) if (!(await git(dir, ['cat-file', '-e', `${c}^{commit}`], false)).ok) absent.push(c);
      if (absent.length === 0) {
        located = dir;
        break;
      }
      why = `${dir} lacks commit${absent.length > 1 ? 's' : ''} ${absent.map((c) => c.slice(0, 12)).join(', ')} (an older or shallow snapshot?)`;
    }
    if (located) found.set(need.repo, snapshot(need.repo, located));
    else missing.push({ ...need, why });
  }
  if (missing.length > 0) throw new MissingSourcesError(missing, options.dir);
  return found;
}

/** Write `text` at `dest/rel`, making its directory. */
export async function put(dest: string, rel: string, text: string): Promise<string> {
  const abs = path.join(dest, rel);
  await mkdir(path.dirname(abs), { recursive: true });
  await writeFile(abs, text);
  return abs;
}

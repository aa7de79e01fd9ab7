/**
 * A thin git runner over src/proc `run`: argument arrays, a fixed cwd, and a deterministic
 * environment (no pager, no prompts, no user config that changes output formats).
 */
import { run, type ProcResult } from '../proc/index.js';
import { parseCatFileBatch, parseCatFileBatchAscii, type BatchObject } from './parse.js';

export * from './parse.js';

const GIT_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_PAGER: 'cat',
  LC_ALL: 'C',
  // Commits written by evogit need an identity even on machines that never set one.
  GIT_AUTHOR_NAME: process.env.GIT_AUTHOR_NAME ?? 'evogit',
  GIT_AUTHOR_EMAIL: process.env.GIT_AUTHOR_EMAIL ?? 'evogit@localhost',
  GIT_COMMITTER_NAME: process.env.GIT_COMMITTER_NAME ?? 'evogit',
  GIT_COMMITTER_EMAIL: process.env.GIT_COMMITTER_EMAIL ?? 'evogit@localhost',
};

export interface GitOptions {
  input?: string;
  env?: Record<string, string>;
  /** Resolve on a non-zero exit instead of throwing. */
  reject?: boolean;
  timeoutMs?: number;
}

export class Git {
  constructor(readonly dir: string) {}

  run(args: string[], opts: GitOptions = {}): Promise<ProcResult> {
    return run('git', args, {
      cwd: this.dir,
      env: { ...GIT_ENV, ...(opts.env ?? {}) },
      input: opts.input,
      reject: opts.reject,
      timeoutMs: opts.timeoutMs ?? 10 * 60_000,
    });
  }

  async out(args: string[], opts: GitOptions = {}): Promise<string> {
    return (await this.run(args, opts)).stdout;
  }

  /** Read many objects with one `git cat-file --batch` process; missing names are left out. */
  async catFiles(names: string[]): Promise<Map<string, BatchObject>> {
    if (names.length === 0) return new Map();
    const stdout = await this.out(['cat-file', '--batch', '--buffer'], { input: names.join('\n') + '\n' });
    // Sizes are bytes; when every character is one byte the string can be cut directly.
    return Buffer.byteLength(stdout, 'utf8') === stdout.length ? parseCatFileBatchAscii(stdout, names) : parseCatFileBatch(Buffer.from(stdout, 'utf8'), names);
  }

  /**
   * Apply a ref transaction atomically (`update-ref --stdin -z`); resolves false when a CAS
   * failed. Each command is its fields in -z form: [`update <ref>`, new, old] or [`delete <ref>`, old].
   */
  async updateRefs(commands: string[][]): Promise<{ ok: boolean; stderr: string }> {
    const input = commands.map((c) => c.join('\0') + '\0').join('');
    const r = await this.run(['update-ref', '--stdin', '-z'], { input, reject: false });
    return { ok: r.exitCode === 0, stderr: r.stderr };
  }
}

/** One git command in `dir`, for callers that do not hold a Git instance. */
export function git(dir: string, args: string[], opts: GitOptions = {}): Promise<ProcResult> {
  return new Git(dir).run(args, opts);
}

export interface DiffStat {
  files: { path: string; added: number; deleted: number }[];
  added: number;
  deleted: number;
}

/** `git diff --numstat -z` → per-file line counts (binary files count 0). */
export function parseNumstatZ(out: string): DiffStat {
  const files: DiffStat['files'] = [];
  const fields = out.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const head = fields[i]!;
    if (!head) continue;
    const [a, d, name] = head.split('\t') as [string, string, string | undefined];
    // A rename has an empty name here, then the old and the new path as two more fields.
    let path = name ?? '';
    if (!path) {
      path = fields[i + 2] ?? '';
      i += 2;
    }
    files.push({ path, added: a === '-' ? 0 : Number(a), deleted: d === '-' ? 0 : Number(d) });
  }
  return { files, added: files.reduce((s, f) => s + f.added, 0), deleted: files.reduce((s, f) => s + f.deleted, 0) };
}

export async function diffStat(dir: string, from: string, to: string): Promise<DiffStat> {
  return parseNumstatZ((await git(dir, ['diff', '--numstat', '-z', '-M', from, to])).stdout);
}

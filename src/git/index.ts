/**
 * A thin git runner over src/proc `run`: argument arrays, a fixed cwd, and a deterministic
 * environment (no pager, no prompts, no user config that changes output formats).
 */
import { InfraError } from '../errors/index.js';
import { run, streamOut, type ProcResult } from '../proc/index.js';
import { CatFileBatchReader, LOG_FORMAT, LogReader, type BatchBlob, type BatchObject, type RawCommit } from './parse.js';

export * from './parse.js';
export { RefFiles } from './ref-files.js';

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
    const found = new Map<string, BatchObject>();
    for await (const objects of this.catFileStream(names)) {
      for (const o of objects) found.set(o.name, { name: o.name, sha: o.sha, type: o.type, content: o.content.toString('utf8') });
    }
    return found;
  }

  /**
   * Stream many objects out of ONE `git cat-file --batch --buffer` process, fed every name at
   * once: each yielded array holds the objects completed by one chunk of git's output, in the
   * order asked, as undecoded bytes (missing names are left out). The output is never held
   * whole, and a slow consumer holds git back through the pipe.
   */
  async *catFileStream(names: readonly string[], opts: { timeoutMs?: number } = {}): AsyncGenerator<BatchBlob[]> {
    if (names.length === 0) return;
    const child = streamOut('git', ['cat-file', '--batch', '--buffer'], {
      cwd: this.dir,
      env: GIT_ENV,
      input: names.join('\n') + '\n',
      timeoutMs: opts.timeoutMs ?? 10 * 60_000,
    });
    const reader = new CatFileBatchReader(names);
    let finished = false;
    try {
      for await (const chunk of child.stdout) {
        const objects = reader.push(chunk);
        if (objects.length > 0) yield objects;
      }
      await child.done;
      finished = true;
      if (!reader.complete) throw new InfraError('E_GIT_OUTPUT', `git cat-file --batch in ${this.dir} ended before answering every name`, 'Check the repository with `git fsck`.');
    } finally {
      // A consumer that stopped early (or a parse error): do not leave git writing into a pipe.
      if (!finished) child.kill();
    }
  }

  /**
   * `git log --format=LOG_FORMAT` (extra args before it, revisions on stdin) as a stream of
   * parsed commits, a batch per chunk of git's output.
   */
  async *logStream(args: string[], input: string, opts: { timeoutMs?: number } = {}): AsyncGenerator<RawCommit[]> {
    const child = streamOut('git', ['-c', 'log.showSignature=false', 'log', ...args, '--stdin', `--format=${LOG_FORMAT}`], {
      cwd: this.dir,
      env: GIT_ENV,
      input,
      timeoutMs: opts.timeoutMs ?? 10 * 60_000,
    });
    const reader = new LogReader();
    let finished = false;
    try {
      for await (const chunk of child.stdout) {
        const commits = reader.push(chunk);
        if (commits.length > 0) yield commits;
      }
      await child.done;
      finished = true;
      if (!reader.complete) throw new InfraError('E_GIT_OUTPUT', `git log in ${this.dir} ended inside a commit record`, 'Check the repository with `git fsck`.');
    } finally {
      if (!finished) child.kill();
    }
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

/**
 * A thin git runner over src/proc `run`: argument arrays, a fixed cwd, and a deterministic
 * environment (no pager, no prompts, no user config that changes output formats).
 */
import path from 'node:path';
import { InfraError } from '../errors/index.js';
import { openPipe, PIPE_ATOMIC_BYTES, ProcError, run, streamOut, type PipeReader, type ProcPipe, type ProcResult, type ProcStream } from '../proc/index.js';
import { CatFileBatchReader, LOG_FORMAT, LogReader, type BatchBlob, type BatchObject, type RawCommit } from './parse.js';
import { LooseObjects } from './loose-objects.js';
import { ObjectWriter, type ObjectType } from './object-writer.js';
import { diffTreeEntries, parseTree, type TreeDiffChange, type TreeObjectEntry } from './tree.js';

export * from './parse.js';
export * from './tree.js';
export { RefFiles } from './ref-files.js';
export type { ObjectType } from './object-writer.js';

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
  input?: string | Buffer;
  env?: Record<string, string>;
  /** Resolve on a non-zero exit instead of throwing. */
  reject?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A batch this small is read through the long-lived `cat-file --batch` (when kept open) instead of a new process. */
const PIPED_READ_MAX = 256;
/** How many of the objects it wrote a kept-open Git remembers, and their bytes at most. */
const WRITTEN_MAX_OBJECTS = 1024;
const WRITTEN_MAX_BYTES = 8 * 1024 * 1024;

export class Git {
  /** Long-lived plumbing processes, once keepOpen() was called (null: one process per call). */
  private pipes: {
    cat: ProcPipe | null;
    refs: Map<string, ProcPipe>;
    /** git's own object writers (null: one `hash-object` per object); looked up once. */
    objects?: ObjectWriter | null;
    /** Loose objects read in-process, where there are no replace refs (null: ask cat-file). */
    loose?: LooseObjects | null;
  } | null = null;
  /**
   * Objects this Git wrote while kept open, newest last (bounded): a loop reads back what it
   * has just written (its node commit, its notes commit and trees) on its next refresh, and
   * an object never changes, so those reads need no round trip to cat-file.
   */
  private readonly written = new Map<string, { type: ObjectType; content: Buffer }>();
  private writtenBytes = 0;

  constructor(readonly dir: string) {}

  /** Whether keepOpen() is in effect (object writes and ref transactions cost no new process). */
  get keptOpen(): boolean {
    return this.pipes !== null;
  }

  /**
   * Serve small object reads, object writes and ref transactions through long-lived git
   * processes (`cat-file --batch`, `hash-object --stdin-paths`, `update-ref --stdin` with
   * start/prepare/commit) instead of a process per call: a hot loop makes a dozen such calls a
   * step. Call close() when done; a process that dies (this one killed) leaves nothing
   * half-written: each ref transaction reaches git in one write, whole or not at all, and git
   * writes each object whole under its name.
   */
  keepOpen(): void {
    this.pipes ??= { cat: null, refs: new Map() };
  }

  /** End the long-lived processes (waits for them to exit); the instance goes back to one process per call. */
  async close(): Promise<void> {
    const p = this.pipes;
    this.pipes = null;
    if (!p) return;
    // Nothing of this Git's is left running (a caller may remove the repository next).
    await Promise.all([p.cat, ...p.refs.values(), p.objects].map((pipe) => pipe?.close()));
  }

  private pipe(args: string[]): ProcPipe {
    return openPipe('git', args, { cwd: this.dir, env: GIT_ENV });
  }

  run(args: string[], opts: GitOptions = {}): Promise<ProcResult> {
    return run('git', args, {
      cwd: this.dir,
      env: { ...GIT_ENV, ...(opts.env ?? {}) },
      input: opts.input,
      reject: opts.reject,
      timeoutMs: opts.timeoutMs ?? 10 * 60_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  /** A git command whose stdout is read as it comes (ProcStream: iterate, then await done). */
  stream(args: string[], opts: { timeoutMs?: number } = {}): ProcStream {
    return streamOut('git', args, { cwd: this.dir, env: GIT_ENV, timeoutMs: opts.timeoutMs ?? 10 * 60_000 });
  }

  async out(args: string[], opts: GitOptions = {}): Promise<string> {
    return (await this.run(args, opts)).stdout;
  }

  /** Read many objects with one `git cat-file --batch` process; missing names are left out. */
  async catFiles(names: string[]): Promise<Map<string, BatchObject>> {
    const found = new Map<string, BatchObject>();
    if (this.pipes && names.length <= PIPED_READ_MAX) {
      for (const o of await this.readPiped(names)) found.set(o.name, { name: o.name, sha: o.sha, type: o.type, content: o.content.toString('utf8') });
      return found;
    }
    for await (const objects of this.catFileStream(names)) {
      for (const o of objects) found.set(o.name, { name: o.name, sha: o.sha, type: o.type, content: o.content.toString('utf8') });
    }
    return found;
  }

  /** Like catFiles, with each content as the bytes git gave (trees are binary). */
  async catFileBytes(names: string[]): Promise<Map<string, BatchBlob>> {
    const found = new Map<string, BatchBlob>();
    for await (const objects of this.catFileStream(names)) for (const o of objects) found.set(o.name, o);
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
    if (this.pipes && names.length <= PIPED_READ_MAX) {
      yield await this.readPiped(names);
      return;
    }
    yield* this.streamParsed(['cat-file', '--batch', '--buffer'], names.join('\n') + '\n', new CatFileBatchReader(names), 'ended before answering every name', opts.timeoutMs);
  }

  /**
   * One git process whose output is cut into records as it arrives (a batch per chunk). Git is
   * killed if the consumer stops early or a record is malformed, so it never writes into a
   * dead pipe; output that ends inside a record is an error.
   */
  private async *streamParsed<T>(args: string[], input: string, reader: { push(chunk: Buffer): T[]; readonly complete: boolean }, incomplete: string, timeoutMs = 10 * 60_000): AsyncGenerator<T[]> {
    const child = streamOut('git', args, { cwd: this.dir, env: GIT_ENV, input, timeoutMs });
    let finished = false;
    try {
      for await (const chunk of child.stdout) {
        const records = reader.push(chunk);
        if (records.length > 0) yield records;
      }
      await child.done;
      finished = true;
      if (!reader.complete) throw new InfraError('E_GIT_OUTPUT', `git ${args[0] === '-c' ? args[2] : args[0]} in ${this.dir} ${incomplete}`, 'Check the repository with `git fsck`.');
    } finally {
      if (!finished) child.kill();
    }
  }

  /** A git command's standard output as bytes (for parsers that decode field by field). */
  async outBytes(args: string[], opts: { timeoutMs?: number } = {}): Promise<Buffer> {
    const child = streamOut('git', args, { cwd: this.dir, env: GIT_ENV, timeoutMs: opts.timeoutMs ?? 10 * 60_000 });
    const chunks: Buffer[] = [];
    for await (const chunk of child.stdout) chunks.push(chunk);
    await child.done;
    return Buffer.concat(chunks);
  }

  /**
   * `git log --format=LOG_FORMAT` (extra args before it, revisions on stdin) as a stream of
   * parsed commits, a batch per chunk of git's output.
   */
  async *logStream(args: string[], input: string, opts: { timeoutMs?: number } = {}): AsyncGenerator<RawCommit[]> {
    yield* this.streamParsed(['-c', 'log.showSignature=false', 'log', ...args, '--stdin', `--format=${LOG_FORMAT}`], input, new LogReader(), 'ended inside a commit record', opts.timeoutMs);
  }

  /**
   * Apply a ref transaction atomically (`update-ref --stdin -z`); resolves false when a CAS
   * failed. Each command is its fields in -z form: [`update <ref>`, new, old] or [`delete <ref>`, old].
   */
  async updateRefs(commands: string[][], opts: { message?: string; /** false: create no new reflog (an existing one is still appended to). */ reflog?: boolean } = {}): Promise<{ ok: boolean; stderr: string }> {
    const input = commands.map((c) => c.join('\0') + '\0').join('');
    const request = `start\0${input}prepare\0commit\0`;
    const message = opts.message ?? '';
    const args = [...(opts.reflog === false ? ['-c', 'core.logAllRefUpdates=false'] : []), 'update-ref', ...(message ? ['-m', message] : []), '--stdin', '-z'];
    if (this.pipes && Buffer.byteLength(request) <= PIPE_ATOMIC_BYTES) {
      const key = args.join('\0');
      let pipe = this.pipes.refs.get(key);
      if (!pipe?.alive) {
        pipe = this.pipe(args);
        this.pipes.refs.set(key, pipe);
      }
      const answer = await pipe.ask(request, async (r) => [await r.line(), await r.line(), await r.line()].join('\n'));
      if (answer === 'start: ok\nprepare: ok\ncommit: ok') return { ok: true, stderr: '' };
      // git ends the process on a transaction it refuses (a failed compare-and-swap): its stderr says why.
      const ended = await pipe.exited;
      return { ok: false, stderr: ended.stderr || `git update-ref --stdin answered ${JSON.stringify(answer)}` };
    }
    const r = await this.run(args, { input, reject: false });
    return { ok: r.exitCode === 0, stderr: r.stderr };
  }

  /** Create `ref` at `sha` unless it exists (`update-ref` with an old value of zero); false when it exists. */
  createRef(ref: string, sha: string): Promise<{ ok: boolean; stderr: string }> {
    return this.updateRefs([[`update ${ref}`, sha, '0'.repeat(sha.length)]]);
  }

  /**
   * Write one object into the repository and return its id: through git's kept-open object
   * writers when kept open (ObjectWriter), else one `git hash-object -w`.
   */
  async writeObject(type: ObjectType, content: string | Buffer): Promise<string> {
    const writer = (await this.lookedUp())?.objects ?? null;
    const id = writer ? await writer.write(type, content) : (await this.out(['hash-object', '-w', '-t', type, '--stdin'], { input: content })).trim();
    if (this.pipes) this.remember(id, type, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    return id;
  }

  /**
   * Kept open, what it found out about the repository, looked up once: git's object writers
   * (null: one process per object), and whether loose objects may be read in-process (there
   * are no replace refs, which git would read through). Null when not kept open.
   */
  private async lookedUp(): Promise<NonNullable<Git['pipes']> | null> {
    const p = this.pipes;
    if (!p) return null;
    if (p.loose === undefined) {
      const [where, replaced] = await Promise.all([
        this.run(['rev-parse', '--show-object-format', '--git-path', 'objects', '--git-common-dir'], { reject: false }),
        this.run(['for-each-ref', '--count=1', '--format=%(refname)', process.env.GIT_REPLACE_REF_BASE || 'refs/replace/'], { reject: false }),
      ]);
      // Another call may have looked meanwhile: keep the first answer (the same one).
      if (p.loose === undefined) {
        const [format, objects, common] = where.stdout.trim().split('\n');
        const noReplace = process.env.GIT_NO_REPLACE_OBJECTS !== undefined || (replaced.exitCode === 0 && replaced.stdout.trim() === '');
        p.loose = where.exitCode === 0 && noReplace ? LooseObjects.at(path.resolve(this.dir, objects ?? ''), format ?? '') : null;
        const tmp = where.exitCode === 0 && common ? path.join(path.resolve(this.dir, common), 'evogit', 'tmp') : null;
        p.objects = tmp && ObjectWriter.usable(tmp) ? new ObjectWriter(tmp, (args) => this.pipe(args)) : null;
      }
    }
    return p;
  }

  private remember(id: string, type: ObjectType, content: Buffer): void {
    if (content.length > WRITTEN_MAX_BYTES / 8 || this.written.has(id)) return;
    this.written.set(id, { type, content });
    this.writtenBytes += content.length;
    for (const [old, o] of this.written) {
      if (this.written.size <= WRITTEN_MAX_OBJECTS && this.writtenBytes <= WRITTEN_MAX_BYTES) break;
      this.written.delete(old);
      this.writtenBytes -= o.content.length;
    }
  }

  /** The tree of `worktree`'s index, written: `git write-tree` run there. */
  async writeTree(worktree: string): Promise<string> {
    return (await git(worktree, ['write-tree'])).stdout.trim();
  }

  /**
   * The changes between two trees (ids, or names of them such as `<commit>^{tree}`), as
   * diffTreeEntries gives them (what `git diff-tree -r --no-renames` lists), read through the
   * kept-open cat-file: a round trip per level of differing subtrees instead of a process.
   * Null — ask git instead — when git is not kept open, when more than `maxTrees` subtrees would
   * be read, or a tree holds anything unusual (a gitlink that changed, a name that is not UTF-8).
   */
  async diffTrees(a: string, b: string, opts: { maxTrees?: number } = {}): Promise<TreeDiffChange[] | null> {
    if (!this.pipes) return null;
    let budget = opts.maxTrees ?? 64;
    const trees = new Map<string, TreeObjectEntry[]>();
    const read = async (names: string[]): Promise<string[] | null> => {
      const objects = await this.readPiped(names);
      if (objects.length !== names.length) return null;
      for (const o of objects) {
        if (o.type !== 'tree') return null;
        const entries = parseTree(o.content, o.sha.length / 2);
        if (entries.some((e) => e.name.includes('\ufffd'))) return null;
        trees.set(o.sha, entries);
      }
      return objects.map((o) => o.sha);
    };
    const roots = await read([a, b]);
    if (!roots) return null;
    for (;;) {
      const missing = new Set<string>();
      const changes = diffTreeEntries(roots[0] as string, roots[1] as string, trees, missing);
      if (changes) return changes.some((c) => c.oldMode === '160000' || c.newMode === '160000') ? null : changes;
      budget -= missing.size;
      if (budget < 0 || missing.size > PIPED_READ_MAX) return null;
      if (!(await read([...missing]))) return null;
    }
  }

  /**
   * A name readPiped can answer without git — an id, or `<id>^{tree}` of a commit — from the
   * objects this Git wrote, or else, where there are no replace refs, a loose object read
   * in-process.
   */
  private readLocal(name: string): BatchBlob | null {
    const m = /^([0-9a-f]{40}|[0-9a-f]{64})(\^\{tree\})?$/.exec(name);
    if (!m) return null;
    const loose = this.pipes?.loose ?? null;
    const get = (id: string) => this.written.get(id) ?? loose?.read(id) ?? null;
    const id = m[1] as string;
    const o = get(id);
    if (!o) return null;
    if (!m[2]) return { name, sha: id, type: o.type, content: o.content };
    // A tag peels to its target's tree in git; only commits are read here.
    if (o.type !== 'commit') return null;
    const tree = /^tree ([0-9a-f]{40,64})\n/.exec(o.content.toString('latin1', 0, 80))?.[1];
    const t = tree ? get(tree) : null;
    return tree && t?.type === 'tree' ? { name, sha: tree, type: t.type, content: t.content } : null;
  }

  /**
   * Objects read without a process where they can be (readLocal), the rest out of the
   * long-lived `cat-file --batch`; in the order asked, missing names left out.
   */
  private async readPiped(names: readonly string[]): Promise<BatchBlob[]> {
    await this.lookedUp();
    const known = names.map((n) => this.readLocal(n));
    if (known.every((o) => o !== null)) return known as BatchBlob[];
    if (known.every((o) => o === null)) return this.readCat(names);
    const read = new Map((await this.readCat(names.filter((_, i) => known[i] === null))).map((o) => [o.name, o]));
    return names.flatMap((n, i) => known[i] ?? read.get(n) ?? []);
  }

  /** Objects out of the long-lived `cat-file --batch`, in the order asked; missing names are left out. */
  private async readCat(names: readonly string[]): Promise<BatchBlob[]> {
    const p = this.pipes as NonNullable<Git['pipes']>;
    if (names.some((n) => n.includes('\n'))) throw new InfraError('E_GIT_NAME', 'an object name with a newline cannot be read', 'This is a bug in evogit; please report it.');
    if (!p.cat?.alive) p.cat = this.pipe(['cat-file', '--batch']);
    const cat = p.cat;
    const read = async (r: PipeReader): Promise<BatchBlob[] | null> => {
      const out: BatchBlob[] = [];
      for (const name of names) {
        const head = await r.line();
        if (head === null) return null;
        const m = /^([0-9a-f]{40,64}) (\S+) (\d+)$/.exec(head);
        if (!m) {
          if (head.endsWith(' missing') || head.endsWith(' ambiguous')) continue;
          throw new InfraError('E_GIT_OUTPUT', `git cat-file --batch answered "${head}" for ${name}`, 'Check the repository with `git fsck`.');
        }
        const body = await r.bytes(Number(m[3]) + 1);
        if (body === null) return null;
        out.push({ name, sha: m[1] as string, type: m[2] as string, content: body.subarray(0, body.length - 1) });
      }
      return out;
    };
    const objects = await cat.ask(names.join('\n') + '\n', read).catch(async (e: unknown) => {
      // An answer we could not follow: the rest of it would confuse the next request.
      if (p.cat === cat) p.cat = null;
      await cat.close();
      throw e;
    });
    if (objects === null) throw new ProcError({ ...(await cat.exited), args: ['cat-file', '--batch'] });
    return objects;
  }
}

/**
 * A commit object's text as `git commit-tree` writes it for this identity (evogit's git
 * environment: GIT_AUTHOR_* / GIT_COMMITTER_* or "evogit"), dated `time` in UTC.
 */
export function commitText(c: { tree: string; parents: readonly string[]; message: string; time: number; identity?: { name: string; email: string } }): string {
  // git drops these from names and addresses (they would break the header).
  const clean = (s: string) => s.replace(/[<>\n]/g, '').trim();
  const who = (name: string, email: string) => `${clean(c.identity?.name ?? (GIT_ENV[name] as string))} <${clean(c.identity?.email ?? (GIT_ENV[email] as string))}> ${c.time} +0000`;
  return [
    `tree ${c.tree}`,
    ...c.parents.map((p) => `parent ${p}`),
    `author ${who('GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL')}`,
    `committer ${who('GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL')}`,
    '',
    c.message,
  ].join('\n');
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

/**
 * The one wrapper for child processes: argument arrays (never a shell string built from
 * data), an explicit cwd, a timeout, an abort signal, and an environment with secrets removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execa } from 'execa';
import { FORCE_KILL_MS, killGroup, serve, type Served } from './fork-server.js';

export { shellQuote, useForkServers, stopForkServers } from './fork-server.js';

const DEFAULT_MAX_BUFFER = 512 * 1024 * 1024;

export interface ProcResult {
  command: string;
  args: string[];
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

export interface ProcOptions {
  cwd: string;
  /** Extra variables on top of the scrubbed environment. */
  env?: Record<string, string | undefined>;
  /** Start from exactly this environment instead of the scrubbed host one. */
  cleanEnv?: boolean;
  input?: string | Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Resolve with a non-zero exit instead of throwing. Default: false (throw ProcError). */
  reject?: boolean;
  maxBuffer?: number;
  /**
   * Run the command in a process group of its own, and end the whole group (SIGTERM, then
   * SIGKILL) once the command itself exits, times out or is aborted: nothing it started in the
   * background outlives it, keeps its output pipes open, or writes into its directory later.
   */
  ownGroup?: boolean;
}

/** Names that look like credentials: never passed to a child process unless asked for. */
const SECRET = /(^|_)(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|AUTH)(_|$)|^(AWS|GCP|AZURE|OPENAI|ANTHROPIC|GITHUB|GH|HF|OPENROUTER)_/i;

export function scrubbedEnv(base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined || SECRET.test(k)) continue;
    out[k] = v;
  }
  return out;
}

export class ProcError extends Error {
  constructor(readonly result: ProcResult) {
    const what = [result.command, ...result.args].join(' ');
    const why = result.timedOut
      ? `timed out after ${result.durationMs} ms`
      : result.signal
        ? `killed by ${result.signal}`
        : `exited with ${result.exitCode}`;
    const tail = result.stderr.trim().split('\n').slice(-5).join('\n');
    super(`${what} ${why}${tail ? `: ${tail}` : ''}`);
    this.name = 'ProcError';
  }
}

function envOf(options: Pick<ProcOptions, 'cleanEnv' | 'env'>): Record<string, string | undefined> {
  return options.cleanEnv ? { ...(options.env ?? {}) } : { ...scrubbedEnv(), ...(options.env ?? {}) };
}

export async function run(command: string, args: string[], options: ProcOptions): Promise<ProcResult> {
  const started = performance.now();
  const env = envOf(options);
  // In the agent loop, git goes through a fork server (see there): no fork of this process.
  const served = serve(command, args, env, options);
  if (served) return settleServed(command, args, await served, started, options.reject);
  const subprocess = execa(command, args, {
    cwd: options.cwd,
    env,
    extendEnv: false,
    input: options.input,
    timeout: options.timeoutMs,
    cancelSignal: options.signal,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: options.maxBuffer ?? DEFAULT_MAX_BUFFER,
    encoding: 'utf8',
    detached: options.ownGroup === true,
  });
  if (options.ownGroup) {
    // On the command's own exit, not when its pipes close: a background child holding them
    // would keep them open until it ends by itself.
    subprocess.once('exit', () => {
      const pid = subprocess.pid;
      if (pid === undefined || !killGroup(pid, 'SIGTERM')) return;
      setTimeout(() => killGroup(pid, 'SIGKILL'), FORCE_KILL_MS).unref();
    });
  }
  const child = await subprocess;
  let stderr = String(child.stderr ?? '');
  // Output past maxBuffer was cut (and the child stopped): never a result that looks whole.
  if (child.isMaxBuffer) stderr += `${stderr && !stderr.endsWith('\n') ? '\n' : ''}output exceeded maxBuffer (${options.maxBuffer ?? DEFAULT_MAX_BUFFER} bytes)\n`;
  return settle(command, args, { ...child, exitCode: child.exitCode, signal: child.signal, overflow: child.isMaxBuffer }, String(child.stdout ?? ''), stderr, started, options.reject);
}

interface Finished {
  exitCode?: number;
  signal?: string;
  timedOut?: boolean;
  failed?: boolean;
  message?: string;
  /** Output was cut at maxBuffer: a failure even when the child exited 0. */
  overflow?: boolean;
}

/** A command a fork server ran, as the ProcResult (or ProcError) a direct spawn would give. */
function settleServed(command: string, args: string[], s: Served, started: number, reject: boolean | undefined): ProcResult {
  let stderr = s.stderr.toString('utf8');
  if (s.overflow) stderr += `${stderr && !stderr.endsWith('\n') ? '\n' : ''}output exceeded maxBuffer\n`;
  const finished: Finished = s.spawnFailed
    ? { failed: true, message: s.spawnFailed }
    : { ...(s.exitCode !== null ? { exitCode: s.exitCode } : {}), ...(s.signal ? { signal: s.signal } : {}), timedOut: s.timedOut, failed: s.exitCode !== 0, overflow: s.overflow };
  return settle(command, args, finished, s.stdout.toString('utf8'), stderr, started, reject);
}

/** An ended child as a ProcResult; throws ProcError when spawning failed, or on a non-zero exit unless reject is false. */
function settle(command: string, args: string[], child: Finished, stdout: string, stderr: string, started: number, reject: boolean | undefined): ProcResult {
  const result: ProcResult = {
    command,
    args,
    exitCode: child.exitCode ?? null,
    signal: child.signal ?? null,
    stdout,
    stderr,
    durationMs: Math.round(performance.now() - started),
    timedOut: Boolean(child.timedOut),
  };
  if (child.failed && (child.exitCode === undefined || child.exitCode === null) && !child.timedOut && !child.signal) {
    // Spawning itself failed (command not found, bad cwd): never a silent empty result.
    throw new ProcError({ ...result, stderr: child.message ?? 'spawn failed' });
  }
  if (reject !== false && (result.exitCode !== 0 || child.overflow)) throw new ProcError(result);
  return result;
}

/** A child whose output the caller reads as it comes (no buffering), with stdin from `input` or none. */
function startUnbuffered(command: string, args: string[], options: ProcOptions) {
  const env = envOf(options);
  return execa(command, args, {
    cwd: options.cwd,
    env,
    extendEnv: false,
    reject: false,
    buffer: false,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    cancelSignal: options.signal,
    timeout: options.timeoutMs,
  });
}

/**
 * Start a long-running child and hand each line of its stdout to `onLine` as it arrives.
 * Used by `evogit run` to follow its agent processes. The child's stderr is passed through
 * to `onStderr` line by line.
 */
export function spawnLines(
  command: string,
  args: string[],
  options: ProcOptions & { onLine: (line: string) => void; onStderr?: (line: string) => void },
): { done: Promise<ProcResult>; kill: (signal?: NodeJS.Signals) => void; pid: number | undefined } {
  const started = performance.now();
  const child = startUnbuffered(command, args, options);
  // Resolves once the stream has delivered its last line: the child's exit alone does not
  // mean its last output was read (an agent's final event would be lost).
  const lines = (stream: NodeJS.ReadableStream | null, each: (l: string) => void): Promise<void> => {
    if (!stream) return Promise.resolve();
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) each(p);
    });
    return new Promise((resolve) => {
      const flush = () => {
        if (rest) each(rest);
        rest = '';
        resolve();
      };
      stream.once('end', flush);
      stream.once('close', flush);
    });
  };
  const read = Promise.all([lines(child.stdout, options.onLine), lines(child.stderr, options.onStderr ?? (() => undefined))]);
  // The caller judges the exit code (an agent that failed); a spawn that failed still throws.
  const done = Promise.all([child, read]).then(([r]) => settle(command, args, r, '', '', started, false));
  return { done, kill: (signal = 'SIGTERM') => void child.kill(signal), pid: child.pid };
}

export interface ProcStream {
  /** The child's stdout as Buffers, in order; reading it slowly holds the child back (pipe backpressure). */
  stdout: AsyncIterable<Buffer>;
  /** Settles when the child has exited; rejects (ProcError) on a non-zero exit unless `reject: false`. */
  done: Promise<ProcResult>;
  /** Stop the child (a no-op once it has exited). */
  kill: (signal?: NodeJS.Signals) => void;
}

/** Keep at most this much of a streamed child's stderr (for the error message). */
const STDERR_KEEP = 64 * 1024;

/**
 * Start a child and read its stdout as a stream of Buffers (no whole-output string, no
 * decoding): for large binary-sized outputs such as `git cat-file --batch`. `input` is written
 * to stdin; stderr is kept (its tail) for the error. Iterate `stdout` to the end, then await
 * `done`; a consumer that stops early must call `kill`.
 */
export function streamOut(command: string, args: string[], options: ProcOptions): ProcStream {
  const started = performance.now();
  const child = startUnbuffered(command, args, options);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    stderr = (stderr + s).slice(-STDERR_KEEP);
  });
  const done = child.then((r) => settle(command, args, r, '', stderr, started, options.reject));
  // The caller awaits `done` after reading; until then a failure must not count as unhandled.
  void done.catch(() => undefined);
  const stdout = child.stdout;
  async function* chunks(): AsyncGenerator<Buffer> {
    if (!stdout) return;
    for await (const chunk of stdout) yield chunk as Buffer;
  }
  return { stdout: chunks(), done, kill: (signal = 'SIGTERM') => void child.kill(signal) };
}

/** What a conversation with a long-lived child reads its answer with. */
export interface PipeReader {
  /** The next line of stdout without its newline; null once stdout has ended. */
  line(): Promise<string | null>;
  /** Exactly `n` bytes of stdout; null if stdout ends first. */
  bytes(n: number): Promise<Buffer | null>;
}

export interface ProcPipe {
  /**
   * Write `data` to the child's stdin in ONE write (a request of at most PIPE_BUF bytes reaches
   * the child whole or not at all, even if this process is killed), then read its answer with
   * `read`. Requests are served one at a time, in call order.
   */
  ask<T>(data: string | Buffer, read: (r: PipeReader) => Promise<T>): Promise<T>;
  /** False once the child has exited (it may die on a request it refuses, e.g. `git update-ref` on a failed CAS). */
  readonly alive: boolean;
  /** The ended child, stderr tail included; settles once it has exited. */
  readonly exited: Promise<ProcResult>;
  /** End stdin and wait for the child to exit. */
  close(): Promise<ProcResult>;
}

/** Bytes that must reach a child in one write() to arrive whole (Linux PIPE_BUF). */
export const PIPE_ATOMIC_BYTES = 4096;

/**
 * A long-lived child spoken to over stdin/stdout, request by request (`git cat-file --batch`,
 * `git update-ref --stdin`): one spawn for many small requests. The child holds the event loop
 * only while a request is in flight, so a forgotten pipe never keeps a process from exiting;
 * it exits itself when this process dies (its stdin closes).
 */
export function openPipe(command: string, args: string[], options: Pick<ProcOptions, 'cwd' | 'env' | 'cleanEnv'>): ProcPipe {
  const started = performance.now();
  // Its own process group: a Ctrl-C to the terminal's group stops this process, which then still
  // has its pipes to finish the step (release a claim) and close them; they never outlive it,
  // since each exits when its stdin closes.
  const child: ChildProcess = spawn(command, args, { cwd: options.cwd, env: envOf(options), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let buf: Buffer = Buffer.alloc(0);
  let ended = false;
  let alive = true;
  let stderr = '';
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    poke();
  });
  child.stdout!.on('end', () => ((ended = true), poke()));
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => (stderr = (stderr + s).slice(-STDERR_KEEP)));
  // A child that died makes its next write fail with EPIPE; the reader then sees the end of stdout.
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<ProcResult>((resolve) => {
    let done = false;
    const end = (finished: Finished) => {
      if (done) return;
      done = true;
      alive = false;
      ended = true;
      poke();
      resolve(settle(command, args, { ...finished, failed: false }, '', stderr, started, false));
    };
    // A spawn that failed: no exit code, the reason in stderr.
    child.on('error', (e) => ((stderr += `${e.message}\n`), end({})));
    child.on('close', (code, signal) => end({ ...(code !== null ? { exitCode: code } : {}), ...(signal ? { signal } : {}) }));
  });
  const handles = [child, child.stdin, child.stdout, child.stderr] as unknown as { ref(): void; unref(): void }[];
  const hold = (on: boolean) => {
    for (const h of handles) {
      if (typeof h?.ref !== 'function') continue;
      if (on) h.ref();
      else h.unref();
    }
  };
  hold(false);
  const waitData = () => new Promise<void>((r) => (wake = r));
  const reader: PipeReader = {
    async line() {
      for (;;) {
        const nl = buf.indexOf(10);
        if (nl >= 0) {
          const text = buf.subarray(0, nl).toString('utf8');
          buf = buf.subarray(nl + 1);
          return text;
        }
        if (ended) return null;
        await waitData();
      }
    },
    async bytes(n) {
      for (;;) {
        if (buf.length >= n) {
          const out = Buffer.from(buf.subarray(0, n));
          buf = buf.subarray(n);
          return out;
        }
        if (ended) return null;
        await waitData();
      }
    },
  };
  let chain: Promise<unknown> = Promise.resolve();
  const ask = <T>(data: string | Buffer, read: (r: PipeReader) => Promise<T>): Promise<T> => {
    const next = chain.then(async () => {
      hold(true);
      try {
        if (alive) child.stdin!.write(data);
        return await read(reader);
      } finally {
        hold(false);
      }
    });
    chain = next.catch(() => undefined);
    return next;
  };
  return {
    ask,
    get alive() {
      return alive;
    },
    exited,
    close: async () => {
      await chain;
      hold(true);
      child.stdin!.end();
      return exited;
    },
  };
}

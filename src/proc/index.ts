/**
 * The one wrapper for child processes: argument arrays (never a shell string built from
 * data), an explicit cwd, a timeout, an abort signal, and an environment with secrets removed.
 */
import { execa } from 'execa';

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

export async function run(command: string, args: string[], options: ProcOptions): Promise<ProcResult> {
  const started = performance.now();
  const env = options.cleanEnv ? { ...(options.env ?? {}) } : { ...scrubbedEnv(), ...(options.env ?? {}) };
  const child = await execa(command, args, {
    cwd: options.cwd,
    env,
    extendEnv: false,
    input: options.input,
    timeout: options.timeoutMs,
    cancelSignal: options.signal,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: options.maxBuffer ?? 512 * 1024 * 1024,
    encoding: 'utf8',
  });
  return settle(command, args, child, String(child.stdout ?? ''), String(child.stderr ?? ''), started, options.reject);
}

interface Finished {
  exitCode?: number;
  signal?: string;
  timedOut?: boolean;
  failed?: boolean;
  message?: string;
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
  if (reject !== false && result.exitCode !== 0) throw new ProcError(result);
  return result;
}

/** A child whose output the caller reads as it comes (no buffering), with stdin from `input` or none. */
function startUnbuffered(command: string, args: string[], options: ProcOptions) {
  const env = options.cleanEnv ? { ...(options.env ?? {}) } : { ...scrubbedEnv(), ...(options.env ?? {}) };
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

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
  const result: ProcResult = {
    command,
    args,
    exitCode: child.exitCode ?? null,
    signal: child.signal ?? null,
    stdout: String(child.stdout ?? ''),
    stderr: String(child.stderr ?? ''),
    durationMs: Math.round(performance.now() - started),
    timedOut: Boolean(child.timedOut),
  };
  if (child.failed && (child.exitCode === undefined || child.exitCode === null) && !child.timedOut && !child.signal) {
    // Spawning itself failed (command not found, bad cwd): never a silent empty result.
    throw new ProcError({ ...result, stderr: child.message ?? 'spawn failed' });
  }
  if (options.reject !== false && result.exitCode !== 0) throw new ProcError(result);
  return result;
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
  const env = options.cleanEnv ? { ...(options.env ?? {}) } : { ...scrubbedEnv(), ...(options.env ?? {}) };
  const child = execa(command, args, {
    cwd: options.cwd,
    env,
    extendEnv: false,
    reject: false,
    buffer: false,
    stdin: 'ignore',
    cancelSignal: options.signal,
    timeout: options.timeoutMs,
  });
  const lines = (stream: NodeJS.ReadableStream | null, each: (l: string) => void) => {
    if (!stream) return;
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) each(p);
    });
    stream.on('end', () => {
      if (rest) each(rest);
    });
  };
  lines(child.stdout, options.onLine);
  lines(child.stderr, options.onStderr ?? (() => undefined));
  const done = child.then((r) => ({
    command,
    args,
    exitCode: r.exitCode ?? null,
    signal: r.signal ?? null,
    stdout: '',
    stderr: '',
    durationMs: Math.round(performance.now() - started),
    timedOut: Boolean(r.timedOut),
  }));
  return { done, kill: (signal = 'SIGTERM') => void child.kill(signal), pid: child.pid };
}

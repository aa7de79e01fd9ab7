/**
 * A fork server for git: a long-lived `sh` that starts each git command on this process's
 * behalf. Node forks synchronously, and forking a 100 MB agent process costs its main thread
 * 2–3 ms before git even starts; a 1 MB shell forks in a tenth of that. The agent loop runs
 * a dozen short git commands a step (checkout, clean, add, write-tree, rev-parse, archive…),
 * so it opts in with `useForkServers()` and every `git` without stdin input goes through here.
 *
 * One request at a time per shell; a small pool serves concurrent calls, and a call that finds
 * every shell busy is spawned directly. Each command runs in a subshell with exactly the
 * environment and working directory a direct spawn would get (`cd` then `exec env -i …`), its
 * stdin from /dev/null; a random sentinel after its output on stdout (with the exit status) and
 * on stderr tells where the output ends. A timeout or an abort kills the shell's whole process
 * group (the command and anything it started); the next call starts a fresh shell.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { ProcOptions } from './index.js';

/** What a served command ended with; `spawnFailed` when the directory or the program was missing. */
export interface Served {
  exitCode: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
  timedOut: boolean;
  spawnFailed?: string;
  /** Output past maxBuffer was dropped and the command stopped. */
  overflow?: boolean;
}

/** Exit statuses the request script uses to report that nothing could be started. */
const NO_DIR = 200;
const NO_PROGRAM = 127;
const POOL_MAX = 3;
/** After a timeout or an abort, a child that ignores SIGTERM this long gets SIGKILL (execa's default too). */
export const FORCE_KILL_MS = 5000;


/** Signal every process of the group `pgid`; whether any was left to signal. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    // ESRCH: the group is empty.
    return false;
  }
}

/** `s` as one word of a POSIX shell command: as is when plainly safe, else single-quoted. */
export function shellQuote(s: string): string {
  return /^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Variables a shell may set or change on its own (cd, startup): always set as the command's environment says. */
const SHELL_SET = ['PWD', 'OLDPWD', 'SHLVL', '_'];
/** Only names a shell can export and unset; an environment with any other is spawned directly. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

class Server {
  private readonly child: ChildProcess;
  busy = false;
  alive = true;
  private onOut: ((chunk: Buffer) => void) | null = null;
  private onErr: ((chunk: Buffer) => void) | null = null;
  private onExit: (() => void) | null = null;
  /** Why the shell could not be started, if it could not. */
  private startError: string | null = null;
  readonly exited: Promise<void>;

  /** The environment the shell started with; each command's own is set from it in its subshell. */
  constructor(readonly env: Record<string, string>) {
    // Its own process group, so a timeout can kill the command and all it started at once.
    this.child = spawn('/bin/sh', [], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child.stdout!.on('data', (c: Buffer) => this.onOut?.(c));
    this.child.stderr!.on('data', (c: Buffer) => this.onErr?.(c));
    this.child.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      const end = () => {
        if (!this.alive) return;
        this.alive = false;
        this.onExit?.();
        resolve();
      };
      this.child.on('error', (e) => ((this.startError ??= e.message), end()));
      this.child.on('close', end);
    });
    this.hold(false);
  }

  /** Idle shells never keep this process alive; one serving a request does. */
  private hold(on: boolean): void {
    for (const h of [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as unknown as { ref?(): void; unref?(): void }[]) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.pid) killGroup(this.child.pid, signal);
  }

  serve(command: string, args: string[], env: Record<string, string>, options: ProcOptions): Promise<Served> {
    this.busy = true;
    this.hold(true);
    const nonce = randomBytes(12).toString('hex');
    const outMark = Buffer.from(`\n${nonce} `);
    const errMark = Buffer.from(`\n${nonce}\n`);
    const maxBuffer = options.maxBuffer ?? 512 * 1024 * 1024;
    // The command's environment, from the shell's: what differs, and the variables a shell sets itself.
    const setEnv: string[] = [];
    for (const k of Object.keys(this.env)) if (!(k in env)) setEnv.push(`unset ${k};`);
    for (const [k, v] of Object.entries(env)) if (this.env[k] !== v || SHELL_SET.includes(k)) setEnv.push(`export ${k}=${shellQuote(v)};`);
    for (const k of SHELL_SET) if (!(k in env)) setEnv.push(`unset ${k};`);
    const script =
      `( cd -- ${shellQuote(options.cwd)} 2>/dev/null || exit ${NO_DIR}; ${setEnv.join(' ')} exec ${shellQuote(command)} ${args.map(shellQuote).join(' ')} ) </dev/null; ` +
      `printf '\\n%s %s\\n' ${nonce} "$?"; printf '\\n%s\\n' ${nonce} >&2\n`;

    return new Promise<Served>((resolve) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outBytes = 0;
      let errBytes = 0;
      let status: number | null = null;
      let errDone = false;
      let timedOut = false;
      let overflow = false;
      let killed = false;
      let forceKill: NodeJS.Timeout | undefined;
      const stop = () => {
        if (killed) return;
        killed = true;
        this.kill('SIGTERM');
        forceKill = setTimeout(() => this.kill('SIGKILL'), FORCE_KILL_MS);
        forceKill.unref();
      };
      const timer = options.timeoutMs !== undefined ? setTimeout(() => ((timedOut = true), stop()), options.timeoutMs) : undefined;
      const onAbort = () => stop();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) stop();

      const finish = (result: Omit<Served, 'timedOut' | 'overflow'>) => {
        clearTimeout(timer);
        clearTimeout(forceKill);
        options.signal?.removeEventListener('abort', onAbort);
        this.onOut = this.onErr = this.onExit = null;
        this.busy = false;
        this.hold(false);
        resolve({ ...result, timedOut, ...(overflow ? { overflow } : {}) });
      };
      const settleIfDone = () => {
        if (status === null || !errDone) return;
        const stdout = Buffer.concat(out);
        const stderr = Buffer.concat(err);
        if (status === NO_DIR) return finish({ exitCode: null, signal: null, stdout, stderr, spawnFailed: `no such directory: ${options.cwd}` });
        if (status === NO_PROGRAM && /\bexec\b.*not found|No such file/.test(stderr.toString('utf8'))) return finish({ exitCode: null, signal: null, stdout, stderr, spawnFailed: stderr.toString('utf8').trim() });
        finish({ exitCode: status, signal: null, stdout, stderr });
      };
      // Collects a stream's output up to its sentinel, which may arrive split across chunks:
      // push answers what followed the sentinel once it has passed, null before; flush keeps
      // what was held back when the stream ended without one (the shell was killed).
      const collector = (into: Buffer[], mark: Buffer, count: (n: number) => number) => {
        let held = Buffer.alloc(0);
        const keep = (bytes: Buffer) => {
          if (count(bytes.length) <= maxBuffer) return void into.push(bytes);
          overflow = true;
          stop();
        };
        return {
          push(chunk: Buffer): Buffer | null {
            const data = held.length ? Buffer.concat([held, chunk]) : chunk;
            held = Buffer.alloc(0);
            const at = data.indexOf(mark);
            if (at >= 0) {
              keep(data.subarray(0, at));
              return data.subarray(at + mark.length);
            }
            // Hold back what could be the start of the sentinel.
            const cut = Math.max(0, data.length - (mark.length - 1));
            keep(data.subarray(0, cut));
            held = Buffer.from(data.subarray(cut));
            return null;
          },
          flush(): void {
            keep(held);
            held = Buffer.alloc(0);
          },
        };
      };
      // After the stdout sentinel comes the exit status, up to a newline.
      const collectOut = collector(out, outMark, (n) => (outBytes += n));
      let statusText: string | null = null;
      this.onOut = (chunk) => {
        if (statusText === null) {
          const rest = collectOut.push(chunk);
          if (rest === null) return;
          statusText = '';
          chunk = rest;
        }
        statusText += chunk.toString('latin1');
        const end = statusText.indexOf('\n');
        if (end < 0) return;
        status = Number(statusText.slice(0, end));
        this.onOut = null;
        settleIfDone();
      };
      const collectErr = collector(err, errMark, (n) => (errBytes += n));
      this.onErr = (chunk) => {
        if (collectErr.push(chunk) === null) return;
        errDone = true;
        this.onErr = null;
        settleIfDone();
      };
      // The shell died (killed on a timeout, or from outside): the command's fate is its signal.
      this.onExit = () => {
        if (statusText === null) collectOut.flush();
        if (!errDone) collectErr.flush();
        const stdout = Buffer.concat(out);
        const stderr = Buffer.concat(err);
        if (status !== null) return finish({ exitCode: status, signal: null, stdout, stderr });
        if (this.startError !== null) return finish({ exitCode: null, signal: null, stdout, stderr, spawnFailed: `could not start /bin/sh to run ${command}: ${this.startError}` });
        finish({ exitCode: null, signal: killed ? 'SIGTERM' : 'SIGKILL', stdout, stderr });
      };
      this.child.stdin!.write(script);
    });
  }

  close(): Promise<void> {
    this.hold(true);
    this.child.stdin!.end();
    return this.exited;
  }
}

let pool: Server[] | null = null;
let users = 0;

/**
 * Route this process's git commands through fork servers (see the module comment) until the
 * matching stopForkServers(); counted, so agent loops sharing a process can each opt in and out.
 */
export function useForkServers(): void {
  users++;
  pool ??= [];
}

/** The last user gone, end the fork servers; git commands are spawned directly again. */
export async function stopForkServers(): Promise<void> {
  users = Math.max(0, users - 1);
  if (users > 0) return;
  const servers = pool ?? [];
  pool = null;
  await Promise.all(servers.map((s) => s.close()));
}

/**
 * Run `command` through an idle fork server, or null when it should be spawned directly: no
 * servers in use, not git, stdin input to give, or every server busy.
 */
export function serve(command: string, args: string[], env: Record<string, string | undefined>, options: ProcOptions): Promise<Served> | null {
  if (!pool || command !== 'git' || options.input !== undefined) return null;
  // As node's spawn does, a variable set to undefined is left out.
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (!NAME.test(k)) return null;
    vars[k] = v;
  }
  for (let i = pool.length - 1; i >= 0; i--) if (!pool[i]!.alive) pool.splice(i, 1);
  let server = pool.find((s) => !s.busy);
  if (!server) {
    if (pool.length >= POOL_MAX) return null;
    server = new Server(vars);
    pool.push(server);
  }
  return server.serve(command, args, vars, options);
}

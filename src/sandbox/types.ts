/**
 * What a sandbox does for evogit: build (once) an environment image with the project's
 * dependencies, and run one command over a fresh copy of a candidate, isolated, with a
 * wall-clock limit and capped output. Two implementations: Docker (isolates) and local
 * (isolates nothing, and says so on every run).
 */

/** In a command argument, replaced by the absolute work dir of the run. */
export const WORK_TOKEN = '{work}';

export interface EnvironmentSpec {
  /** Base image (docker) or ignored (local). */
  baseImage: string;
  /** Shell lines run in the work dir, once per key. */
  install: string[];
  /** Tar of the manifests/lockfiles the install needs (paths relative to the work dir). */
  manifests: Buffer;
  /** Content hash of manifests + install lines + base image id; names the cached image. */
  key: string;
  /** Allow network for the install step (never for a task run). */
  network: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface Environment {
  /** What runs use as their image (docker: `evogit-env:<key>`). */
  image: string;
  /** Image id (sha256:…) or a description of the local environment. */
  digest: string;
  /** True when an earlier install was reused. */
  cached: boolean;
  /** Output of the install when it ran now. */
  log: string;
}

export interface SandboxRunSpec {
  /** Unique id of this run; containers are labelled with it. */
  runId: string;
  image: string;
  /** Argument array; `{work}` is replaced by the work dir. No shell unless the array asks for one. */
  command: string[];
  /** Tar archives unpacked into the work dir in order; later ones overwrite earlier ones. */
  layers: Buffer[];
  /** The only variables the command sees (plus PATH, HOME, LANG set by the sandbox); `{work}` is replaced in values. */
  env?: Record<string, string>;
  timeoutMs: number;
  /** Cap in bytes on captured stdout+stderr. */
  outputLimit: number;
  /** Files (relative to the work dir) read back after the run. */
  collect?: string[];
  signal?: AbortSignal;
}

export interface SandboxRunResult {
  exitCode: number | null;
  timedOut: boolean;
  /** The kernel killed it for exceeding the memory limit (docker only). */
  oomKilled: boolean;
  aborted: boolean;
  /** stdout and stderr interleaved, capped, with a visible mark where it was cut. */
  output: string;
  /** Bytes the command wrote in total (including what was cut). */
  outputBytes: number;
  truncated: boolean;
  /** Collected files; null when the file was not there. */
  files: Record<string, Buffer | null>;
  /** The whole run: preparing the work dir, the command, collecting the files. */
  durationMs: number;
  /** The command alone, from its start to its exit (what a timeout limits). */
  runMs: number;
}

export interface GcResult {
  removed: string[];
}

export interface Sandbox {
  readonly kind: 'docker' | 'local';
  ensureEnvironment(spec: EnvironmentSpec): Promise<Environment>;
  run(spec: SandboxRunSpec): Promise<SandboxRunResult>;
  /** Id of an image (docker: sha256:…; local: a description), null when it is missing. */
  imageId(image: string): Promise<string | null>;
  /** Remove evogit's left-over containers of processes that are gone. */
  gc(): Promise<GcResult>;
}

export interface SandboxLimits {
  /** Bytes. */
  memory: number;
  cpus: number;
  pids: number;
  user: string;
}

/** Collects output up to a limit and counts what it dropped. */
export class CappedOutput {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.kept >= this.limit) return;
    const room = this.limit - this.kept;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(Buffer.from(part));
    this.kept += part.length;
  }
  get truncated(): boolean {
    return this.total > this.kept;
  }
  text(): string {
    const body = Buffer.concat(this.chunks).toString('utf8');
    if (!this.truncated) return body;
    return `${body}\n[evogit: output truncated: kept ${this.kept} of ${this.total} bytes (sandbox.outputLimit)]\n`;
  }
}

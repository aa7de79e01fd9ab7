/**
 * What a sandbox does for evogit: build (once) an environment image with the project's
 * dependencies, and run one command over a fresh copy of a candidate, isolated, with a
 * wall-clock limit and capped output. Two implementations: Docker (isolates) and local
 * (isolates nothing, and says so on every run).
 */

import type { TarEntry } from './tar.js';
import type { TarLayer } from './stream.js';

/** In a command argument, replaced by the absolute work dir of the run. */
export const WORK_TOKEN = '{work}';
/**
 * In a command argument or a collected path: the run's report directory. In a split run (see
 * SandboxRunSpec.split) only the command's own process can read or write it; otherwise it is a
 * fresh, randomly named directory in the work dir.
 */
export const OUT_TOKEN = '{out}';
/** In a command argument: where SandboxRunSpec.files are (a split run: owned by root, readable by the run's user). */
export const SECURE_TOKEN = '{secure}';

export interface EnvironmentSpec {
  /** Base image (docker) or ignored (local). */
  baseImage: string;
  /** Shell lines run in the work dir, once per key. */
  install: string[];
  /** Tar of the manifests/lockfiles the install needs (paths relative to the work dir), streamed. */
  manifests: TarLayer;
  /** Content hash of manifests + install lines + base image id; names the cached image. */
  key: string;
  /** Allow network for the install step (never for a task run). */
  network: boolean;
  /** Extra variables for the install (e.g. npm_config_ignore_scripts for a candidate's own manifests). */
  env?: Record<string, string>;
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
  /** How it was installed, when that differs from the config (a candidate's own manifests: no network, no scripts). */
  note?: string;
}

export interface SandboxRunSpec {
  /** Unique id of this run; containers are labelled with it. */
  runId: string;
  image: string;
  /** Argument array; `{work}` is replaced by the work dir. No shell unless the array asks for one. */
  command: string[];
  /** Tar archives unpacked into the work dir in order, streamed; later ones overwrite earlier ones. */
  layers: TarLayer[];
  /** evogit's own files for the run (canaries, preloads), put under `{secure}`. */
  files?: TarEntry[];
  /**
   * Run the command itself as root with only the capabilities to change user, while everything
   * else (unpacking, setup, and the processes the command starts) runs as the sandbox user: the
   * command must make its children drop to that user before candidate code loads (a node --test
   * preload does). Docker only; the local sandbox runs it like any other.
   */
  split?: boolean;
  /** Shell lines run as the sandbox user before the command (a split run only; otherwise wrap the command). */
  setup?: string[];
  /** The only variables the command sees (plus PATH, HOME, LANG set by the sandbox); `{work}` is replaced in values. */
  env?: Record<string, string>;
  timeoutMs: number;
  /** Cap in bytes on captured stdout+stderr. */
  outputLimit: number;
  /** Files read back after the run: relative to the work dir, or starting with `{out}/`. */
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
  /** The tree could not be unpacked into the work dir (tar refused it, or it does not fit sandbox.disk): nothing ran. */
  unpack?: { code: number; detail: string };
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
  /** Bytes of the work dir (a tmpfs: it counts against memory too); default 1 GiB. */
  disk?: number;
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

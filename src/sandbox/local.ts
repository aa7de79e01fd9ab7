/**
 * The local sandbox: runs the command as a plain child process in a temp dir. It isolates
 * NOTHING (the candidate can read your files, use your network, and outlive the run), and it
 * says so: on stderr at its first run in a process, and at the top of every run's log. For
 * machines without Docker, on code you trust.
 */
import { mkdtemp, mkdir, rm, readFile, cp, stat, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../proc/index.js';
import { randomBytes } from 'node:crypto';
import { installError } from './install.js';
import { extractTar, makeTar } from './tar.js';
import { layerBytes } from './stream.js';
import { CappedOutput, OUT_TOKEN, SECURE_TOKEN, WORK_TOKEN, type Environment, type EnvironmentSpec, type GcResult, type Sandbox, type SandboxRunResult, type SandboxRunSpec } from './types.js';

/** Marks an environment folder whose install completed. */
const READY = '.evogit-ready';

export const LOCAL_WARNING = 'evogit: WARNING: sandbox.kind is "local": this run isolates NOTHING (no container, host network and files reachable).';

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

export class LocalSandbox implements Sandbox {
  readonly kind = 'local' as const;
  private warned = false;
  constructor(
    private readonly cacheDir = path.join(tmpdir(), 'evogit-local-env'),
    private readonly warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  /**
   * The install runs in a staging folder of its own, renamed into place only when it is
   * complete: agents that prepare the same environment at once each install, the first rename
   * wins, and nobody deletes a folder another one is installing into or running from.
   */
  async ensureEnvironment(spec: EnvironmentSpec): Promise<Environment> {
    const dir = path.join(this.cacheDir, spec.key);
    const digest = `local:${process.platform}-${process.arch}-node${process.versions.node}`;
    if (await exists(path.join(dir, READY))) return { image: dir, digest, cached: true, log: '' };
    await mkdir(this.cacheDir, { recursive: true });
    const staging = await mkdtemp(path.join(this.cacheDir, `${spec.key}.staging-`));
    try {
      extractTar(await layerBytes(spec.manifests), staging);
      const script = spec.install.length ? spec.install.join(' && ') : 'true';
      const result = await run('/bin/sh', ['-c', script], { cwd: staging, env: spec.env, timeoutMs: spec.timeoutMs, signal: spec.signal, reject: false });
      if (result.exitCode !== 0 || result.timedOut) {
        throw installError({ script, exitCode: result.exitCode, timedOut: result.timedOut, timeoutMs: spec.timeoutMs, output: result.stdout + result.stderr, network: true });
      }
      await writeFile(path.join(staging, READY), '');
      const log = result.stdout + result.stderr;
      for (let attempt = 0; ; attempt++) {
        try {
          await rename(staging, dir);
          return { image: dir, digest, cached: false, log };
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
          // Another agent's install won the rename: use it.
          if (await exists(path.join(dir, READY))) return { image: dir, digest, cached: true, log };
          // A folder without the mark: left by an install that died half-way. Replace it, once.
          if (attempt > 0) throw e;
          await rm(dir, { recursive: true, force: true });
        }
      }
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  async run(spec: SandboxRunSpec): Promise<SandboxRunResult> {
    // Once per process: an agent runs hundreds of tasks, and a screen of repeated warnings hides the rest.
    if (!this.warned) this.warn(LOCAL_WARNING);
    this.warned = true;
    const started = performance.now();
    const work = await mkdtemp(path.join(tmpdir(), 'evogit-run-'));
    try {
      if (await exists(spec.image)) await cp(spec.image, work, { recursive: true });
      const outDir = path.join(work, `.evogit-out-${randomBytes(8).toString('hex')}`);
      const secureDir = path.join(work, '.evogit-harness', 'secure');
      const fill = (a: string) => a.split(WORK_TOKEN).join(work).split(OUT_TOKEN).join(outDir).split(SECURE_TOKEN).join(secureDir);
      const layers = spec.files?.length ? [...spec.layers, makeTar(spec.files.map((f) => ({ ...f, path: `${path.relative(work, secureDir)}/${f.path}` })))] : spec.layers;
      // In-process: two tar processes per run cost more than the trivial test they prepare.
      try {
        for (const layer of layers) extractTar(await layerBytes(layer), work);
      } catch (e) {
        const detail = e instanceof Error ? e.message : String(e);
        return { exitCode: null, timedOut: false, aborted: false, oomKilled: false, output: `${LOCAL_WARNING}\n${detail}\n`, outputBytes: 0, truncated: false, files: {}, durationMs: Math.round(performance.now() - started), runMs: 0, unpack: { code: 2, detail } };
      }
      await mkdir(outDir, { recursive: true });
      let command = spec.command.map(fill);
      if (spec.setup?.length) command = ['/bin/sh', '-c', `${spec.setup.join(' && ')} && exec "$@"`, 'evogit-setup', ...command];
      const [cmd, ...args] = command;
      const env = Object.fromEntries(Object.entries(spec.env ?? {}).map(([k, v]) => [k, fill(v)]));
      const commandStarted = performance.now();
      const result = await run(cmd!, args, {
        cwd: work,
        cleanEnv: true,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, LANG: 'C.UTF-8', CI: '1', NO_COLOR: '1', ...env },
        timeoutMs: spec.timeoutMs,
        signal: spec.signal,
        reject: false,
      });
      const runMs = Math.round(performance.now() - commandStarted);
      const out = new CappedOutput(spec.outputLimit);
      out.push(Buffer.from(`${LOCAL_WARNING}\n`));
      out.push(Buffer.from(result.stdout));
      out.push(Buffer.from(result.stderr));
      const files: Record<string, Buffer | null> = {};
      for (const rel of spec.collect ?? []) files[rel] = await readFile(rel.startsWith(OUT_TOKEN) ? fill(rel) : path.join(work, rel)).catch(() => null);
      return {
        exitCode: result.exitCode,
        timedOut: result.timedOut,
        aborted: spec.signal?.aborted ?? false,
        oomKilled: false,
        output: out.text(),
        outputBytes: out.total,
        truncated: out.truncated,
        files,
        durationMs: Math.round(performance.now() - started),
        runMs,
      };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  async imageId(image: string): Promise<string | null> {
    return `local:${image}`;
  }

  async gc(): Promise<GcResult> {
    return { removed: [] };
  }
}

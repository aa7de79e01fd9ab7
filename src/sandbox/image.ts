/** Building the sandbox base images: offline from the host's binaries, or from the Dockerfiles. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, type ProcResult } from '../proc/index.js';
import { InfraError } from '../errors/index.js';

/** The package's sandbox/ folder (Dockerfiles, build-offline.sh, harness/). */
export function sandboxAssetsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'sandbox', 'build-offline.sh'))) return path.join(dir, 'sandbox');
    dir = path.dirname(dir);
  }
  throw new InfraError('E_ASSETS', 'cannot find evogit\'s sandbox/ folder', 'Reinstall evogit; the package ships sandbox/.');
}

export interface BuildImageOptions {
  offline: boolean;
  /** Rebuild even when the images exist. */
  force?: boolean;
  /** Which images (default evogit/node:20 and evogit/python:3). */
  tags?: string[];
  signal?: AbortSignal;
}

/** `evogit sandbox build [--offline]`. */
export async function buildSandboxImages(options: BuildImageOptions): Promise<ProcResult[]> {
  const assets = sandboxAssetsDir();
  const tags = options.tags ?? ['evogit/node:20', 'evogit/python:3'];
  const results: ProcResult[] = [];
  if (options.offline) {
    const args = [...(options.force ? ['--force'] : []), ...tags.flatMap((t) => ['--tag', t])];
    results.push(await runOrThrow(path.join(assets, 'build-offline.sh'), args, assets, options.signal));
    return results;
  }
  for (const tag of tags) {
    const flavour = tag.includes('python') ? 'python' : 'node';
    results.push(await runOrThrow('docker', ['build', '-f', path.join(assets, flavour, 'Dockerfile'), '-t', tag, assets], assets, options.signal));
  }
  return results;
}

async function runOrThrow(cmd: string, args: string[], cwd: string, signal?: AbortSignal): Promise<ProcResult> {
  const result = await run(cmd, args, { cwd, signal, timeoutMs: 15 * 60_000, reject: false });
  if (result.exitCode !== 0) {
    throw new InfraError('E_IMAGE_BUILD', `${path.basename(cmd)} failed: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`, 'Is the Docker daemon running? Without a registry use --offline.');
  }
  return result;
}

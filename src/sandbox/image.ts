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
  /** Also the language images of benchmark suites (sandbox/build-toolchains.sh). */
  languages?: ToolchainLanguage[];
  signal?: AbortSignal;
}

/** The language images, by the name build-toolchains.sh takes; each has sandbox/<dir>/Dockerfile. */
export const TOOLCHAINS = {
  cpp: { tag: 'evogit/cpp:17', dir: 'cpp' },
  go: { tag: 'evogit/go:1', dir: 'go' },
  java: { tag: 'evogit/java:17', dir: 'java' },
  javascript: { tag: 'evogit/jest:29', dir: 'jest' },
  rust: { tag: 'evogit/rust:1', dir: 'rust' },
} as const;
export type ToolchainLanguage = keyof typeof TOOLCHAINS;

/** How to build an image evogit names (for an E_IMAGE_MISSING hint). */
export function buildHint(image: string): string {
  const lang = (Object.keys(TOOLCHAINS) as ToolchainLanguage[]).find((l) => TOOLCHAINS[l].tag === image);
  return lang ? `Build it: \`evogit sandbox build --lang ${lang}\` (add --offline with no registry).` : 'Build it: `evogit sandbox build --offline`.';
}

/** `evogit sandbox build [--offline]`. */
export async function buildSandboxImages(options: BuildImageOptions): Promise<ProcResult[]> {
  const assets = sandboxAssetsDir();
  const tags = options.tags ?? ['evogit/node:20', 'evogit/python:3'];
  const results: ProcResult[] = [];
  const langs = options.languages ?? [];
  if (options.offline) {
    const args = [...(options.force ? ['--force'] : []), ...tags.flatMap((t) => ['--tag', t])];
    results.push(await runOrThrow(path.join(assets, 'build-offline.sh'), args, assets, options.signal));
    if (langs.length) results.push(await runOrThrow(path.join(assets, 'build-toolchains.sh'), [...(options.force ? ['--force'] : []), ...langs], assets, options.signal));
    return results;
  }
  for (const tag of tags) {
    const flavour = tag.includes('python') ? 'python' : 'node';
    results.push(await runOrThrow('docker', ['build', '-f', path.join(assets, flavour, 'Dockerfile'), '-t', tag, assets], assets, options.signal));
  }
  // The language images start from evogit/node:20, built just above.
  for (const lang of langs) results.push(await runOrThrow('docker', ['build', '-f', path.join(assets, TOOLCHAINS[lang].dir, 'Dockerfile'), '-t', TOOLCHAINS[lang].tag, assets], assets, options.signal));
  return results;
}

async function runOrThrow(cmd: string, args: string[], cwd: string, signal?: AbortSignal): Promise<ProcResult> {
  const result = await run(cmd, args, { cwd, signal, timeoutMs: 30 * 60_000, reject: false });
  if (result.exitCode !== 0) {
    throw new InfraError('E_IMAGE_BUILD', `${path.basename(cmd)} failed: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`, 'Is the Docker daemon running? Without a registry use --offline.');
  }
  return result;
}

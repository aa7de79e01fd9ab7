/** Throw-away git repos made from test/fixtures/, and candidate commits on them. */
import { cp, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringifyConfig, type ConfigInput } from '../../src/config/index.js';
import { run } from '../../src/proc/index.js';
import { commitOnBranch, makeRepo, removeDir, revParse, tempDir } from '../helpers/repo.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export interface FixtureRepo {
  dir: string;
  root: string;
  /** Commit a candidate on a fresh branch from the root: path → content, null deletes. */
  candidate(files: Record<string, string | null>, message: string): Promise<string>;
  cleanup(): Promise<void>;
}

let seq = 0;

export async function makeFixtureRepo(name: 'node-calc' | 'py-calc', config: ConfigInput): Promise<FixtureRepo> {
  const dir = await tempDir(`evogit-${name}-`);
  await cp(path.join(fixtures, name), dir, { recursive: true });
  if (name === 'node-calc') {
    // A vendored dependency as a real npm tarball, with a real lockfile: `npm ci` works offline.
    await mkdir(path.join(dir, 'vendor'));
    await run('npm', ['pack', '--pack-destination', path.join(dir, 'vendor'), path.join(dir, 'vendor-src', 'tiny-dep')], { cwd: dir });
    await rm(path.join(dir, 'vendor-src'), { recursive: true });
    await run('npm', ['install', '--package-lock-only', '--offline', '--no-audit', '--no-fund'], { cwd: dir });
  }
  await makeRepo({ '.gitignore': 'node_modules/\n__pycache__/\n', 'evogit.yml': stringifyConfig(config) }, dir, { message: 'base' });
  const root = await revParse(dir);
  return {
    dir,
    root,
    candidate: (files, message) => commitOnBranch(dir, `cand-${++seq}`, root, files, message),
    cleanup: () => removeDir(dir),
  };
}

/** node-calc's src/calc.js whose add() is right only when `ok` (a JS expression) holds, after `prelude` ran. */
export function calc(prelude: string, ok = 'true'): string {
  return `const { double } = require('tiny-dep');\n${prelude}\nmodule.exports = { add: (a, b) => (${ok}) ? a + b : NaN, twice: (x) => double(x) };\n`;
}

/** Every IPv4 address of this host (loopback, the Docker bridge, the LAN): where a sandbox must not reach. */
export function hostAddresses(): string[] {
  const out = new Set(['127.0.0.1']);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4') out.add(a.address);
  return [...out];
}

/** A listener on every address of the host that counts the requests reaching it: a candidate's network hits. */
export async function hitCounter(): Promise<{ port: number; hits: () => number; close: () => void }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.end('reached');
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  return { port: (server.address() as AddressInfo).port, hits: () => hits, close: () => server.close() };
}

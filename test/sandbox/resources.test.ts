/**
 * Attacks on the host's network, disk and memory, and trees the sandbox cannot unpack (issue
 * 16), in real Docker containers: a candidate's npm lifecycle script with the install's
 * network, a test flooding the work dir, a 400 MB file that is 0.4 MB in git, `..` and `.git`
 * entries. Each is graded fail (or contained), never an infrastructure error; a loopback/bridge
 * listener counts zero hits; the work dir never grows past sandbox.disk.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Evaluation } from '../../src/archive/types.js';
import { defaultConfig, type Config } from '../../src/config/index.js';
import type { DockerSandbox} from '../../src/sandbox/index.js';
import { createSandbox, discoverTasks, runTask, type Sandbox } from '../../src/sandbox/index.js';
import { readUses } from '../../src/sandbox/env-cache.js';
import type { TaskSpec } from '../../src/tasks/index.js';
import { describeDocker, ensureTestImage, ownContainers } from '../helpers/docker.js';
import { git, revParse, tempDir } from '../helpers/repo.js';
import { calc, hostAddresses, makeFixtureRepo, type FixtureRepo, hitCounter } from './fixture.js';

describeDocker('host resources, the install, and trees that cannot be unpacked', () => {
  let repo: FixtureRepo;
  let sandbox: Sandbox;
  let config: Config;
  let task: TaskSpec;
  let listener: Awaited<ReturnType<typeof hitCounter>> | undefined;
  let port = 0;
  let cacheDir: string;
  const grade = (commit: string): Promise<Evaluation> => runTask({ repoDir: repo.dir, commit, root: repo.root, task, config, sandbox, writer: 'res', logDir: path.join(repo.dir, '.git', 'evogit', 'logs') });
  /** A candidate commit whose tree is the root's with `entries` (mktree lines) added at the top. */
  const rawCandidate = async (entries: string[], message: string) => {
    const rootTree = await revParse(repo.dir, `${repo.root}^{tree}`);
    const listing = (await git(repo.dir, ['ls-tree', rootTree])).split('\n').filter(Boolean);
    const tree = (await git(repo.dir, ['mktree'], [...listing, ...entries].join('\n') + '\n')).trim();
    return (await git(repo.dir, ['commit-tree', tree, '-p', repo.root, '-m', message])).trim();
  };

  beforeAll(async () => {
    await ensureTestImage();
    cacheDir = await tempDir('evogit-cache-');
    process.env.EVOGIT_CACHE_DIR = cacheDir;
    // The install has the network (the root's manifests are trusted); the work dir is 64 MiB.
    config = defaultConfig({
      language: 'javascript',
      test: { command: 'node --test', install: ['npm ci --no-audit --no-fund'], timeout: '30s' },
      sandbox: { memory: '512m', disk: '64m', installNetwork: true },
    });
    repo = await makeFixtureRepo('node-calc', config);
    sandbox = createSandbox(config);
    task = (await discoverTasks(repo.dir, repo.root, config))[0]!;
    listener = await hitCounter();
    port = listener.port;
  });

  afterAll(async () => {
    delete process.env.EVOGIT_CACHE_DIR;
    listener?.close();
    await repo?.cleanup();
    await rm(cacheDir, { recursive: true, force: true });
    expect(await ownContainers()).toEqual([]);
  });

  it("never runs a candidate's npm lifecycle script, nor gives its manifests the network", async () => {
    const root = await grade(repo.root);
    expect(root.outcome).toBe('fail');
    // The trusted install's use is on record for `evogit gc`.
    expect(Object.keys(readUses()).length).toBeGreaterThan(0);
    const targets = hostAddresses().map((a) => `http://${a}:${port}/`);
    const phone = `for (const u of ${JSON.stringify(targets)}) fetch(u).catch(() => {}); require('fs').writeFileSync('/env/PLANTED', 'x'); require('fs').writeFileSync('src/calc.js', 'exports.add = (a, b) => a + b;');`;
    const pkg = JSON.parse(await readFile(path.join(repo.dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    pkg.scripts = { preinstall: `node -e ${JSON.stringify(phone)}; sleep 3`, test: 'node --test' };
    const probe = "console.log('PLANTED', require('fs').existsSync('/env/PLANTED'));";
    const before = listener!.hits();
    const ev = await grade(await repo.candidate({ 'package.json': `${JSON.stringify(pkg, null, 2)}\n`, 'src/calc.js': calc(probe, 'false') }, 'a preinstall script'));
    expect(listener!.hits()).toBe(before);
    expect(ev.outcome).toBe('fail');
    const logs = await Promise.all((await readdir(path.join(repo.dir, '.git', 'evogit', 'logs'))).map((f) => readFile(path.join(repo.dir, '.git', 'evogit', 'logs', f), 'utf8')));
    expect(logs.some((l) => l.includes('without network and without lifecycle scripts') && l.includes('PLANTED false'))).toBe(true);
    expect(ev.log).toMatch(/PLANTED false/);
  });

  it('caps the work dir at sandbox.disk: a test writing 1.5 GB stops at 64 MiB', async () => {
    const flood = `
const fs = require('fs');
let wrote = 0;
const chunk = Buffer.alloc(16 * 1024 * 1024, 1);
try { for (let i = 0; i < 96; i++) { fs.appendFileSync('flood.bin', chunk); wrote += chunk.length; } } catch (e) { console.log('STOPPED', e.code); }
console.log('WROTE', wrote);`;
    const ev = await grade(await repo.candidate({ 'src/calc.js': calc(flood, 'false') }, 'flood the disk'));
    expect(ev.outcome).toBe('fail');
    expect(ev.log).toMatch(/STOPPED ENOSPC/);
    const wrote = Number(/WROTE (\d+)/.exec(ev.log ?? '')?.[1]);
    expect(wrote).toBeLessThanOrEqual(64 * 1024 * 1024);
  });

  it('streams a 400 MB file (0.4 MB in git) without holding it, and grades the tree that does not fit as unpackable', async () => {
    // Made by git from a stream: nothing of it passes through this process before the run.
    const { run } = await import('../../src/proc/index.js');
    const blob = (await run('/bin/sh', ['-c', 'head -c 419430400 /dev/zero | git hash-object -w --stdin'], { cwd: repo.dir })).stdout.trim();
    const commit = await rawCandidate([`100644 blob ${blob}\tdata.bin`], 'a 400 MB file');
    let peak = 0;
    const base = process.memoryUsage().rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const ev = await grade(commit).finally(() => clearInterval(sampler));
    expect(ev.outcome).toBe('fail');
    expect(ev.reason).toMatch(/^unpackable: the tree does not fit in sandbox.disk \(64m\)/);
    // The tree went through in chunks: evogit's memory grew by far less than the file (what
    // remains is buffers the collector has not freed yet; held whole it was 1.3 GB).
    expect((peak - base) / 1024 / 1024).toBeLessThan(200);
  });

  it('grades a tree with a ".." or ".git" entry fail (unpackable), not an infrastructure error', async () => {
    const blob = await revParse(repo.dir, `${repo.root}:src/calc.js`);
    const sub = (await git(repo.dir, ['mktree'], `100644 blob ${blob}\tx\n`)).trim();
    for (const entry of [`040000 tree ${sub}\t..`, `040000 tree ${sub}\t.git`]) {
      const ev = await grade(await rawCandidate([entry], 'a path git refuses'));
      expect(ev.outcome).toBe('fail');
      expect(ev.reason).toMatch(/^unpackable: the tree has paths git refuses/);
    }
    // A symbolic link out of the work dir is unpacked as it is, and is harmless in the container.
    const link = (await git(repo.dir, ['hash-object', '-w', '--stdin'], '/etc')).trim();
    const ev = await grade(await rawCandidate([`120000 blob ${link}\tevil`], 'a link out'));
    expect(ev.outcome).toBe('fail');
    expect(ev.reason).not.toMatch(/unpackable/);
  });

  it('evogit gc removes environment images least recently used first, down to the cap', async () => {
    const docker = new Docker();
    const keys = ['gc-test-old', 'gc-test-mid', 'gc-test-new'];
    const made: string[] = [];
    for (const key of keys) {
      const c = await docker.createContainer({ Image: 'evogit/node:20', User: '0:0', Cmd: ['/bin/sh', '-c', `head -c 4000000 /dev/urandom > /blob-${key}`], Labels: { 'evogit.owner': 'evogit', 'evogit.env': key, 'evogit.pid': String(process.pid) } });
      await c.start();
      await c.wait();
      await c.commit({ repo: 'evogit-env', tag: key });
      await c.remove({ force: true });
      made.push(`evogit-env:${key}`);
    }
    const now = Date.now();
    await writeFile(path.join(cacheDir, 'env-images.json'), JSON.stringify({ 'gc-test-old': now - 3e6, 'gc-test-mid': now - 2e6, 'gc-test-new': now - 1e6 }));
    try {
      const r = await (sandbox as DockerSandbox).gcEnvironments(9_000_000, (k) => k.startsWith('gc-test-'));
      expect(r.removed).toEqual(['evogit-env:gc-test-old']);
      const left = await Promise.all(made.map((m) => docker.getImage(m).inspect().then(() => m, () => null)));
      expect(left).toEqual([null, 'evogit-env:gc-test-mid', 'evogit-env:gc-test-new']);
      expect((await (sandbox as DockerSandbox).gcEnvironments(0, (k) => k.startsWith('gc-test-'))).removed).toEqual(['evogit-env:gc-test-mid', 'evogit-env:gc-test-new']);
    } finally {
      for (const m of made) await docker.getImage(m).remove({ force: true }).catch(() => undefined);
    }
  });
});

/**
 * Hostile candidates, each a commit on a throw-away repo, graded through runTask in a real
 * Docker container: every one must come back `fail` (or rejected as tampering), with the host
 * untouched and no container of ours left behind.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Evaluation } from '../../src/archive/types.js';
import { defaultConfig, type Config } from '../../src/config/index.js';
import { createSandbox, discoverTasks, runTask, type Sandbox } from '../../src/sandbox/index.js';
import type { TaskSpec } from '../../src/tasks/index.js';
import { describeDocker, ensureTestImage, ownContainers } from '../helpers/docker.js';
import { git, revParse } from '../helpers/repo.js';
import { calc, hostAddresses, makeFixtureRepo, type FixtureRepo, hitCounter } from './fixture.js';

const FAKE_KEY = 'sk-evogit-fake-host-secret-1234567890';

describeDocker('runTask in Docker against hostile candidates', () => {
  let repo: FixtureRepo;
  let sandbox: Sandbox;
  let config: Config;
  let task: TaskSpec;
  let listener: Awaited<ReturnType<typeof hitCounter>> | undefined;
  let port = 0;
  const logDir = () => path.join(repo.dir, '.git', 'evogit', 'logs');
  const grade = (commit: string, overrides: Partial<TaskSpec> = {}): Promise<Evaluation> =>
    runTask({ repoDir: repo.dir, commit, root: repo.root, task: { ...task, ...overrides }, config, sandbox, writer: 'tester', logDir: logDir() });

  beforeAll(async () => {
    process.env.EVOGIT_TEST_API_KEY = FAKE_KEY;
    process.env.OPENAI_API_KEY = FAKE_KEY;
    await ensureTestImage();
    config = defaultConfig({
      language: 'javascript',
      test: { command: 'node --test', install: ['npm ci --offline --no-audit --no-fund'], timeout: '20s' },
      sandbox: { memory: '256m', pids: 64, outputLimit: '64k', installNetwork: false },
    });
    repo = await makeFixtureRepo('node-calc', config);
    sandbox = createSandbox(config);
    task = (await discoverTasks(repo.dir, repo.root, config))[0]!;
    listener = await hitCounter();
    port = listener.port;
  });

  afterEach(async () => {
    // The host repo is untouched and no container of ours survives a run.
    expect((await git(repo.dir, ['status', '--porcelain', '--untracked-files=all'])).trim()).toBe('');
    expect(await ownContainers()).toEqual([]);
  });

  afterAll(async () => {
    delete process.env.EVOGIT_TEST_API_KEY;
    delete process.env.OPENAI_API_KEY;
    listener?.close();
    await repo?.cleanup();
  });

  it('grades the base commit fail and a real fix pass, with per-test results', async () => {
    expect(task.id).toBe('test/calc.test.js');
    const base = await grade(repo.root);
    expect(base.outcome).toBe('fail');
    expect(base.testResults).toEqual({ 'add adds': 'fail', 'twice uses the vendored dependency': 'pass' });
    const fixed = await grade(await repo.candidate({ 'src/calc.js': calc('') }, 'fix add'));
    expect(fixed).toMatchObject({ outcome: 'pass', harness: 'docker', writer: 'tester', tests: { passed: 2, failed: 0, total: 2 } });
    expect(fixed.image).toMatch(/^sha256:/);
    // The full log is on disk; the evaluation carries only a tail.
    const logs = await readdir(logDir());
    expect(logs.length).toBeGreaterThanOrEqual(2);
    expect((fixed.log ?? '').length).toBeLessThanOrEqual(2100);
  });

  it('kills an infinite loop at the wall-clock timeout', async () => {
    const c = await repo.candidate({ 'src/calc.js': calc('while (true) {}') }, 'spin');
    const t = performance.now();
    const ev = await grade(c, { timeoutMs: 4000 });
    expect(ev.outcome).toBe('fail');
    expect(ev.reason).toMatch(/timeout/);
    expect(performance.now() - t).toBeLessThan(15_000);
  });

  it('contains a fork bomb with the pids limit', async () => {
    const bomb = "require('child_process').spawnSync('/bin/sh', ['-c', 'f() { f | f & }; f; sleep 3'], { stdio: 'inherit' });";
    const ev = await grade(await repo.candidate({ 'src/calc.js': calc(bomb, 'false') }, 'fork bomb'), { timeoutMs: 8000 });
    expect(ev.outcome).toBe('fail');
    // The host still forks fine, and the container is gone (afterEach).
    expect((await revParse(repo.dir)).length).toBe(40);
  });

  it('kills a memory bomb at the memory limit', async () => {
    const bomb = 'const hog = []; for (;;) hog.push(Buffer.alloc(32 * 1024 * 1024, 1));';
    const ev = await grade(await repo.candidate({ 'src/calc.js': calc(bomb) }, 'memory bomb'));
    expect(ev.outcome).toBe('fail');
    expect(ev.log).toMatch(/exit (137|1)|out of memory/);
  });

  it('cannot reach a server on the host (loopback or docker bridge)', async () => {
    const targets = hostAddresses().map((a) => `http://${a}:${port}/`);
    const probe = `
const { execFileSync } = require('child_process');
let reached = false;
for (const url of ${JSON.stringify(targets)}) {
  try {
    const out = execFileSync('node', ['-e', 'fetch(process.argv[1]).then(r => r.text()).then(t => process.stdout.write(t), () => process.exit(3))', url], { timeout: 3000 });
    if (String(out).includes('reached')) reached = true;
  } catch (e) { console.log('blocked', url); }
}`;
    const before = listener!.hits();
    const ev = await grade(await repo.candidate({ 'src/calc.js': calc(probe, 'reached') }, 'phone home'));
    expect(ev.outcome).toBe('fail');
    expect(listener!.hits()).toBe(before);
    expect(ev.log).toContain('blocked');
  });

  it('cannot write outside the work dir, nor to the host repo', async () => {
    const escape = `
const fs = require('fs');
let wrote = 0;
for (const p of ['/etc/evogit-pwned', '/usr/evogit-pwned', '/evogit-pwned', '/home/evogit/pwned']) {
  try { fs.writeFileSync(p, 'pwned'); wrote++; console.log('WROTE', p); }
  catch (e) { console.log('refused', p, e.code); }
}
// The host repo's path does not exist in the container: whatever lands there (in the
// container's own tmpfs /tmp) vanishes with it.
for (const p of [${JSON.stringify(path.join(repo.dir, 'pwned'))}, ${JSON.stringify(path.join(repo.dir, 'src', 'calc.js'))}]) {
  try { fs.mkdirSync(require('path').dirname(p), { recursive: true }); fs.writeFileSync(p, 'pwned'); } catch (e) { console.log('refused', p, e.code); }
}`;
    const ev = await grade(await repo.candidate({ 'src/calc.js': calc(escape, 'wrote > 0') }, 'escape'));
    expect(ev.outcome).toBe('fail');
    expect(ev.log).toMatch(/refused \/etc\/evogit-pwned EROFS/);
    expect(ev.log).not.toContain('WROTE');
    expect(existsSync(path.join(repo.dir, 'pwned'))).toBe(false);
    expect(existsSync('/etc/evogit-pwned')).toBe(false);
    expect(await readFile(path.join(repo.dir, 'src', 'calc.js'), 'utf8')).toContain('a - b');
  });

  it('does not see the host environment (a fake API key set on the host is absent)', async () => {
    const snoop = "console.log('ENV', JSON.stringify(process.env)); const key = process.env.EVOGIT_TEST_API_KEY || process.env.OPENAI_API_KEY;";
    const ev = await grade(await repo.candidate({ 'src/calc.js': calc(snoop, 'key') }, 'snoop'));
    expect(ev.outcome).toBe('fail');
    const full = await Promise.all((await readdir(logDir())).map((f) => readFile(path.join(logDir(), f), 'utf8')));
    expect(full.join('\n')).not.toContain(FAKE_KEY);
    expect(ev.log).toContain('ENV');
  });

  it('caps 50 MB of output with a visible mark', async () => {
    // A custom command (a plain run): its output is the container's. Under node --test the test
    // processes cannot write there at all (the next test).
    const flood = "const chunk = 'x'.repeat(1024 * 1024) + '\\n'; for (let i = 0; i < 50; i++) process.stdout.write(chunk);";
    const c = await repo.candidate({ 'flood.js': flood }, 'flood');
    const ev = await grade(c, { command: ['node', 'flood.js'], resultFormat: 'none' });
    expect(ev.outcome).toBe('pass');
    expect(ev.reason).toMatch(/output truncated/);
    const logs = await readdir(logDir());
    const sizes = await Promise.all(logs.map(async (f) => (await readFile(path.join(logDir(), f))).length));
    expect(Math.max(...sizes)).toBeLessThan(200 * 1024);
    const newest = await Promise.all(logs.map((f) => readFile(path.join(logDir(), f), 'utf8')));
    expect(newest.some((t) => /output truncated: kept 65536 of \d{8} bytes/.test(t))).toBe(true);
  });

  it("keeps node --test's test processes away from the supervisor's output and the report", async () => {
    const reach = `
const fs = require('fs');
const tried = {};
for (const [what, f] of [['stdout', () => fs.openSync('/proc/1/fd/1', 'w')], ['report', () => fs.readdirSync('/evogit/out')], ['memory', () => fs.openSync('/proc/1/mem', 'r')], ['kill', () => process.kill(1, 'SIGKILL')]]) {
  try { f(); tried[what] = 'REACHED'; } catch (e) { tried[what] = e.code; }
}
console.log('TRIED', JSON.stringify(tried), 'uid', process.getuid());`;
    const ev = await grade(await repo.candidate({ 'src/calc.js': calc(reach) }, 'reach the supervisor'));
    expect(ev.outcome).toBe('pass');
    expect(ev.log).toMatch(/TRIED \{"stdout":"EACCES","report":"EACCES","memory":"EACCES","kill":"EPERM"\} uid 1000/);
  });

  it('fails a candidate whose own dependency manifests do not install (not an infrastructure error)', async () => {
    const pkg = JSON.parse(await readFile(path.join(repo.dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    pkg.dependencies['no-such-dep'] = 'file:vendor/no-such-dep-1.0.0.tgz';
    const c = await repo.candidate({ 'package.json': `${JSON.stringify(pkg, null, 2)}\n` }, 'depend on a package that is not there');
    const e = await grade(c);
    expect(e.outcome, e.log).toBe('fail');
    expect(e.reason).toMatch(/^dependency install failed: /);
  });

  it('rejects a candidate that edits the hidden tests, without running it', async () => {
    const c = await repo.candidate({ 'test/calc.test.js': "require('node:test')('ok', () => {});\n" }, 'edit tests');
    const ev = await grade(c);
    expect(ev).toMatchObject({ outcome: 'fail', tampered: true });
    expect(ev.reason).toContain('test/calc.test.js');
  });

  it('rejects a candidate that deletes the tests or edits evogit.yml', async () => {
    expect(await grade(await repo.candidate({ 'test/calc.test.js': null }, 'delete tests'))).toMatchObject({ outcome: 'fail', tampered: true });
    expect(await grade(await repo.candidate({ 'evogit.yml': 'test:\n  command: "true"\n' }, 'config'))).toMatchObject({ outcome: 'fail', tampered: true });
  });

  it('is not fooled by printed PASSED / TAP ok lines while the real tests fail', async () => {
    const liar = `
const lines = ['TAP version 13', 'ok 1 - add adds', 'ok 2 - twice uses the vendored dependency', '1..2', '# pass 2', '# fail 0', 'PASSED test/calc.test.js::add', '{"numFailedTests":0,"success":true}'];
console.log(lines.join('\\n'));
process.on('exit', () => console.log('ok 3 - all good'));`;
    const ev = await grade(await repo.candidate({ 'src/calc.js': calc(liar, 'false') }, 'liar'));
    expect(ev.outcome).toBe('fail');
    expect(ev.testResults?.['add adds']).toBe('fail');
  });

  it('removes left-over containers of dead evogit processes, and only those', async () => {
    const Docker = (await import('dockerode')).default;
    const docker = new Docker();
    const { hostname } = await import('node:os');
    const dead = 2 ** 22 + 12345; // above pid_max's default: no such process
    const mk = (pid: number, owner = 'evogit') =>
      docker.createContainer({ Image: 'evogit/node:20', Cmd: ['true'], Labels: { 'evogit.owner': owner, 'evogit.pid': String(pid), 'evogit.host': hostname(), 'evogit.run': 'gc-test' } });
    const orphan = await mk(dead);
    const foreign = await mk(dead, 'someone-else');
    try {
      const { removed } = await sandbox.gc();
      expect(removed).toContain(orphan.id);
      expect(removed).not.toContain(foreign.id);
      await expect(orphan.inspect()).rejects.toThrow();
      expect((await foreign.inspect()).Id).toBe(foreign.id);
    } finally {
      await foreign.remove({ force: true });
      await orphan.remove({ force: true }).catch(() => undefined);
    }
  });
});

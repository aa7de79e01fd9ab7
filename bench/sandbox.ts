/**
 * bench/sandbox: (1) evogit's per-task overhead for a trivial test against a bare
 * `docker run --rm` of the same image doing the same command; (2) the second candidate of a
 * project with ~200 npm dependencies against the first, which has to build the environment
 * image. Offline: the 200 dependencies are generated as local npm tarballs.
 *
 *   npx tsx bench/sandbox.ts [--record]   (--record appends the figures to BENCHMARKS.md)
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, freemem, totalmem, tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { defaultConfig, stringifyConfig, type Config } from '../src/config/index.js';
import { run } from '../src/proc/index.js';
import { buildSandboxImages, createSandbox, discoverTasks, makeTar, runTask, type Sandbox } from '../src/sandbox/index.js';

const GIT_ENV = { GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
const git = async (dir: string, ...args: string[]) => (await run('git', args, { cwd: dir, env: GIT_ENV })).stdout.trim();

async function commitAll(dir: string, message: string): Promise<string> {
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function makeRepo(files: Record<string, string | Buffer>, config: Config): Promise<{ dir: string; root: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'evogit-bench-sandbox-'));
  for (const [f, c] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await writeFile(path.join(dir, f), c);
  }
  await writeFile(path.join(dir, 'evogit.yml'), stringifyConfig(config));
  await writeFile(path.join(dir, '.gitignore'), 'node_modules/\n');
  await git(dir, 'init', '-q', '-b', 'main');
  return { dir, root: await commitAll(dir, 'base') };
}

const TEST = "const test = require('node:test');\nconst assert = require('node:assert');\ntest('trivial', () => assert.ok(true));\n";

async function overhead(sandbox: Sandbox, runs: number): Promise<{ evogit: number; docker: number }> {
  const config = defaultConfig({ language: 'javascript', test: { command: 'node --test' } });
  const { dir, root } = await makeRepo({ 'package.json': '{"name":"t","version":"1.0.0"}', 'trivial.test.js': TEST }, config);
  try {
    const [task] = await discoverTasks(dir, root, config);
    const logDir = path.join(dir, '.git', 'evogit', 'logs');
    const first = await runTask({ repoDir: dir, commit: root, root, task: task!, config, sandbox, writer: 'bench', logDir });
    if (first.outcome !== 'pass') throw new Error(`trivial task did not pass: ${first.reason}`);
    const envImage = (await run('docker', ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'], { cwd: dir })).stdout
      .split('\n')
      .find((l) => first.image && first.image.includes(l.split(' ')[1] ?? '-'))
      ?.split(' ')[0];
    if (!envImage) throw new Error('environment image not found');
    const ev: number[] = [];
    const dk: number[] = [];
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      const e = await runTask({ repoDir: dir, commit: root, root, task: task!, config, sandbox, writer: 'bench', logDir });
      if (e.outcome !== 'pass') throw new Error(`run ${i} did not pass`);
      ev.push(performance.now() - t);
      t = performance.now();
      await run('docker', ['run', '--rm', '-i', '--network', 'none', envImage, 'sh', '-c', 'cat > trivial.test.js && node --test --test-reporter=tap trivial.test.js'], { cwd: dir, input: TEST });
      dk.push(performance.now() - t);
    }
    return { evogit: median(ev), docker: median(dk) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * One generated dependency shaped like a small real npm package: a manifest, a README and a
 * licence, an entry point, a dozen library modules and type declarations — 16 files, ~30 KB
 * unpacked (the median published npm package is larger; this errs on the small side).
 */
function packageFiles(name: string, value: number): { path: string; content: string }[] {
  const modules = Array.from({ length: 12 }, (_, k) => ({
    path: `package/lib/part${k}.js`,
    content: `'use strict';\n// ${name}: part ${k}\n${Array.from({ length: 40 }, (_, l) => `exports.f${l} = function f${l}(x) { return typeof x === 'number' ? x + ${l} : String(x).length + ${k}; };`).join('\n')}\n`,
  }));
  return [
    { path: 'package/package.json', content: JSON.stringify({ name, version: '1.0.0', main: 'index.js', types: 'index.d.ts', license: 'MIT' }, null, 2) },
    { path: 'package/README.md', content: `# ${name}\n\n${'A small utility package used by the evogit sandbox benchmark. '.repeat(30)}\n` },
    { path: 'package/LICENSE', content: `MIT License\n\n${'Permission is hereby granted, free of charge, to any person obtaining a copy. '.repeat(12)}\n` },
    { path: 'package/index.js', content: `'use strict';\n${modules.map((m, k) => `require('./lib/part${k}.js');`).join('\n')}\nmodule.exports = ${value};\n` },
    { path: 'package/index.d.ts', content: `declare const value: number;\nexport = value;\n` },
    ...modules,
  ];
}

async function manyDeps(sandbox: Sandbox, count: number): Promise<{ first: number; second: number; install: number }> {
  const files: Record<string, string | Buffer> = {};
  const deps: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const name = `dep-${String(i).padStart(3, '0')}`;
    const tar = makeTar(packageFiles(name, i), { uid: 0, gid: 0 });
    files[`vendor/${name}-1.0.0.tgz`] = gzipSync(tar);
    deps[name] = `file:vendor/${name}-1.0.0.tgz`;
  }
  // A fresh description every run: a new manifest hash, so the first candidate is really cold.
  files['package.json'] = JSON.stringify({ name: 'many', version: '1.0.0', description: randomBytes(6).toString('hex'), dependencies: deps }, null, 2);
  files['src/sum.js'] = "const deps = Object.keys(require('../package.json').dependencies).map((d) => require(d));\nmodule.exports = () => deps.reduce((a, b) => a + b, 0);\n";
  files['test/sum.test.js'] = `const test = require('node:test');\nconst assert = require('node:assert');\ntest('sums', () => assert.strictEqual(require('../src/sum.js')(), ${(count * (count - 1)) / 2}));\n`;
  const config = defaultConfig({ language: 'javascript', test: { command: 'node --test', install: ['npm ci --offline --no-audit --no-fund'] }, sandbox: { installNetwork: false } });
  const dir = await mkdtemp(path.join(tmpdir(), 'evogit-bench-lock-'));
  try {
    for (const [f, c] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
      await writeFile(path.join(dir, f), c);
    }
    await run('npm', ['install', '--package-lock-only', '--offline', '--no-audit', '--no-fund'], { cwd: dir });
    files['package-lock.json'] = await readFile(path.join(dir, 'package-lock.json'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const repo = await makeRepo(files, config);
  try {
    const [task] = await discoverTasks(repo.dir, repo.root, config);
    const logDir = path.join(repo.dir, '.git', 'evogit', 'logs');
    const candidate = async (n: number): Promise<string> => {
      await git(repo.dir, 'checkout', '-q', '-B', `c${n}`, repo.root);
      await writeFile(path.join(repo.dir, 'src', 'sum.js'), `${files['src/sum.js']}// candidate ${n}\n`);
      return commitAll(repo.dir, `candidate ${n}`);
    };
    const c1 = await candidate(1);
    const c2 = await candidate(2);
    let t = performance.now();
    const e1 = await runTask({ repoDir: repo.dir, commit: c1, root: repo.root, task: task!, config, sandbox, writer: 'bench', logDir });
    const first = performance.now() - t;
    if (e1.outcome !== 'pass') throw new Error(`first candidate: ${e1.outcome} ${e1.reason}\n${e1.log}`);
    const installMatch = /added (\d+) packages/.exec(e1.log ?? '');
    t = performance.now();
    const e2 = await runTask({ repoDir: repo.dir, commit: c2, root: repo.root, task: task!, config, sandbox, writer: 'bench', logDir });
    const second = performance.now() - t;
    if (e2.outcome !== 'pass') throw new Error(`second candidate: ${e2.outcome} ${e2.reason}`);
    return { first, second, install: Number(installMatch?.[1] ?? count) };
  } finally {
    await rm(repo.dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await buildSandboxImages({ offline: true });
  const config = defaultConfig({ test: { command: 'node --test' } });
  const sandbox = createSandbox(config);
  const o = await overhead(sandbox, 7);
  const m = await manyDeps(sandbox, 200);
  const cpu = cpus()[0]?.model ?? 'unknown';
  const lines = [
    '',
    '## bench/sandbox',
    '',
    `Machine: ${cpus().length} cores (nproc), ${Math.round(totalmem() / 2 ** 30)} GB RAM (${Math.round(freemem() / 2 ** 30)} GB free), ${cpu}; Docker ${(await run('docker', ['version', '-f', '{{.Server.Version}}'], { cwd: '.' })).stdout.trim()}, Node ${process.version}. ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| measure | figure | target |',
    '|---|---|---|',
    `| trivial task, evogit runTask (median of 7, env image cached) | ${o.evogit.toFixed(0)} ms | |`,
    `| same image, same command, bare \`docker run --rm\` (median of 7) | ${o.docker.toFixed(0)} ms | |`,
    `| overhead ratio evogit / docker run | **${(o.evogit / o.docker).toFixed(2)}×** | ≤ 1.5× |`,
    `| 200-dependency project, first candidate (npm ci of ${m.install} packages + env image commit + run) | ${m.first.toFixed(0)} ms | |`,
    `| same project, second candidate (env image reused) | ${m.second.toFixed(0)} ms | |`,
    `| speed-up second vs first | **${(m.first / m.second).toFixed(1)}×** | ≥ 10× |`,
    '',
    'runTask includes what `docker run` does not: the tamper and support-file checks, `git archive`',
    'of the candidate streamed into the container\'s supervisor with the hidden tests, the split run',
    '(root runner, test processes as the sandbox user) with its canary entries, the report sent',
    'back as frames, parsing and grading, and writing the log.',
    '',
  ];
  const text = lines.join('\n');
  process.stdout.write(`${text}\n`);
  if (process.argv.includes('--record')) await appendFile(path.resolve('BENCHMARKS.md'), text);
}

await main();

/**
 * bench/archive: how fast and how lean Archive.load() is on a large archive.
 *
 *   npx tsx bench/archive.ts [--nodes 100000] [--evals-per-node 3] [--writers 10] [--log-bytes 2048] [--loose 10000] [--keep] [--dir KEPT_ARCHIVE]
 *
 * Run `npm run build` first: the cold loads run the built evogit (bench/archive-load.mjs).
 *
 * Builds a synthetic archive with `git fast-import` (commits with Evogit-* trailers on
 * evo/w<k>/<seq> branches, 2% crossovers, 10% of inner nodes pruned, evaluation notes per
 * writer), then measures in one run:
 *   - raw reference: `git log --all` printing the same fields plus the notes (--notes=evogit/*)
 *   - evogit cold load (cache deleted) in a fresh process, as a user's first `evogit status`
 *     runs it, with its peak RSS: three pairs, each load right after its reference
 *   - incremental refresh after 100 new nodes (+100 evaluation lines), in-process (an archive
 *     opened as the loop opens it) and from the cache file
 *   - a long run's loose refs: with --loose N more branches written as loose ref files (what a
 *     run leaves when nothing packs them), the same refresh by a loop's archive that does not
 *     pack them and by one that does (Archive.packRefsIfDue), and what the pack itself costs
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Archive } from '../src/archive/index.js';
import { LOG_FORMAT } from '../src/git/index.js';
import { run } from '../src/proc/index.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Deterministic PRNG so every run builds the same archive. */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n;
  };
}

function data(text: string): string {
  return `data ${Buffer.byteLength(text)}\n${text}\n`;
}

const OPS = ['mutate', 'llm', 'command', 'self'];
const IMAGE_DIGEST = '9b2f6c1d0e8a4b7f3c5d2e1a0f9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b';

/**
 * A log tail shaped like the ones runTask keeps (its last LOG_TAIL = 2048 characters): the
 * command banner, the runner's output, the exit line and the JUnit results file.
 */
function logTail(r: (n: number) => number, outcome: string, file: number, max: number): string {
  const cases = 12;
  const out: string[] = [`--- npx vitest run test/file${file}.test.js --reporter=junit --outputFile=/results/junit.xml ---`];
  out.push(` RUN  v1.6.0 /work`);
  for (let c = 0; c < cases; c++) {
    const failed = outcome === 'fail' && c >= cases - 2;
    out.push(` ${failed ? '×' : '✓'} test/file${file}.test.js > case ${c} ${Math.floor(r(40))}ms`);
    if (failed) out.push(`   → expected ${Math.floor(r(100))} to be ${Math.floor(r(100))} // Object.is equality\n     at test/file${file}.test.js:${10 + c * 7}:${5 + Math.floor(r(20))}`);
  }
  out.push(` Test Files  ${outcome === 'fail' ? '1 failed' : '1 passed'} (1)`);
  out.push(`      Tests  ${outcome === 'fail' ? '2 failed | 10 passed' : '12 passed'} (12)`);
  out.push(`--- exit ${outcome === 'pass' ? 0 : 1} in ${Math.floor(r(5000))} ms ---`);
  out.push('--- results (junit.xml) ---');
  out.push('<?xml version="1.0" encoding="UTF-8" ?>');
  out.push(`<testsuites name="vitest tests" tests="12" failures="${outcome === 'fail' ? 2 : 0}" errors="0" time="${r(3).toFixed(3)}">`);
  for (let c = 0; c < cases; c++) out.push(`  <testcase classname="test/file${file}.test.js" name="case ${c}" time="${r(0.05).toFixed(4)}"/>`);
  out.push('</testsuites>');
  const text = out.join('\n') + '\n';
  return text.length <= max ? text : `…${text.slice(-max)}`;
}

async function build(dir: string, nodes: number, evalsPerNode: number, writers: number, logBytes: number): Promise<{ branchesDeleted: number; lines: number }> {
  const r = rng(7);
  const chunks: string[] = [];
  const t0 = 1_700_000_000;
  chunks.push(`blob\nmark :1\n${data('base\n')}`);
  chunks.push(`commit refs/heads/main\nmark :2\ncommitter b <b@x> ${t0} +0000\n${data('base\n')}M 100644 :1 a.txt\n`);
  chunks.push(`reset refs/heads/evo/root\nfrom :2\n\n`);
  const seqs = new Array<number>(writers).fill(0);
  const branchOf: string[] = [];
  const hasChild = new Uint8Array(nodes);
  for (let i = 0; i < nodes; i++) {
    const w = i % writers;
    const seq = ++seqs[w]!;
    const branch = `evo/w${w}/${seq}`;
    branchOf.push(branch);
    // Mostly grow recent nodes (chains), sometimes any node (a bushy tree).
    const parent = i === 0 ? -1 : r(1) < 0.7 ? Math.max(0, i - 1 - Math.floor(r(20))) : Math.floor(r(i));
    if (parent >= 0) hasChild[parent] = 1;
    const parentMark = parent < 0 ? ':2' : `:${parent + 3}`;
    const op = i > 10 && r(1) < 0.02 ? 'crossover' : OPS[Math.floor(r(OPS.length))]!;
    let msg = `candidate ${i}: tweak line ${Math.floor(r(500))}\n\nEvogit-Writer: w${w}\nEvogit-Agent: agent-${w % 3}\nEvogit-Operator: ${op}\n`;
    if (op === 'llm') msg += `Evogit-Model: gpt-4o-mini\nEvogit-Cost: ${(r(1) / 100).toFixed(5)}\n`;
    chunks.push(`commit refs/heads/${branch}\nmark :${i + 3}\ncommitter b <b@x> ${t0 + i} +0000\n${data(msg)}from ${parentMark}\n`);
    if (op === 'crossover') {
      const other = Math.floor(r(i));
      if (other !== parent) {
        chunks.push(`merge :${other + 3}\n`);
        hasChild[other] = 1;
      }
    }
    chunks.push(`M 100644 inline a.txt\n${data(`content of node ${i}\n`)}`);
  }
  // Evaluations: evalsPerNode lines per node on average, spread over writers' notes refs.
  const perWriter: Map<number, string[]>[] = Array.from({ length: writers }, () => new Map());
  let lines = 0;
  for (let i = 0; i < nodes; i++) {
    for (let k = 0; k < evalsPerNode; k++) {
      const w = Math.floor(r(writers));
      const outcome = r(1) < 0.6 ? 'pass' : r(1) < 0.9 ? 'fail' : 'error';
      const line = JSON.stringify({
        node: '', // filled from the mark below: fast-import knows the SHA, we do not
        task: `test/file${Math.floor(r(40))}.test.js`,
        outcome,
        tests: { passed: 10, failed: outcome === 'fail' ? 2 : 0, skipped: 0, total: 12 },
        durationMs: Math.floor(r(5000)),
        harness: 'docker',
        image: `sha256:${IMAGE_DIGEST}`,
        writer: `w${w}`,
        time: new Date(Date.UTC(2025, 5, 1) + i * 60_000 + k * 1000).toISOString(),
        ...(logBytes > 0 ? { log: logTail(r, outcome, Math.floor(r(40)), logBytes) } : {}),
      });
      const m = perWriter[w]!;
      const list = m.get(i) ?? [];
      list.push(line);
      m.set(i, list);
      lines++;
    }
  }
  const stream = chunks.join('');
  await run('git', ['init', '-q', '-b', 'main', dir], { cwd: tmpdir() });
  await run('git', ['fast-import', '--quiet', `--export-marks=${join(dir, '.git', 'marks')}`], { cwd: dir, input: stream, timeoutMs: 30 * 60_000 });
  const marks = new Map<number, string>();
  const { readFile } = await import('node:fs/promises');
  for (const l of (await readFile(join(dir, '.git', 'marks'), 'utf8')).split('\n')) {
    const [m, sha] = l.split(' ');
    if (m && sha) marks.set(Number(m.slice(1)), sha);
  }
  // One fast-import per writer: with log tails all notes together exceed V8's longest string.
  for (let w = 0; w < writers; w++) {
    const notes: string[] = [`commit refs/notes/evogit/w${w}\ncommitter b <b@x> ${t0 + nodes} +0000\n${data(`evaluations by w${w}\n`)}`];
    for (const [i, list] of perWriter[w]!) {
      const sha = marks.get(i + 3)!;
      const text = list.map((l) => l.replace('"node":""', `"node":"${sha}"`)).join('\n') + '\n';
      notes.push(`N inline ${sha}\n${data(text)}`);
    }
    await run('git', ['fast-import', '--quiet'], { cwd: dir, input: notes.join(''), timeoutMs: 30 * 60_000 });
  }
  // Prune 10% of the inner nodes (they stay reachable through their children).
  const del: string[] = [];
  for (let i = 0; i < nodes; i++) if (hasChild[i] && r(1) < 0.1) del.push(`delete refs/heads/${branchOf[i]}\n`);
  await run('git', ['update-ref', '--stdin'], { cwd: dir, input: del.join('') });
  // What `git gc` does on its own in a real repository: pack the refs.
  await run('git', ['pack-refs', '--all'], { cwd: dir });
  return { branchesDeleted: del.length, lines };
}

/** Run a process to completion, discarding stdout, and return its wall time in ms. */
function timed(cmd: string, args: string[], cwd: string): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let bytes = 0;
    child.stdout.on('data', (b: Buffer) => (bytes += b.length));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ ms: performance.now() - t, bytes }) : reject(new Error(`${cmd} exited ${code}`))));
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const nodes = flag('nodes', 100_000);
  const evalsPerNode = flag('evals-per-node', 3);
  const writers = flag('writers', 10);
  // 2048: the tail runTask keeps; --log-bytes 0 builds the lines without a log (the earlier, lighter bench).
  const logBytes = flag('log-bytes', 2048);
  const say = (s: string) => process.stderr.write(s + '\n');
  let t = performance.now();
  // --dir: measure an archive kept by an earlier run (--keep) instead of building one; it is kept.
  const di = process.argv.indexOf('--dir');
  const reuse = di >= 0 ? process.argv[di + 1] : undefined;
  const dir = reuse ?? (await mkdtemp(join(tmpdir(), 'evogit-bench-archive-')));
  const built = reuse ? { branchesDeleted: NaN, lines: NaN } : await build(dir, nodes, evalsPerNode, writers, logBytes);
  say(reuse ? `reusing ${dir}` : `built ${nodes} nodes, ${built.lines} evaluation lines, ${built.branchesDeleted} pruned branches in ${((performance.now() - t) / 1000).toFixed(1)} s (${dir})`);

  // Pairs, back to back: the raw reference, then a cold load in a fresh process (cache deleted,
  // as a user's first `evogit status` runs it); on a shared machine the load drifts, so each
  // load is compared with the reference measured right before it.
  const rawArgs = ['log', '--all', `--format=${LOG_FORMAT}%N`, '--notes=evogit/*'];
  const raw: number[] = [];
  const cold: number[] = [];
  const ratios: number[] = [];
  let rawBytes = 0;
  let c = { ms: 0, maxRssKb: 0, baseRssKb: 0, heapMb: 0, rssAfterLoadKb: 0, nodes: 0, evals: 0 };
  const peaks: number[] = [];
  const loadPeaks: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await timed('git', rawArgs, dir);
    raw.push(r.ms);
    rawBytes = r.bytes;
    const childOut = await run(process.execPath, [join(import.meta.dirname, 'archive-load.mjs'), dir], { cwd: process.cwd(), timeoutMs: 10 * 60_000 });
    c = JSON.parse(childOut.stdout.trim().split('\n').pop()!) as typeof c;
    cold.push(c.ms);
    ratios.push(c.ms / r.ms);
    peaks.push(c.maxRssKb / 1024);
    loadPeaks.push(c.rssAfterLoadKb / 1024);
    say(`pair ${i + 1}: raw git log --all --notes ${r.ms.toFixed(0)} ms (${(rawBytes / 1e6).toFixed(1)} MB); evogit cold load (fresh process) ${c.ms.toFixed(0)} ms = ${(c.ms / r.ms).toFixed(2)}×, peak RSS ${(c.maxRssKb / 1024).toFixed(0)} MB with the cache write (${(c.rssAfterLoadKb / 1024).toFixed(0)} MB at the end of load(); ${(c.baseRssKb / 1024).toFixed(0)} MB before it) → ${c.nodes} nodes, ${c.evals} evaluations`);
  }

  // Incremental: a warm instance, 100 new nodes and 100 evaluation lines written by another instance.
  const warm = await Archive.open({ repoDir: dir, keepGitOpen: true });
  await warm.load();
  await warm.saveCache();
  const writer = await Archive.open({ repoDir: dir });
  const root = (await writer.root())!;
  const tree = (await run('git', ['rev-parse', `${root}^{tree}`], { cwd: dir })).stdout.trim();
  let written = 0;
  /** Three rounds of 100 nodes and their lines, each read by `reader`: a writer new to the archive, then the same writer again (its notes tip moves). */
  const rounds = async (reader: Archive, label: string): Promise<number[]> => {
    const ms: number[] = [];
    for (const round of [1, 2, 3]) {
      let parent = root;
      const evals = [];
      const w = `fresh${label ? '-' + label : ''}`;
      t = performance.now();
      for (let i = 0; i < 100; i++) {
        const n = await writer.writeNode({ writer: w, parents: [parent], tree, message: `new ${label} ${round}.${i} ${written++}`, agent: 'bench', operator: 'mutate' });
        parent = i % 10 === 9 ? root : n.id;
        evals.push({ node: n.id, task: 't', outcome: 'pass' as const, durationMs: 1, harness: 'local', writer: w, time: new Date().toISOString() });
      }
      await writer.appendEvaluations(w, evals);
      say(`${label || 'round'} ${round}: wrote 100 nodes + 100 evaluations through Archive in ${(performance.now() - t).toFixed(0)} ms`);
      t = performance.now();
      const after = await reader.load();
      ms.push(performance.now() - t);
      say(`${label || 'round'} ${round}: incremental refresh (warm instance): ${ms[ms.length - 1]!.toFixed(1)} ms, +${reader.lastLoad?.newCommits} commits, ${reader.lastLoad?.noteBlobsRead} blobs read → ${after.nodes.length} nodes`);
    }
    return ms;
  };
  const incs = await rounds(warm, '');
  const incMs = median(incs);
  t = performance.now();
  const fromCache = await Archive.open({ repoDir: dir });
  await fromCache.load();
  const fileMs = performance.now() - t;
  say(`incremental refresh (new Archive, from the cache file): ${fileMs.toFixed(0)} ms (cold: ${fromCache.lastLoad?.cold})`);
  t = performance.now();
  const again = await warm.load();
  say(`refresh with nothing new: ${(performance.now() - t).toFixed(1)} ms (${again.nodes.length} nodes)`);
  await warm.close();

  // A long run's refs: --loose more branches as loose files (one transaction writes them loose),
  // on the nodes just written; read first by a loop's archive that never packs, then by one that does.
  const loose = flag('loose', 10_000);
  let longRun = '';
  if (loose > 0) {
    const tips = again.nodes.slice(-300).map((n) => n.id);
    await run('git', ['update-ref', '--stdin'], { cwd: dir, input: tips.length ? Array.from({ length: loose }, (_, i) => `create refs/heads/evo/long/${i} ${tips[i % tips.length]}\n`).join('') : '' });
    const unpacked = await Archive.open({ repoDir: dir, keepGitOpen: true, packRefsAt: Infinity });
    await unpacked.load();
    const without = await rounds(unpacked, 'unpacked');
    await unpacked.close();
    const packing = await Archive.open({ repoDir: dir, keepGitOpen: true });
    await packing.load();
    // The pack runs after a load hands its snapshot over; the next load waits for it and reads packed-refs anew.
    t = performance.now();
    await packing.load();
    const packMs = performance.now() - t;
    const withPack = await rounds(packing, 'packed');
    await packing.close();
    longRun = `a long run's ${loose} loose branch refs, refresh after 100 nodes (median of 3): ${median(without).toFixed(1)} ms not packed (${without.map((x) => x.toFixed(0)).join(', ')}), ${median(withPack).toFixed(1)} ms packed as a loop packs them (${withPack.map((x) => x.toFixed(0)).join(', ')}); the pack and the refresh after it ${packMs.toFixed(0)} ms`;
  }

  const rawMs = median(raw);
  const coldMs = median(cold);
  const ratio = median(ratios);
  const cpu = cpus()[0]?.model ?? 'unknown';
  const git = (await run('git', ['--version'], { cwd: dir })).stdout.trim();
  const report = [
    `machine: ${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM (${(freemem() / 2 ** 30).toFixed(0)} free), node ${process.version}, ${git}`,
    `archive: ${nodes} nodes, ${built.lines} evaluation lines (log tails ≤ ${logBytes} chars), ${writers} writers, ${built.branchesDeleted} pruned`,
    `raw git log --all --notes (median of 3): ${rawMs.toFixed(0)} ms`,
    `cold load in a fresh process (median of 3): ${coldMs.toFixed(0)} ms; median of the 3 back-to-back ratios ${ratio.toFixed(2)}× raw (${ratios.map((x) => x.toFixed(2)).join(', ')}; target ≤ 1.5×)`,
    `peak RSS of a cold load in a fresh process, cache write included: ${peaks.map((x) => x.toFixed(0)).join(', ')} MB (${loadPeaks.map((x) => x.toFixed(0)).join(', ')} MB at the end of load(); target ≤ 500 MB)`,
    `incremental after 100 nodes + 100 evaluations (median of 3 rounds: ${incs.map((x) => x.toFixed(0)).join(', ')} ms): ${incMs.toFixed(1)} ms in process (target ≤ 100 ms); ${fileMs.toFixed(0)} ms for a new process reading the cache file`,
    ...(longRun ? [longRun] : []),
  ];
  process.stdout.write(report.join('\n') + '\n');
  if (!reuse && !process.argv.includes('--keep')) await rm(dir, { recursive: true, force: true });
}

await main();

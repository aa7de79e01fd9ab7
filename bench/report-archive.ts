/**
 * A large archive shaped like a real `evogit run` on examples/demo, for bench/report: the
 * demo's real files and `evogit init`, then nodes written with `git fast-import` — each one a
 * one-line, mutate-style edit of its parent's code (operator, constant or condition), trailers
 * as the loop writes them, 1–3 evaluation lines per node with TAP log tails like the real
 * runner's, 2% crossovers, 10% of inner nodes pruned, a few promoted.
 */
import { cp, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../src/proc/index.js';
import { createRng } from '../src/scorer/index.js';

const DEMO = path.resolve(import.meta.dirname, '..', 'examples', 'demo');
const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'evogit.js');
const TASKS = ['test/dates.test.js', 'test/stats.test.js', 'test/text.test.js'];
const TESTS = 5;

const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;

const SWAPS: [RegExp, string][] = [
  [/ < /, ' <= '],
  [/ <= /, ' < '],
  [/ > /, ' >= '],
  [/ === /, ' !== '],
  [/ !== /, ' === '],
  [/ \+ /, ' - '],
  [/ - /, ' + '],
  [/\b(\d+)\b/, '$1+1'],
  [/\btrue\b/, 'false'],
];

/** One mutate-style edit of one line, and the commit message the mutate agent would write. */
function mutate(r: (n: number) => number, files: Map<string, string>): { path: string; text: string; message: string } {
  const paths = [...files.keys()];
  for (;;) {
    const p = paths[Math.floor(r(paths.length))]!;
    const lines = files.get(p)!.split('\n');
    const at = Math.floor(r(lines.length));
    const [re, to] = SWAPS[Math.floor(r(SWAPS.length))]!;
    if (!re.test(lines[at]!)) continue;
    const before = lines[at]!.trim();
    lines[at] = lines[at]!.replace(re, to);
    const message = `mutate: edit at ${p}:${at + 1}\n\n- ${p}:${at + 1}: ${before} → ${lines[at]!.trim()}\n`;
    return { path: p, text: lines.join('\n'), message };
  }
}

/** A log tail like node --test's TAP output as runTask keeps it. */
function tapLog(r: (n: number) => number, task: string, passed: number): string {
  const out = [`--- node --test --test-reporter=tap ${task} ---`, '', `--- exit ${passed === TESTS ? 0 : 1} in ${Math.floor(300 + r(1500))} ms ---`, '--- results (results.tap) ---', 'TAP version 13'];
  for (let t = 1; t <= TESTS; t++) {
    const ok = t <= passed;
    out.push(`# Subtest: case ${t} of ${task}`, `${ok ? 'ok' : 'not ok'} ${t} - case ${t} of ${task}`, '  ---', `  duration_ms: ${r(30).toFixed(6)}`);
    if (!ok) out.push(`  location: '/work/${task}:${10 + t * 6}:1'`, "  failureType: 'testCodeFailure'", '  error: |-', '    Expected values to be strictly equal:', `    ${Math.floor(r(100))} !== ${Math.floor(r(100))}`, "  code: 'ERR_ASSERTION'", '  stack: |-', `    TestContext.<anonymous> (file:///work/${task}:${11 + t * 6}:10)`, '    Test.runInAsyncScope (node:async_hooks:206:9)');
    out.push('  ...');
  }
  out.push(`1..${TESTS}`, `# tests ${TESTS}`, `# pass ${passed}`, `# fail ${TESTS - passed}`, `# duration_ms ${r(600).toFixed(3)}`, '');
  return out.join('\n');
}

async function sourceFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const f of await readdir(path.join(dir, 'src'))) files.set(`src/${f}`, await readFile(path.join(dir, 'src', f), 'utf8'));
  return files;
}

export async function buildDemoArchive(dir: string, nodes: number, writers = 4): Promise<{ pruned: number; lines: number }> {
  const env = { GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@evogit.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@evogit.invalid' };
  await cp(DEMO, dir, { recursive: true });
  await run('git', ['init', '-q', '-b', 'main'], { cwd: dir, env });
  await run('git', ['add', '-A'], { cwd: dir, env });
  await run('git', ['commit', '-qm', 'toolkit with failing tests'], { cwd: dir, env });
  await run(process.execPath, [BIN, 'init', '--sandbox', 'local'], { cwd: dir, env });
  const root = (await run('git', ['rev-parse', 'evo/root'], { cwd: dir })).stdout.trim();
  const seeded = createRng(11);
  const r = (n: number) => seeded.next() * n;
  const t0 = Math.floor(Date.now() / 1000) - nodes * 6;
  const files: Map<string, string>[] = [];
  const skill: number[] = [];
  const chunks: string[] = [];
  const branchOf: string[] = [];
  const hasChild = new Uint8Array(nodes);
  const seqs = new Array<number>(writers).fill(0);
  const rootFiles = await sourceFiles(dir);
  for (let i = 0; i < nodes; i++) {
    const w = i % writers;
    const branch = `evo/a${w + 1}/${++seqs[w]!}`;
    branchOf.push(branch);
    // Mostly grow recent nodes (chains), sometimes any node (a bushy tree); the root now and then.
    const parent = i === 0 || r(1) < 0.03 ? -1 : r(1) < 0.7 ? Math.max(0, i - 1 - Math.floor(r(20))) : Math.floor(r(i));
    if (parent >= 0) hasChild[parent] = 1;
    const base = parent < 0 ? rootFiles : files[parent]!;
    const edit = mutate(r, base);
    const mine = new Map(base).set(edit.path, edit.text);
    files.push(mine);
    skill.push(Math.min(1, Math.max(0, (parent < 0 ? 0.53 : skill[parent]!) + (r(1) - 0.55) * 0.12)));
    const crossover = i > 10 && r(1) < 0.02;
    const operator = crossover ? 'crossover' : 'mutate';
    const message = `${edit.message}\nEvogit-Writer: a${w + 1}\nEvogit-Agent: a${w + 1}\nEvogit-Operator: ${operator}\n`;
    chunks.push(`commit refs/heads/${branch}\nmark :${i + 1}\ncommitter bench <bench@evogit.invalid> ${t0 + i * 6} +0000\n${data(message)}from ${parent < 0 ? root : `:${parent + 1}`}\n`);
    if (crossover) {
      const other = Math.floor(r(i));
      if (other !== parent) {
        chunks.push(`merge :${other + 1}\n`);
        hasChild[other] = 1;
      }
    }
    chunks.push(`M 100644 inline ${edit.path}\n${data(edit.text)}`);
  }
  await run('git', ['fast-import', '--quiet', `--export-marks=${path.join(dir, '.git', 'bench-marks')}`], { cwd: dir, input: chunks.join(''), timeoutMs: 30 * 60_000 });
  const marks = new Map<number, string>();
  for (const l of (await readFile(path.join(dir, '.git', 'bench-marks'), 'utf8')).split('\n')) {
    const [m, sha] = l.split(' ');
    if (m && sha) marks.set(Number(m.slice(1)), sha);
  }
  // Evaluations: each node runs 1–3 tasks, passing tests at its hidden skill, spread over the writers' notes.
  const notes: Map<string, string[]>[] = Array.from({ length: writers }, () => new Map());
  let lines = 0;
  // The root first (index -1): every task once, at the demo's 8 of 15.
  for (let i = -1; i < nodes; i++) {
    const sha = i < 0 ? root : marks.get(i + 1)!;
    const runs = i < 0 ? TASKS.length : 1 + Math.floor(r(3));
    for (let k = 0; k < runs; k++) {
      const w = Math.floor(r(writers));
      const task = TASKS[(i + k) % TASKS.length]!;
      const error = r(1) < 0.01;
      let passed = 0;
      for (let t = 0; t < TESTS; t++) if (r(1) < (i < 0 ? 0.53 : skill[i]!)) passed++;
      const line = {
        node: sha,
        task,
        writer: `a${w + 1}`,
        harness: 'docker',
        outcome: error ? 'error' : passed === TESTS ? 'pass' : 'fail',
        ...(error ? { reason: 'the Docker daemon did not answer' } : { tests: { passed, failed: TESTS - passed, skipped: 0, total: TESTS } }),
        durationMs: Math.floor(800 + r(2500)),
        time: new Date((t0 + Math.max(0, i) * 6 + 2 + k) * 1000).toISOString(),
        log: error ? '' : tapLog(r, task, passed),
      };
      const m = notes[w]!;
      m.set(sha, [...(m.get(sha) ?? []), JSON.stringify(line)]);
      lines++;
    }
  }
  for (let w = 0; w < writers; w++) {
    const stream = [`commit refs/notes/evogit/a${w + 1}\ncommitter bench <bench@evogit.invalid> ${t0 + nodes * 6} +0000\n${data(`evaluations by a${w + 1}\n`)}`];
    for (const [sha, list] of notes[w]!) stream.push(`N inline ${sha}\n${data(list.join('\n') + '\n')}`);
    await run('git', ['fast-import', '--quiet'], { cwd: dir, input: stream.join(''), timeoutMs: 30 * 60_000 });
  }
  const del: string[] = [];
  for (let i = 0; i < nodes; i++) if (hasChild[i] && r(1) < 0.1) del.push(`delete refs/heads/${branchOf[i]}\n`);
  await run('git', ['update-ref', '--stdin'], { cwd: dir, input: del.join('') });
  for (let i = 0; i < nodes; i += Math.max(1, Math.floor(nodes / 5))) await run('git', ['tag', `evo-promoted/${marks.get(i + 1)!.slice(0, 12)}`, marks.get(i + 1)!], { cwd: dir });
  return { pruned: del.length, lines };
}

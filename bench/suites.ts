/**
 * bench/suites: does a benchmark suite grade honestly? On a real Aider Polyglot checkout
 * (https://github.com/Aider-AI/polyglot-benchmark, all six languages), in Docker: import every
 * exercise into a fresh evolving repository, then for every exercise grade the untouched stub
 * (must fail) and the exercise's reference solution from `.meta/` (must pass), with
 * `checkTask` — what `evogit tasks validate` runs. Prints the table by language (stubs that
 * fail, references that pass, seconds per grade) and names every exercise that is not honest,
 * with the reason.
 *
 * Run: npx tsx bench/suites.ts PATH/TO/polyglot-benchmark
 *   EVOGIT_SUITES_LANGS=cpp,go           only these languages
 *   EVOGIT_SUITES_LIMIT=3                the first N exercises of each language
 *   EVOGIT_SUITES_ONLY=java/bowling,…    only these exercises
 *   EVOGIT_SUITES_JOBS=2                 exercises graded at once (default 2: one per core)
 *   EVOGIT_SUITES_OUT=file.jsonl         one line per exercise (appended; a rerun skips those there)
 *   EVOGIT_SUITES_TIMEOUT=300s           test.timeout of a grade (a loaded machine compiles slowly)
 *   EVOGIT_SUITES_PIDS=4096              sandbox.pids (Java's bank-account starts 1000 threads)
 * Needs the language images: sandbox/build-toolchains.sh (and sandbox/build-offline.sh).
 */
import { appendFile, readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { checkTask } from '../src/agents/self/index.js';
import { Archive } from '../src/archive/index.js';
import { defaultConfig } from '../src/config/index.js';
import { createSandbox } from '../src/sandbox/index.js';
import { importSuite, loadSuite, type SuiteTask } from '../src/suites/index.js';
import { makeRepo, tempDir } from '../test/helpers/repo.js';

const SOURCE = process.argv[2];
if (!SOURCE) {
  process.stderr.write('usage: npx tsx bench/suites.ts PATH/TO/polyglot-benchmark\n');
  process.exit(2);
}
const LANGS = process.env.EVOGIT_SUITES_LANGS?.split(',');
const ONLY = process.env.EVOGIT_SUITES_ONLY?.split(',');
const LIMIT = Number(process.env.EVOGIT_SUITES_LIMIT ?? Infinity);
const JOBS = Number(process.env.EVOGIT_SUITES_JOBS ?? 2);
const OUT = process.env.EVOGIT_SUITES_OUT ?? null;
const TIMEOUT = process.env.EVOGIT_SUITES_TIMEOUT ?? '300s';
const PIDS = Number(process.env.EVOGIT_SUITES_PIDS ?? 4096);

interface Row {
  id: string;
  language: string;
  stub: string;
  stubReason: string;
  reference: string;
  referenceReason: string;
  stubSeconds: number;
  referenceSeconds: number;
  problem?: string;
}

async function done(): Promise<Map<string, Row>> {
  if (!OUT) return new Map();
  const text = await readFile(OUT, 'utf8').catch(() => '');
  return new Map(text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row).map((r) => [r.id, r]));
}

async function main(): Promise<void> {
  const repo = await tempDir('evogit-bench-suites-');
  await makeRepo({ 'README.md': 'bench\n', 'evogit.yml': 'version: 1\n' }, repo);
  await (await Archive.open({ repoDir: repo })).createRoot('HEAD');
  const t0 = performance.now();
  const imported = await importSuite({ repoDir: repo, source: path.resolve(SOURCE!), name: 'poly' });
  const importSeconds = (performance.now() - t0) / 1000;
  process.stdout.write(`imported ${imported.tasks} exercise(s) in ${importSeconds.toFixed(1)} s${imported.skipped.length ? `; skipped: ${imported.skipped.join('; ')}` : ''}\n`);
  const suite = await loadSuite(repo, 'poly');
  const config = defaultConfig({ test: { command: 'true', timeout: TIMEOUT }, sandbox: { pids: PIDS, memory: '2g' } });
  const sandbox = createSandbox(config);
  const byLang = new Map<string, SuiteTask[]>();
  for (const t of suite.tasks) {
    if (LANGS && !LANGS.includes(t.language!)) continue;
    if (ONLY && !ONLY.includes(t.id)) continue;
    const list = byLang.get(t.language!) ?? [];
    if (list.length < LIMIT) list.push(t);
    byLang.set(t.language!, list);
  }
  const previous = await done();
  // Round robin over the languages: a run stopped early has graded each of them alike.
  const pending = [...byLang.values()].map((ts) => ts.filter((t) => !previous.has(t.id)));
  const queue: SuiteTask[] = [];
  for (let i = 0; pending.some((ts) => i < ts.length); i++) for (const ts of pending) if (ts[i]) queue.push(ts[i]!);
  const rows: Row[] = [...previous.values()].filter((r) => byLang.get(r.language)?.some((t) => t.id === r.id));
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let task = queue.shift(); task; task = queue.shift()) {
      const c = await checkTask({ repoDir: repo, suiteCommit: suite.commit, task, config, sandbox });
      // checkTask grades the stub, then the reference: split its time by the two runs' own logs.
      const stubMs = Number(/in (\d+) ms ---/.exec(c.base.log)?.[1] ?? 0);
      const refMs = Number(/in (\d+) ms ---/.exec(c.reference?.log ?? '')?.[1] ?? 0);
      const row: Row = {
        id: task.id,
        language: task.language!,
        stub: c.base.outcome,
        stubReason: c.base.reason,
        reference: c.reference?.outcome ?? 'none',
        referenceReason: c.reference?.reason ?? '',
        stubSeconds: stubMs / 1000,
        referenceSeconds: refMs / 1000,
        ...(c.problem ? { problem: c.problem } : {}),
      };
      rows.push(row);
      if (OUT) await appendFile(OUT, `${JSON.stringify(row)}\n`);
      process.stdout.write(`${row.problem ? 'NOT HONEST' : 'ok        '} ${row.id.padEnd(36)} stub ${row.stub} (${row.stubSeconds.toFixed(1)} s), reference ${row.reference} (${row.referenceSeconds.toFixed(1)} s)${row.problem ? `: ${row.problem}` : ''}\n`);
    }
  };
  await Promise.all(Array.from({ length: JOBS }, worker));
  const wall = (performance.now() - started) / 1000;
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.floor(s.length / 2)]! : 0;
  };
  const lines = ['', '| language | exercises | stubs fail | references pass | honest | median s per grade (stub / reference) |', '|---|---|---|---|---|---|'];
  for (const lang of [...byLang.keys()].sort()) {
    const r = rows.filter((x) => x.language === lang);
    const honest = r.filter((x) => !x.problem).length;
    lines.push(`| ${lang} | ${r.length} | ${r.filter((x) => x.stub === 'fail').length} | ${r.filter((x) => x.reference === 'pass').length} | ${honest} | ${median(r.map((x) => x.stubSeconds)).toFixed(1)} / ${median(r.map((x) => x.referenceSeconds)).toFixed(1)} |`);
  }
  const honest = rows.filter((x) => !x.problem).length;
  lines.push(`| all | ${rows.length} | ${rows.filter((x) => x.stub === 'fail').length} | ${rows.filter((x) => x.reference === 'pass').length} | ${honest} | ${median(rows.map((x) => x.stubSeconds)).toFixed(1)} / ${median(rows.map((x) => x.referenceSeconds)).toFixed(1)} |`);
  lines.push('', `${JOBS} at a time; this run's wall time ${(wall / 60).toFixed(1)} min; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
  for (const r of rows.filter((x) => x.problem).sort((a, b) => a.id.localeCompare(b.id))) lines.push(`- not honest: ${r.id}: ${r.problem}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();

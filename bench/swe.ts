/**
 * bench/swe: SWE-bench instances built from a real repository's history, graded as the SWE-bench
 * harness grades, in Docker. For each bug-fix commit that adds tests: base = its parent,
 * test_patch = its change under tests/, gold patch = the rest. FAIL_TO_PASS and PASS_TO_PASS
 * are found as SWE-bench finds them, by running the tests at the base with the test patch and
 * with the gold patch (through evogit itself). Then the instances are imported with
 * --validate, plus one made invalid on purpose (a FAIL_TO_PASS that already passes at its
 * base), which must be refused by id; and every instance is graded with its gold patch (must
 * resolve), an empty patch and a one-operator mutant of the gold patch (must not).
 *
 * Run: npx tsx bench/swe.ts PATH/TO/repo [FIX_COMMIT…]
 *   default: python-semver (https://github.com/python-semver/python-semver) and four of its fixes
 *   EVOGIT_SWE_COMMAND='python3 -m pytest tests'   the test command, as its authors write it
 * Needs evogit/python:3 with pytest (sandbox/build-offline.sh on a machine with python3-pytest).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gradeTask, taskValidator } from '../src/agents/self/index.js';
import { Archive } from '../src/archive/index.js';
import { defaultConfig } from '../src/config/index.js';
import { run } from '../src/proc/index.js';
import { createSandbox } from '../src/sandbox/index.js';
import { importSuite, loadSuite } from '../src/suites/index.js';
import { GIT_ENV, makeRepo, tempDir } from '../test/helpers/repo.js';

const SOURCE = process.argv[2];
if (!SOURCE) {
  process.stderr.write('usage: npx tsx bench/swe.ts PATH/TO/repo [FIX_COMMIT…]\n');
  process.exit(2);
}
const FIXES = process.argv.length > 3 ? process.argv.slice(3) : ['bc41390', '4b03f86', 'd8813b6', 'f8a182f'];
const COMMAND = process.env.EVOGIT_SWE_COMMAND ?? 'python3 -m pytest tests';

const git = async (...args: string[]): Promise<string> => (await run('git', ['--git-dir', gitDir, ...args], { cwd: process.cwd(), env: GIT_ENV })).stdout;
let gitDir = '';

interface Instance {
  instance_id: string;
  repo: string;
  base_commit: string;
  problem_statement: string;
  test_patch: string;
  patch: string;
  FAIL_TO_PASS: string;
  PASS_TO_PASS: string;
}

/** The gold patch with the first operator of its first changed Python line flipped: a near miss. */
function mutant(gold: string): string | null {
  const flips: Array<[RegExp, string]> = [
    [/ < /, ' <= '],
    [/ > /, ' >= '],
    [/ == /, ' != '],
    [/ \+ 1/, ' - 1'],
    [/\bnot /, ''],
    [/\band\b/, 'or'],
    [/\bTrue\b/, 'False'],
  ];
  const lines = gold.split('\n');
  let python = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('diff --git ')) python = /\.py$/.test(l);
    if (!python || !l.startsWith('+') || l.startsWith('+++') || /^\+\s*(#|$)/.test(l)) continue;
    for (const [re, to] of flips) {
      if (re.test(l)) {
        lines[i] = l.replace(re, to);
        return lines.join('\n');
      }
    }
  }
  return null;
}

async function main(): Promise<void> {
  gitDir = (await run('git', ['rev-parse', '--absolute-git-dir'], { cwd: path.resolve(SOURCE!), env: GIT_ENV })).stdout.trim();
  const out = await tempDir('evogit-bench-swe-');
  // A fetched mirror is <owner>+<name>/repo: name the instances after the project.
  const base = path.basename(path.resolve(SOURCE!)).replace(/\.git$/, '');
  const repoName = base === 'repo' ? path.basename(path.dirname(path.resolve(SOURCE!))).split('+').pop()! : base;
  const instances: Instance[] = [];
  for (const short of FIXES) {
    const fix = (await git('rev-parse', `${short}^{commit}`)).trim();
    const base = (await git('rev-parse', `${fix}^`)).trim();
    instances.push({
      instance_id: `${repoName}-${short}`.replace(/[^A-Za-z0-9._-]/g, '_'),
      repo: 'upstream',
      base_commit: base,
      problem_statement: (await git('log', '-1', '--format=%B', fix)).trim(),
      test_patch: await git('diff', '--no-color', base, fix, '--', 'tests'),
      patch: await git('diff', '--no-color', '--binary', base, fix, '--', '.', ':(exclude)tests'),
      FAIL_TO_PASS: '["(probe)"]',
      PASS_TO_PASS: '[]',
    });
  }
  const writeSuite = async (name: string, list: Instance[]): Promise<string> => {
    const dir = path.join(out, name);
    await run('mkdir', ['-p', dir], { cwd: out });
    await writeFile(path.join(dir, `${name}.jsonl`), `${list.map((i) => JSON.stringify(i)).join('\n')}\n`);
    await writeFile(path.join(dir, 'suite.yml'), `repos:\n  upstream: ${gitDir}\ntest:\n  command: ${COMMAND}\n  timeout: 600000\n`);
    return path.join(dir, `${name}.jsonl`);
  };

  const repo = await makeRepo({ 'README.md': 'bench\n', 'evogit.yml': 'version: 1\ntest:\n  command: "true"\nsandbox:\n  image: evogit/python:3\n' });
  await (await Archive.open({ repoDir: repo })).createRoot('HEAD');
  const config = defaultConfig({ test: { command: 'true', timeout: '600s' }, sandbox: { image: 'evogit/python:3' } });
  const sandbox = createSandbox(config);

  // 1. FAIL_TO_PASS / PASS_TO_PASS, as SWE-bench finds them: the base and the gold, each with the test patch.
  await importSuite({ repoDir: repo, source: await writeSuite('probe', instances), name: 'probe' });
  const probe = await loadSuite(repo, 'probe');
  const found: Instance[] = [];
  const skipped: string[] = [];
  for (const inst of instances) {
    const task = probe.tasks.find((t) => t.id === inst.instance_id)!;
    const at = (patch: string) => gradeTask({ repoDir: repo, suiteCommit: probe.commit, task, config, sandbox, candidate: { kind: 'patch', patch } });
    const before = (await at('')).testResults ?? {};
    const after = (await at(inst.patch)).testResults ?? {};
    const f2p = Object.keys(after).filter((id) => after[id] === 'pass' && before[id] !== 'pass');
    const p2p = Object.keys(after).filter((id) => after[id] === 'pass' && before[id] === 'pass');
    if (!f2p.length) {
      skipped.push(`${inst.instance_id}: no test fails at the base and passes with the fix (${Object.keys(after).length} tests ran)`);
      continue;
    }
    found.push({ ...inst, FAIL_TO_PASS: JSON.stringify(f2p), PASS_TO_PASS: JSON.stringify(p2p) });
    process.stdout.write(`${inst.instance_id}: ${f2p.length} FAIL_TO_PASS (e.g. ${f2p[0]}), ${p2p.length} PASS_TO_PASS\n`);
  }

  // 2. --validate refuses an instance made invalid on purpose, by id, and imports nothing.
  const invalid: Instance = { ...found[0]!, instance_id: `${found[0]!.instance_id}-stale`, FAIL_TO_PASS: JSON.stringify((JSON.parse(found[0]!.PASS_TO_PASS) as string[]).slice(0, 1)) };
  const validate = taskValidator({ repoDir: repo, config, sandbox });
  const refused = await importSuite({ repoDir: repo, source: await writeSuite('withstale', [...found, invalid]), name: 'withstale', validate }).then(
    () => 'imported (NOT refused)',
    (e: unknown) => (e as Error).message,
  );
  process.stdout.write(`--validate with the stale instance: ${refused}\n`);
  const t0 = performance.now();
  await importSuite({ repoDir: repo, source: await writeSuite('swe', found), name: 'swe', validate });
  process.stdout.write(`--validate of ${found.length} instance(s): imported in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

  // 3. Gold resolves; empty and a near-miss mutant of the gold do not.
  const suite = await loadSuite(repo, 'swe');
  const rows: string[] = ['| instance | FAIL_TO_PASS | PASS_TO_PASS | gold | empty | mutant of the gold | another fix\'s gold | s per grade |', '|---|---|---|---|---|---|---|---|'];
  for (const [i, inst] of found.entries()) {
    const task = suite.tasks.find((t) => t.id === inst.instance_id)!;
    const grade = async (patch: string) => {
      const s = performance.now();
      const g = await gradeTask({ repoDir: repo, suiteCommit: suite.commit, task, config, sandbox, candidate: { kind: 'patch', patch } });
      return { ...g, seconds: (performance.now() - s) / 1000 };
    };
    const gold = await grade(inst.patch);
    const empty = await grade('');
    const m = mutant(inst.patch);
    const wrong = m ? await grade(m) : null;
    // A wrong patch a person could send: the fix of another bug (when it applies to this base).
    const other = found[(i + 1) % found.length]!;
    const elsewhere = other === inst ? null : await grade(other.patch).catch((e: unknown) => ({ outcome: (e as { code?: string }).code === 'E_PATCH' ? 'does not apply' : `error: ${(e as Error).message}`, seconds: 0 }));
    const f2p = (JSON.parse(inst.FAIL_TO_PASS) as string[]).length;
    const p2p = (JSON.parse(inst.PASS_TO_PASS) as string[]).length;
    const graded = [gold, empty, ...(wrong ? [wrong] : []), ...(elsewhere && elsewhere.seconds ? [elsewhere] : [])];
    rows.push(`| ${inst.instance_id} | ${f2p} | ${p2p} | ${gold.outcome} | ${empty.outcome} | ${wrong ? wrong.outcome : 'no operator to flip'} | ${elsewhere ? `${elsewhere.outcome} (${other.instance_id})` : '–'} | ${(graded.reduce((a, g) => a + g.seconds, 0) / graded.length).toFixed(1)} |`);
    if (gold.outcome !== 'pass') process.stdout.write(`gold of ${inst.instance_id} did not resolve: ${gold.reason}\n${gold.log.slice(-2000)}\n`);
  }
  process.stdout.write(`\nrepository ${gitDir}, test command \`${COMMAND}\`\n${rows.join('\n')}\n${skipped.map((s) => `- skipped ${s}`).join('\n')}\n`);
}

await main();

/**
 * In-process cheats, written as a candidate that has read evogit's code would write them (issue
 * 16): the candidate's own module runs in the test process, so it patches assertions, ends the
 * process early, or goes after the report. Each is graded in a real Docker container and must
 * come back fail — tampered where the canaries saw it — never pass.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/archive/types.js';
import { defaultConfig, stringifyConfig, type Config } from '../../src/config/index.js';
import { createSandbox, discoverTasks, runTask, type Sandbox } from '../../src/sandbox/index.js';
import type { TaskSpec } from '../../src/tasks/index.js';
import { describeDocker, ensureTestImage } from '../helpers/docker.js';
import { commitOnBranch, makeRepo, removedAfterAll, revParse } from '../helpers/repo.js';
import { calc, makeFixtureRepo, type FixtureRepo } from './fixture.js';

/** A repo with `files` and evogit.yml in one commit; commits candidates on branches of their own. */
async function project(files: Record<string, string>, config: Config) {
  const dir = await makeRepo({ ...files, 'evogit.yml': stringifyConfig(config) });
  const root = await revParse(dir);
  let n = 0;
  return {
    dir,
    root,
    candidate: (change: Record<string, string>, message: string): Promise<string> => commitOnBranch(dir, `c${++n}`, root, change, message),
  };
}

describeDocker('cheats from inside the test process (node --test, split run)', () => {
  let repo: FixtureRepo;
  let sandbox: Sandbox;
  let config: Config;
  let task: TaskSpec;
  let rootTests: Evaluation['testResults'];
  const grade = (commit: string): Promise<Evaluation> =>
    runTask({ repoDir: repo.dir, commit, root: repo.root, task, config, sandbox, writer: 'cheats', logDir: path.join(repo.dir, '.git', 'evogit', 'logs'), ...(rootTests ? { rootTests } : {}) });

  beforeAll(async () => {
    await ensureTestImage();
    config = defaultConfig({ language: 'javascript', test: { command: 'node --test', install: ['npm ci --offline --no-audit --no-fund'], timeout: '20s' }, sandbox: { memory: '256m', installNetwork: false } });
    repo = await makeFixtureRepo('node-calc', config);
    sandbox = createSandbox(config);
    task = (await discoverTasks(repo.dir, repo.root, config))[0]!;
    rootTests = (await grade(repo.root)).testResults;
    expect(rootTests).toEqual({ 'add adds': 'fail', 'twice uses the vendored dependency': 'pass' });
  });
  afterAll(() => repo?.cleanup());

  it('sees assertions turned into no-ops: the must-fail canary passes, so the run is tampered', async () => {
    const noop = "const assert = require('node:assert');\nfor (const k of ['equal', 'strictEqual', 'deepEqual', 'deepStrictEqual', 'ok', 'notEqual']) assert[k] = () => {};";
    const ev = await grade(await repo.candidate({ 'src/calc.js': calc(noop, 'false') }, 'no-op asserts'));
    expect(ev).toMatchObject({ outcome: 'fail', tampered: true });
    expect(ev.reason).toMatch(/must-fail canary test passed/);
  });

  it('sees process.exit(0) as the first line: the real tests and the canaries never ran', async () => {
    const ev = await grade(await repo.candidate({ 'src/calc.js': `process.exit(0);\n${calc('', 'false')}` }, 'exit early'));
    expect(ev).toMatchObject({ outcome: 'fail', tampered: true });
    expect(ev.reason).toMatch(/lacks the canary tests/);
  });

  it('cannot find and rewrite the report from a detached process: it is root-only, and the early exit is caught', async () => {
    const attack = `
const fs = require('fs');
const cp = require('child_process');
let target = null;
for (const pid of fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p))) {
  try {
    const arg = fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').split('\\0').find((a) => a.startsWith('--test-reporter-destination='));
    if (arg) target = arg.slice(arg.indexOf('=') + 1);
  } catch {}
}
console.log('REPORT AT', target);
const fake = 'TAP version 13\\nok 1 - add adds\\nok 2 - twice uses the vendored dependency\\n1..2\\n';
const loop = 'const fs = require("fs"); for (let i = 0; i < 100; i++) { try { fs.writeFileSync(' + JSON.stringify(target) + ', ' + JSON.stringify(fake) + '); } catch {} require("child_process").execSync("sleep 0.05"); }';
cp.spawn(process.execPath, ['-e', loop], { detached: true, stdio: 'ignore' }).unref();
try { fs.writeFileSync(target, fake); console.log('WROTE THE REPORT'); } catch (e) { console.log('REPORT WRITE', e.code); }
try { fs.readFileSync(target); console.log('READ THE REPORT'); } catch (e) { console.log('REPORT READ', e.code); }
process.exit(0);`;
    const ev = await grade(await repo.candidate({ 'src/calc.js': calc(attack, 'false') }, 'rewrite the report'));
    expect(ev).toMatchObject({ outcome: 'fail', tampered: true });
    expect(ev.log).toMatch(/REPORT AT \/evogit\/out\/results\.tap/);
    expect(ev.log).toMatch(/REPORT WRITE EACCES/);
    expect(ev.log).toMatch(/REPORT READ EACCES/);
    expect(ev.log).not.toMatch(/WROTE THE REPORT|READ THE REPORT/);
  });
});

describeDocker('cheats from inside the test process (Python)', () => {
  const dirs = removedAfterAll();
  beforeAll(() => ensureTestImage());

  const files = {
    'calc.py': 'def mul(a, b):\n    # Bug: the base commit adds.\n    return a + b\n',
    'tests/__init__.py': '',
    'tests/util.py': 'def same(case, got, want):\n    case.assertEqual(got, want)\n',
    'tests/test_calc.py': 'import unittest\n\nfrom calc import mul\nfrom tests.util import same\n\n\nclass MulTest(unittest.TestCase):\n    def test_mul(self):\n        same(self, mul(3, 4), 12)\n\n    def test_mul_zero(self):\n        self.assertEqual(mul(0, 7), 0)\n',
  };
  const setup = async (command: string) => {
    const config = defaultConfig({ language: 'python', test: { command, timeout: '30s' }, sandbox: { image: 'evogit/python:3', memory: '256m' } });
    const p = await project(files, config);
    dirs.push(p.dir);
    const sandbox = createSandbox(config);
    const task = (await discoverTasks(p.dir, p.root, config))[0]!;
    const grade = (commit: string, rootTests?: Evaluation['testResults']) => runTask({ repoDir: p.dir, commit, root: p.root, task, config, sandbox, writer: 'py', logDir: path.join(p.dir, '.git', 'evogit', 'logs'), ...(rootTests ? { rootTests } : {}) });
    const root = await grade(p.root);
    expect(root.outcome).toBe('fail');
    return { p, grade, rootTests: root.testResults };
  };

  it("sees unittest's assertEqual turned into a no-op (evogit's unittest runner)", async () => {
    const { p, grade } = await setup('python3 -m unittest');
    const cheat = 'import unittest\nunittest.TestCase.assertEqual = lambda self, a, b, msg=None: None\n\ndef mul(a, b):\n    return a + b\n';
    expect(await grade(await p.candidate({ 'calc.py': cheat }, 'no-op assertEqual'))).toMatchObject({ outcome: 'fail', tampered: true });
  });

  it('sees os._exit replaced and <failure> stripped from the JUnit report as it is written', async () => {
    const { p, grade } = await setup('python3 -m unittest');
    const cheat = `import builtins, os, re
_open = builtins.open
class _Stripped:
    def __init__(self, f): self.f = f
    def write(self, s): return self.f.write(re.sub(r'<failure[^>]*>.*?</failure>', '', s, flags=re.S).replace('failures="', 'was="'))
    def __enter__(self): return self
    def __exit__(self, *a): return self.f.__exit__(*a)
    def __getattr__(self, k): return getattr(self.f, k)
def _patched(file, mode='r', *a, **k):
    f = _open(file, mode, *a, **k)
    return _Stripped(f) if 'w' in mode and str(file).endswith('.xml') else f
builtins.open = _patched
_exit = os._exit
os._exit = lambda code: _exit(0)

def mul(a, b):
    return a + b
`;
    const ev = await grade(await p.candidate({ 'calc.py': cheat }, 'strip the report'));
    expect(ev).toMatchObject({ outcome: 'fail', tampered: true });
    expect(ev.reason).toMatch(/must-fail canary test passed/);
  });

  it("sees pytest's report rewritten by a process forked to outlive the run", async () => {
    const { p, grade } = await setup('python3 -m pytest');
    const cheat = `import os, re, sys, time, glob
if os.fork() == 0:
    os.setsid()
    out = [a.split('=', 1)[1] for a in open('/proc/%d/cmdline' % os.getppid()).read().split('\\0') if a.startswith('--junitxml=')]
    for _ in range(600):
        for f in out:
            try:
                text = open(f).read()
                if '<failure' in text:
                    open(f, 'w').write(re.sub(r'<failure[^>]*>.*?</failure>', '', text, flags=re.S))
            except OSError:
                pass
        time.sleep(0.01)
    os._exit(0)

def mul(a, b):
    return a + b
`;
    const ev = await grade(await p.candidate({ 'calc.py': cheat }, 'rewrite after exit'));
    expect(ev.outcome).toBe('fail');
    expect(ev.tampered).toBe(true);
  });

  it.each(['python3 -m unittest', 'python3 -m pytest'])('sees the failing tests skip themselves (%s): a test the root ran did not pass', async (command) => {
    const { p, grade, rootTests } = await setup(command);
    expect(Object.keys(rootTests ?? {})).toHaveLength(2);
    const cheat = 'import unittest\n\ndef mul(a, b):\n    if a * b != a + b:\n        raise unittest.SkipTest("not today")\n    return a + b\n';
    const ev = await grade(await p.candidate({ 'calc.py': cheat }, 'skip the failing tests'), rootTests);
    expect(ev.outcome).toBe('fail');
    expect(ev.reason).toMatch(/were skipped/);
  });

  it('ends pytest early with os._exit(0): no report, a failure', async () => {
    const { p, grade } = await setup('python3 -m pytest');
    const ev = await grade(await p.candidate({ 'calc.py': 'import os\nos._exit(0)\n' }, 'exit at import'));
    expect(ev.outcome).toBe('fail');
  });
});

describe('support files the hidden tests use are hidden and protected', () => {
  const dirs = removedAfterAll();
  const config = defaultConfig({ language: 'javascript', test: { command: 'node --test' }, sandbox: { kind: 'local' } });
  const js = {
    'src/calc.js': 'exports.add = (a, b) => a - b;\n',
    'test/helpers/check.js': "const assert = require('node:assert');\nexports.check = (got, want) => assert.strictEqual(got, want);\n",
    'test/fixtures/cases.json': '[[2, 3, 5], [1, 1, 2]]\n',
    'test/calc.test.js': "const test = require('node:test');\nconst { check } = require('./helpers/check');\nconst cases = require('./fixtures/cases.json');\nconst { add } = require('../src/calc');\ntest('cases', () => { for (const [a, b, s] of cases) check(add(a, b), s); });\n",
  };

  it.each([
    ['a helper (test/helpers/*.js) made a no-op', { 'test/helpers/check.js': 'exports.check = () => {};\n' }, 'test/helpers/check.js'],
    ['a fixture (test/fixtures/*.json) made to fit the bug', { 'test/fixtures/cases.json': '[[2, 3, -1]]\n' }, 'test/fixtures/cases.json'],
    ['a file node resolves before the helper (test/helpers/check, no extension)', { 'test/helpers/check': 'exports.check = () => {};\n' }, 'test/helpers/check'],
  ])('rejects %s as tampering, before anything runs', async (_what, change, path_) => {
    const p = await project(js, config);
    dirs.push(p.dir);
    const task = (await discoverTasks(p.dir, p.root, config))[0]!;
    expect(task.hiddenFiles).toEqual(expect.arrayContaining(['test/calc.test.js', 'test']));
    const ev = await runTask({ repoDir: p.dir, commit: await p.candidate(change, 'cheat'), root: p.root, task, config, sandbox: createSandbox(config), writer: 'w', logDir: path.join(p.dir, '.git', 'evogit', 'logs') });
    expect(ev).toMatchObject({ outcome: 'fail', tampered: true });
    expect(ev.reason).toContain(path_);
  });

  it("rejects an edit of tests/util.py, and a package that would shadow it", async () => {
    const pyConfig = defaultConfig({ language: 'python', test: { command: 'python3 -m unittest' }, sandbox: { kind: 'local' } });
    const p = await project({ 'calc.py': 'def mul(a, b):\n    return a + b\n', 'tests/util.py': 'def same(c, a, b):\n    c.assertEqual(a, b)\n', 'tests/test_calc.py': 'import unittest\nfrom calc import mul\nfrom tests.util import same\n\nclass T(unittest.TestCase):\n    def test_mul(self):\n        same(self, mul(3, 4), 12)\n' }, pyConfig);
    dirs.push(p.dir);
    const task = (await discoverTasks(p.dir, p.root, pyConfig))[0]!;
    const changes: Record<string, string>[] = [{ 'tests/util.py': 'def same(c, a, b):\n    pass\n' }, { 'tests/util/__init__.py': 'def same(c, a, b):\n    pass\n' }];
    for (const change of changes) {
      const ev = await runTask({ repoDir: p.dir, commit: await p.candidate(change, 'cheat'), root: p.root, task, config: pyConfig, sandbox: createSandbox(pyConfig), writer: 'w', logDir: path.join(p.dir, '.git', 'evogit', 'logs') });
      expect(ev).toMatchObject({ outcome: 'fail', tampered: true });
    }
  });
});

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateAgentOnTask, gradePatch, runAgentProgram } from '../../src/agents/self/index.js';
import { DockerSandbox, LocalSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { loadSuite, taskBaseTree } from '../../src/suites/index.js';
import { describeDocker, ensureTestImage, ownContainers } from '../helpers/docker.js';
import { git, removeDir, revParse } from '../helpers/repo.js';
import { SECRET_KEY, agentRepo, configOf, scriptedLlm, type ScriptedLlm } from './helpers.js';
import { taskSolver } from './solver.js';

function suiteEvaluation(kind: 'local' | 'docker', makeSandbox: () => Sandbox): void {
  let repo: string;
  let dirs: string[] = [];
  let gold: Record<string, string>;
  let llm: ScriptedLlm;
  let root: string;
  const sandbox = makeSandbox();

  beforeAll(async () => {
    if (kind === 'docker') await ensureTestImage();
    const made = await agentRepo({ sandbox: kind, swe: true });
    ({ repo, dirs, gold } = made);
    root = await revParse(repo, 'evo/root');
    llm = await scriptedLlm(taskSolver());
  });
  afterAll(async () => {
    await llm?.close();
    for (const d of dirs) await removeDir(d);
  });

  async function evaluate(suiteName: string, taskId: string) {
    const config = await configOf(repo);
    const suite = await loadSuite(repo, suiteName, root);
    const task = suite.tasks.find((t) => t.id === taskId)!;
    return evaluateAgentOnTask({ repoDir: repo, node: root, root, suite, task, config, sandbox, llm: { proxy: llm.proxy, model: 'scripted' }, writer: 'dgm', logDir: path.join(repo, '.git', 'evogit', 'logs') });
  }

  it('runs the seed agent on a Polyglot task and resolves it when its edit passes the hidden tests', async () => {
    const e = await evaluate('poly', 'javascript/two-fer');
    expect(e.outcome, e.log).toBe('pass');
    expect(e.task).toBe('poly/javascript/two-fer');
    expect(e.harness).toBe(kind);
    expect(e.tests).toMatchObject({ passed: 2, failed: 0 });
    expect(e.log).toContain('+export const twoFer');
  });

  it('a wrong answer is not resolved (python, through the bundled unittest harness)', async () => {
    const e = await evaluate('poly', 'python/leap');
    expect(e.outcome, e.log).toBe('fail');
    expect(e.tests).toMatchObject({ passed: 3, failed: 1 });
  });

  it('an agent that rewrites the hidden test file gains nothing: the real tests are put back', async () => {
    const e = await evaluate('poly', 'javascript/reverse-string');
    // The agent did edit (the spec file), so this is graded, not an empty run.
    expect(e.reason).not.toMatch(/no edit/);
    expect(e.outcome, e.log).toBe('fail');
    expect(e.tests?.failed).toBeGreaterThan(0);
  });

  it('SWE task: the agent fixes the bug; FAIL_TO_PASS and PASS_TO_PASS graded from the hidden test patch', async () => {
    const e = await evaluate('swe', 'evogit__calc-1');
    expect(e.outcome, e.log).toBe('pass');
    expect(e.testResults?.['clamp keeps values within bounds']).toBe('pass');
    expect(e.reason).toContain('1 FAIL_TO_PASS and 1 PASS_TO_PASS');
  });

  it('SWE task: the gold patch resolves, no patch or a wrong patch does not', async () => {
    const config = await configOf(repo);
    const suite = await loadSuite(repo, 'swe', root);
    for (const task of suite.tasks) {
      const right = await gradePatch({ repoDir: repo, root, task, config, sandbox, patch: gold[task.id]! });
      expect(right.outcome, right.log).toBe('pass');
      const none = await gradePatch({ repoDir: repo, root, task, config, sandbox, patch: '' });
      expect(none.outcome).toBe('fail');
      expect(none.reason).toMatch(/^failed: /);
    }
    // Breaking a PASS_TO_PASS test while fixing the bug is not a resolution either.
    const task = suite.tasks.find((t) => t.id === 'evogit__calc-1')!;
    const breaks = gold[task.id]!.replace('export const add = (a, b) => a + b;', 'export const add = (a, b) => a - b;').replace('@@ -1,5 +1,5 @@\n export const add', '@@ -1,5 +1,5 @@\n-export const add = (a, b) => a + b;\n+export const add');
    const wrong = await gradePatch({ repoDir: repo, root, task, config, sandbox, patch: breaks });
    expect(wrong.outcome, wrong.log).toBe('fail');
    expect(wrong.reason).toContain('add sums two numbers');
  });

  it('SWE task: test.install puts the dependencies in the image the tests run in, installed once per manifest content', async () => {
    const config = await configOf(repo);
    const suite = await loadSuite(repo, 'swe', root);
    const plain = suite.tasks.find((t) => t.id === 'evogit__calc-1')!;
    // The tests need what the install makes: a setup step checks that it is there.
    const needs = { ...plain, test: { ...plain.test, setup: [...(plain.test.setup ?? []), 'test -f node_modules/evogit-dep/index.js'] } };
    const without = await gradePatch({ repoDir: repo, root, task: needs, config, sandbox, patch: gold[plain.id]! });
    expect(without.outcome, without.log).not.toBe('pass');
    // A fresh install command each test run: a fresh environment key.
    const nonce = randomBytes(4).toString('hex');
    const install = [`mkdir -p node_modules/evogit-dep && echo 'export const nonce = "${nonce}";' > node_modules/evogit-dep/index.js && echo installed evogit-dep`];
    const task = { ...needs, test: { ...needs.test, install } };
    const first = await gradePatch({ repoDir: repo, root, task, config, sandbox, patch: gold[plain.id]! });
    expect(first.outcome, first.log).toBe('pass');
    expect(first.log).toContain('--- install');
    expect(first.log).toContain('installed evogit-dep');
    const second = await gradePatch({ repoDir: repo, root, task, config, sandbox, patch: gold[plain.id]! });
    expect(second.outcome, second.log).toBe('pass');
    expect(second.log).not.toContain('--- install');
    expect(second.image).toBe(first.image);

    // Manifests the agent broke fail the task; the task's own failing to install is the infrastructure's.
    const picky = [`if grep -qs broken requirements.txt; then echo 'no such package: broken' >&2; exit 1; fi; ${install[0]}`];
    const broke = `${gold[plain.id]!}diff --git a/requirements.txt b/requirements.txt\nnew file mode 100644\n--- /dev/null\n+++ b/requirements.txt\n@@ -0,0 +1 @@\n+broken\n`;
    const failed = await gradePatch({ repoDir: repo, root, task: { ...task, test: { ...task.test, install: picky } }, config, sandbox, patch: broke });
    expect(failed.outcome, failed.log).toBe('fail');
    expect(failed.reason).toMatch(/^dependency install failed: .*no such package: broken/);
    await expect(gradePatch({ repoDir: repo, root, task: { ...task, test: { ...task.test, install: [`echo ${nonce} && exit 3`] } }, config, sandbox, patch: gold[plain.id]! })).rejects.toMatchObject({ code: 'E_INSTALL_FAILED' });
  });

  it('the container gets the proxy URL and a per-node token, never the key; the proxy adds the key upstream', async () => {
    const config = await configOf(repo);
    const suite = await loadSuite(repo, 'poly', root);
    const task = suite.tasks.find((t) => t.id === 'javascript/two-fer')!;
    // An "agent" that dumps its whole environment into the work dir, then asks the LLM once.
    const spy = `#!/bin/sh\nenv > "$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.env.EVOGIT_TASK_FILE)).workdir)')/env.txt"\n`;
    await git(repo, ['checkout', '-q', '-b', 'spy', root]);
    const fs = await import('node:fs/promises');
    await fs.writeFile(path.join(repo, 'spy.sh'), spy, { mode: 0o755 });
    await fs.writeFile(path.join(repo, 'agent.json'), JSON.stringify({ protocol: 1, command: ['sh', 'spy.sh'] }));
    await git(repo, ['add', '-A']);
    await git(repo, ['commit', '-qm', 'spy agent']);
    const spyCommit = await revParse(repo);
    await git(repo, ['checkout', '-q', 'main']);
    const r = await runAgentProgram({ repoDir: repo, agentCommit: spyCommit, workTree: await taskBaseTree(repo, root, task), problem: task.problem, config, sandbox, llm: { proxy: llm.proxy, model: 'scripted' }, tokenFor: spyCommit });
    const envText = r.changes.find((c) => c.path === 'env.txt')?.content?.toString('utf8') ?? '';
    expect(envText).toMatch(/EVOGIT_LLM_TOKEN=evp-/);
    expect(envText).not.toContain(SECRET_KEY);
    expect(JSON.stringify(r.env)).not.toContain(SECRET_KEY);
    expect(r.output).not.toContain(SECRET_KEY);
    // The seed agent's calls reached the upstream with the key the proxy added, and a token from inside.
    const upstream = llm.server.requests.filter((q) => q.protocol === 'openai');
    expect(upstream.length).toBeGreaterThan(0);
    for (const q of upstream) expect(q.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
    // Nothing the archive records holds it.
    const notes = await git(repo, ['log', '--all', '-p', '--format=%B']);
    expect(notes).not.toContain(SECRET_KEY);
  });
}

describe('evaluating an agent node on suite tasks (local sandbox)', () => {
  suiteEvaluation('local', () => new LocalSandbox(undefined, () => undefined));
});

describeDocker('evaluating an agent node on suite tasks (Docker: no network, the proxy through a read-only unix socket)', () => {
  suiteEvaluation('docker', () => new DockerSandbox({ memory: 512 * 1024 * 1024, cpus: 1, pids: 256, user: '1000:1000' }));
  afterAll(async () => {
    expect(await ownContainers()).toEqual([]);
  });
});

/**
 * The in-sandbox runner of a node's agent program, shipped into every agent run as a file.
 * It starts the agent from `agent/` on `task/`, relays the LLM (a loopback TCP port inside the
 * container piped to the host proxy's unix socket, mounted read-only — the container has no
 * network), kills the agent at its deadline, and writes back which files of `task/` changed.
 * Plain JavaScript for the image's bare node; no dependencies.
 */
export const RUNNER_DIR = '.evogit-run';
export const RUNNER_FILE = 'runner.mjs';
/** Where the host's proxy socket directory is mounted inside a Docker run. */
export const SOCKET_MOUNT = '/evogit-llm';
export const SOCKET_NAME = 'llm.sock';

export const RUNNER_SOURCE = String.raw`// evogit agent runner (generated; see src/agents/self/runner.ts)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const work = path.dirname(here);
const agentDir = path.join(work, 'agent');
const taskDir = path.join(work, 'task');
const spec = JSON.parse(readFileSync(path.join(here, 'run.json'), 'utf8'));
const SKIP = new Set(['.git', 'node_modules']);

function snapshot(dir, out = new Map(), rel = '') {
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? rel + '/' + e.name : e.name;
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) snapshot(dir, out, r);
    } else if (e.isFile()) {
      const data = readFileSync(path.join(dir, r));
      const mode = lstatSync(path.join(dir, r)).mode;
      out.set(r, { hash: createHash('sha256').update(data).digest('hex'), exec: (mode & 0o111) !== 0 });
    }
  }
  return out;
}

function finish(result) {
  writeFileSync(path.join(here, spec.resultName), JSON.stringify(result));
  process.exit(0);
}

const before = snapshot(taskDir);
let manifest;
try {
  manifest = JSON.parse(readFileSync(path.join(agentDir, 'agent.json'), 'utf8'));
  if (!Array.isArray(manifest.command) || manifest.command.length === 0 || !manifest.command.every((a) => typeof a === 'string')) throw new Error('agent.json: command is not a non-empty list of strings');
} catch (e) {
  finish({ error: 'the node has no usable agent.json: ' + e.message, changes: [] });
}

let url = process.env.EVOGIT_LLM_URL ?? '';
let relay = null;
if (process.env.EVOGIT_LLM_SOCKET) {
  const socketPath = process.env.EVOGIT_LLM_SOCKET;
  relay = net.createServer((client) => {
    const upstream = net.connect(socketPath);
    client.pipe(upstream);
    upstream.pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise((resolve) => relay.listen(0, '127.0.0.1', resolve));
  url = 'http://127.0.0.1:' + relay.address().port + '/v1';
}

const taskFile = path.join(here, 'task.json');
writeFileSync(taskFile, JSON.stringify({ problem: spec.problem, workdir: taskDir }));
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  LANG: process.env.LANG ?? 'C.UTF-8',
  EVOGIT_TASK_FILE: taskFile,
  EVOGIT_LLM_URL: url,
  EVOGIT_LLM_TOKEN: process.env.EVOGIT_LLM_TOKEN ?? '',
  EVOGIT_MODEL: process.env.EVOGIT_MODEL ?? '',
  EVOGIT_MAX_STEPS: process.env.EVOGIT_MAX_STEPS ?? '20',
};
const started = Date.now();
const child = spawn(manifest.command[0], manifest.command.slice(1), { cwd: agentDir, env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
let timedOut = false;
const timer = setTimeout(() => {
  timedOut = true;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}, spec.deadlineMs);
const exit = await new Promise((resolve) => {
  child.on('error', (e) => resolve({ code: null, error: e.message }));
  child.on('exit', (code, signal) => resolve({ code, signal }));
});
clearTimeout(timer);
relay?.close();

const after = snapshot(taskDir);
const changes = [];
for (const [rel, info] of after) {
  const old = before.get(rel);
  if (!old || old.hash !== info.hash || old.exec !== info.exec) {
    changes.push({ path: rel, content: readFileSync(path.join(taskDir, rel)).toString('base64'), executable: info.exec });
  }
}
for (const rel of before.keys()) if (!after.has(rel)) changes.push({ path: rel, content: null });
finish({ exitCode: exit.code, signal: exit.signal ?? null, spawnError: exit.error ?? null, timedOut, durationMs: Date.now() - started, changes });
`;

/**
 * Running a node's own agent program in a sandbox: its tree (without .evogit/, where the
 * suites and their hidden tests live) under agent/, the tree to edit under task/, and the
 * runner. The agent reaches the LLM only through the host proxy, with a per-node token.
 */
import { randomBytes } from 'node:crypto';
import { parseDuration, type Config } from '../../config/index.js';
import { safeRelativePath } from '../llm/index.js';
import type { LlmProxy } from '../proxy/index.js';
import type { Budget } from '../llm/index.js';
import { makeTar, type Sandbox } from '../../sandbox/index.js';
import type { FileChange } from '../../suites/index.js';
import { archiveTar } from '../../git/reads.js';
import { agentDockerSandbox, openSocketBridge } from './bridge.js';
import { RUNNER_DIR, RUNNER_FILE, RUNNER_SOURCE, SOCKET_MOUNT, SOCKET_NAME } from './runner.js';

/** The host side of the LLM for agent programs: the proxy and the model name they are told. */
export interface AgentLlm {
  proxy: LlmProxy;
  model: string;
}

export interface AgentProgramRequest {
  repoDir: string;
  /** The node whose agent program runs (its tree minus .evogit/). */
  agentCommit: string;
  /** The tree the agent edits (a task's base, or the node's own tree). */
  workTree: string;
  problem: string;
  config: Config;
  /** Decides docker or local; a docker run gets the proxy socket mounted. */
  sandbox: Sandbox;
  llm: AgentLlm;
  /** Whose account the proxy meters the calls against. */
  tokenFor: string;
  budget?: Budget;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface AgentProgramResult {
  /** The agent's edits, paths checked to stay inside the work tree. */
  changes: FileChange[];
  exitCode: number | null;
  timedOut: boolean;
  /** Why no edit could be read (no agent.json, the runner died), if so. */
  problem: string | null;
  /** stdout+stderr of the run (capped). */
  output: string;
  /** The environment the sandbox was given (for audits: it holds the token, never a key). */
  env: Record<string, string>;
  durationMs: number;
  tokens: { input: number; output: number };
  cost: number;
}

interface RunnerResult {
  error?: string;
  exitCode?: number | null;
  timedOut?: boolean;
  spawnError?: string | null;
  changes: { path: string; content: string | null; executable?: boolean }[];
}

/** Read the runner's result (pure): changes with unsafe paths dropped and named. */
export function parseRunnerResult(text: string): { result: RunnerResult; changes: FileChange[]; rejected: string[] } {
  const result = JSON.parse(text) as RunnerResult;
  const changes: FileChange[] = [];
  const rejected: string[] = [];
  for (const c of Array.isArray(result.changes) ? result.changes : []) {
    const safe = typeof c.path === 'string' ? safeRelativePath(c.path) : null;
    if (!safe || safe.split('/').includes('.git')) {
      rejected.push(String(c.path));
      continue;
    }
    changes.push({ path: safe, content: c.content === null ? null : Buffer.from(c.content, 'base64'), executable: Boolean(c.executable) });
  }
  return { result, changes, rejected };
}

export async function runAgentProgram(req: AgentProgramRequest): Promise<AgentProgramResult> {
  const nonce = randomBytes(8).toString('hex');
  const timeoutMs = req.timeoutMs ?? parseDuration(req.config.dgm.agentTimeout);
  const resultName = `result-${nonce}.json`;
  const token = req.llm.proxy.issueToken(req.tokenFor, req.budget ?? {});
  const bridge = req.sandbox.kind === 'docker' ? await openSocketBridge(req.llm.proxy.url) : null;
  const before = req.llm.proxy.usage(req.tokenFor);
  try {
    const sandbox = bridge ? agentDockerSandbox(req.config, bridge) : req.sandbox;
    const env: Record<string, string> = {
      EVOGIT_LLM_TOKEN: token,
      EVOGIT_MODEL: req.llm.model,
      EVOGIT_MAX_STEPS: String(req.config.dgm.maxSteps),
      ...(bridge ? { EVOGIT_LLM_SOCKET: `${SOCKET_MOUNT}/${SOCKET_NAME}` } : { EVOGIT_LLM_URL: req.llm.proxy.openaiBaseUrl }),
    };
    const layers = [
      await archiveTar(req.repoDir, req.agentCommit, { prefix: 'agent/', paths: ['.', ':(exclude).evogit'] }),
      await archiveTar(req.repoDir, req.workTree, { prefix: 'task/' }),
      makeTar([
        { path: RUNNER_DIR },
        { path: `${RUNNER_DIR}/${RUNNER_FILE}`, content: Buffer.from(RUNNER_SOURCE) },
        // The runner stops the agent a little before the sandbox would kill everything.
        { path: `${RUNNER_DIR}/run.json`, content: Buffer.from(JSON.stringify({ problem: req.problem, resultName, deadlineMs: Math.max(1000, timeoutMs - 15_000) })) },
      ]),
    ];
    const resultRel = `${RUNNER_DIR}/${resultName}`;
    const run = await sandbox.run({
      runId: `agent-${req.agentCommit.slice(0, 12)}-${nonce}`,
      image: req.config.sandbox.image,
      command: ['node', `{work}/${RUNNER_DIR}/${RUNNER_FILE}`],
      layers,
      env,
      timeoutMs,
      outputLimit: 256 * 1024,
      collect: [resultRel],
      ...(req.signal ? { signal: req.signal } : {}),
    });
    const used = req.llm.proxy.usage(req.tokenFor);
    const tokens = { input: (used?.input ?? 0) - (before?.input ?? 0), output: (used?.output ?? 0) - (before?.output ?? 0) };
    const cost = (used?.cost ?? 0) - (before?.cost ?? 0);
    const base = { output: run.output, env, durationMs: run.durationMs, tokens, cost };
    const file = run.files[resultRel];
    if (!file) {
      return { ...base, changes: [], exitCode: run.exitCode, timedOut: run.timedOut, problem: run.timedOut ? 'the agent run was killed at its time limit' : `the agent runner wrote no result (exit ${run.exitCode})` };
    }
    const parsed = parseRunnerResult(file.toString('utf8'));
    const notes = [parsed.result.error, parsed.result.spawnError ? `cannot start the agent: ${parsed.result.spawnError}` : null, parsed.rejected.length ? `ignored unsafe paths: ${parsed.rejected.join(', ')}` : null].filter(Boolean);
    return { ...base, changes: parsed.changes, exitCode: parsed.result.exitCode ?? null, timedOut: Boolean(parsed.result.timedOut), problem: notes.length ? notes.join('; ') : null };
  } finally {
    req.llm.proxy.revoke(token);
    await bridge?.close();
  }
}

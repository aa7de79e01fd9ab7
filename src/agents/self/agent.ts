/**
 * The `self` agent (DGM mode): a node improves its own code. One of its failed task logs is
 * diagnosed into an improvement request by the host-side model (a ChatModel), then the node's
 * own agent program runs in the sandbox on a copy of its own repository (without .evogit/,
 * where the suites and hidden tests live) with that request; its edits land in the worktree
 * the loop commits.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { git } from '../../git/index.js';
import type { Sandbox } from '../../sandbox/index.js';
import { SUITES_DIR, treeWithout } from '../../suites/index.js';
import { costOf, safeRelativePath, type ChatModel } from '../llm/index.js';
import type { Agent, AgentInput, AgentOutput } from '../types.js';
import { runAgentProgram, type AgentLlm } from './program.js';

export interface SelfAgentOptions {
  sandbox: Sandbox;
  /** What the node's agent program talks to (the proxy) and the model it is told. */
  llm: AgentLlm;
  /** The host-side model that writes the improvement request. */
  chat: ChatModel;
}

export const DIAGNOSE_SYSTEM = `You improve a coding agent. The agent's own source code is shown, with the log of one
benchmark task it failed. Find the most likely shortcoming of the agent (its prompt, its tools,
its loop, its handling of replies or errors) that made it fail, and write ONE concrete,
self-contained request for a change to the agent's code that would fix that shortcoming in
general, not just for this task. Reply with the request only, starting with a one-line summary.`;

const CONTEXT_CHARS = 24_000;
const EXCLUDE = ['.evogit/**', `${SUITES_DIR}/**`];

export const TRANSCRIPT_FILE = 'self.json';

/** The diagnosis prompt (pure): the agent's files, the goal, the failed task's log. */
export function diagnosisPrompt(goal: string, files: { path: string; text: string }[], failed: { task: string; log: string } | null): string {
  let budget = CONTEXT_CHARS;
  const shown: string[] = [];
  for (const f of files) {
    if (budget <= 0) {
      shown.push(`--- ${f.path} (not shown) ---`);
      continue;
    }
    const text = f.text.length > budget ? `${f.text.slice(0, budget)}\n[... cut]` : f.text;
    budget -= text.length;
    shown.push(`--- ${f.path} ---\n${text}`);
  }
  const failure = failed ? `The agent failed task ${failed.task}. The end of that run's log:\n${failed.log}` : 'The agent has no failed task yet: improve its general robustness.';
  return `Goal of the evolution: ${goal}\n\nThe agent's code:\n${shown.join('\n')}\n\n${failure}`;
}

async function agentFiles(repoDir: string, commit: string): Promise<{ path: string; text: string }[]> {
  const names = (await git(repoDir, ['ls-tree', '-r', '-z', '--name-only', '--full-tree', commit])).stdout.split('\0').filter((f) => f && !f.startsWith('.evogit/'));
  const files: { path: string; text: string }[] = [];
  // The entry point and the code first, docs after.
  names.sort((a, b) => Number(a.endsWith('.md')) - Number(b.endsWith('.md')) || Number(a !== 'agent.json') - Number(b !== 'agent.json') || a.localeCompare(b));
  for (const name of names.slice(0, 40)) {
    const r = await git(repoDir, ['cat-file', 'blob', `${commit}:${name}`], { reject: false });
    if (r.exitCode === 0 && !r.stdout.includes('\0')) files.push({ path: name, text: r.stdout });
  }
  return files;
}

export class SelfAgent implements Agent {
  readonly kind = 'self' as const;
  constructor(private readonly options: SelfAgentOptions) {}

  async propose(input: AgentInput): Promise<AgentOutput> {
    const repoDir = input.worktree;
    const { chat, llm, sandbox } = this.options;
    const fail = (reason: string, cost = 0): AgentOutput => ({ outcome: 'failed', operator: 'self', message: '', cost, reason, model: llm.model });
    const failed = input.failingLogs.length ? input.failingLogs[input.seed % input.failingLogs.length]! : null;
    const prompt = diagnosisPrompt(input.goal, await agentFiles(repoDir, input.parent.id), failed);
    let request: string;
    let diagnosisCost = 0;
    let tokens = { input: 0, output: 0 };
    try {
      const reply = await chat.complete({ system: DIAGNOSE_SYSTEM, messages: [{ role: 'user', content: prompt }], maxTokens: input.config.agents.llm.maxTokens, ...(input.signal ? { signal: input.signal } : {}) });
      request = reply.text.trim();
      tokens = { ...reply.usage };
      diagnosisCost = costOf(reply.usage, input.config.agents.llm.prices[chat.model]);
    } catch (e) {
      return fail(`diagnosis failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!request) return fail('the diagnosis was empty', diagnosisCost);

    const workTree = await treeWithout(repoDir, (await git(repoDir, ['rev-parse', `${input.parent.id}^{tree}`])).stdout.trim(), EXCLUDE);
    const run = await runAgentProgram({
      repoDir,
      agentCommit: input.parent.id,
      workTree,
      problem: request,
      config: input.config,
      sandbox,
      llm,
      tokenFor: `${input.parent.id}:self`,
      budget: input.budget,
      ...(input.signal ? { signal: input.signal } : {}),
    });
    let applied = 0;
    for (const c of run.changes) {
      const rel = safeRelativePath(c.path);
      // The suites are the evaluator's: a self-edit never reaches them.
      if (!rel || rel.startsWith('.evogit/') || rel === '.evogit') continue;
      const abs = path.join(repoDir, rel);
      if (c.content === null) await rm(abs, { force: true });
      else {
        await mkdir(path.dirname(abs), { recursive: true });
        await writeFile(abs, c.content, { mode: c.executable ? 0o755 : 0o644 });
      }
      applied++;
    }
    const transcript = path.join(input.transcriptDir, TRANSCRIPT_FILE);
    await mkdir(input.transcriptDir, { recursive: true });
    await writeFile(transcript, JSON.stringify({ diagnosedTask: failed?.task ?? null, diagnosisPrompt: prompt, request, agent: { exitCode: run.exitCode, timedOut: run.timedOut, problem: run.problem, output: run.output, changed: run.changes.map((c) => c.path) } }, null, 2));
    const cost = diagnosisCost + run.cost;
    const total = { input: tokens.input + run.tokens.input, output: tokens.output + run.tokens.output };
    const summary = request.split('\n')[0]!.replace(/^[#*\s-]+/, '').slice(0, 64);
    if (applied === 0) return { outcome: 'no-edit', operator: 'self', message: '', cost, model: llm.model, tokens: total, transcript, reason: run.problem ?? 'the agent made no edit to itself' };
    return {
      outcome: 'edited',
      operator: 'self',
      message: `self: ${summary}\n\n${failed ? `Diagnosed from the failed task ${failed.task}.\n\n` : ''}Improvement request:\n${request}`,
      cost,
      model: llm.model,
      tokens: total,
      transcript,
    };
  }
}

export function createSelfAgent(options: SelfAgentOptions): Agent {
  return new SelfAgent(options);
}

/**
 * Evaluating an agent node on one suite task (operator `self`, DGM mode): run the node's own
 * agent program on the task's base tree with the problem statement, take its edits, put the
 * hidden tests back over them, grade that tree in a fresh sandbox, and return one Evaluation.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Evaluation } from '../../archive/types.js';
import type { Config } from '../../config/index.js';
import { errorMessage } from '../../errors/index.js';
import { git } from '../../git/index.js';
import type { Sandbox } from '../../sandbox/index.js';
import { evaluationTaskId, gradedTree, taskBaseTree, treeDiff, treeWithChanges, treeWithPatch, type SuiteManifest, type SuiteTask } from '../../suites/index.js';
import type { Budget } from '../llm/index.js';
import { gradeTree, type TreeGrade } from './grade.js';
import { runAgentProgram, type AgentLlm } from './program.js';

export interface EvaluateAgentRequest {
  /** The evolving repository (the agent's code; the suites and their base commits live here). */
  repoDir: string;
  /** The agent node (full SHA or any revision). */
  node: string;
  /** The archive root: the evaluator's copy of the suite. */
  root: string;
  suite: SuiteManifest;
  task: SuiteTask;
  config: Config;
  sandbox: Sandbox;
  llm: AgentLlm;
  writer: string;
  /** The full log of the run (agent output, patch, grading) is written here. */
  logDir: string;
  budget?: Budget;
  signal?: AbortSignal;
}

const LOG_TAIL = 2048;

function tail(text: string): string {
  return text.length <= LOG_TAIL ? text : `…${text.slice(-LOG_TAIL)}`;
}

export async function evaluateAgentOnTask(req: EvaluateAgentRequest): Promise<Evaluation> {
  const started = performance.now();
  const node = (await git(req.repoDir, ['rev-parse', '--verify', `${req.node}^{commit}`])).stdout.trim();
  const root = (await git(req.repoDir, ['rev-parse', '--verify', `${req.root}^{commit}`])).stdout.trim();
  const taskId = evaluationTaskId(req.suite.name, req.task.id);
  const base = { node, task: taskId, writer: req.writer, harness: req.sandbox.kind };
  let log = '';
  const finish = async (fields: Partial<Evaluation> & Pick<Evaluation, 'outcome'>): Promise<Evaluation> => {
    await mkdir(req.logDir, { recursive: true });
    const file = path.join(req.logDir, `${node.slice(0, 12)}-${taskId.replace(/[^\w.-]+/g, '_')}-${randomBytes(4).toString('hex')}.log`);
    await writeFile(file, log);
    return { ...base, ...fields, durationMs: Math.round(performance.now() - started), time: new Date().toISOString(), log: tail(log) };
  };
  try {
    const baseTree = await taskBaseTree(req.repoDir, req.suite.commit ?? root, req.task);
    const agent = await runAgentProgram({
      repoDir: req.repoDir,
      agentCommit: node,
      workTree: baseTree,
      problem: req.task.problem,
      config: req.config,
      sandbox: req.sandbox,
      llm: req.llm,
      tokenFor: node,
      ...(req.budget ? { budget: req.budget } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    log += `--- agent (exit ${agent.exitCode}${agent.timedOut ? ', timed out' : ''}, ${agent.durationMs} ms, ${agent.tokens.input}+${agent.tokens.output} tokens) ---\n${agent.output}\n`;
    if (agent.problem) log += `--- agent problem: ${agent.problem} ---\n`;
    const agentTree = await treeWithChanges(req.repoDir, baseTree, agent.changes);
    const patch = await treeDiff(req.repoDir, baseTree, agentTree);
    log += `--- patch (${agent.changes.length} file(s)) ---\n${patch}\n`;
    // The hidden tests go in only now, over whatever the agent did to them.
    const graded = await gradeGradedTree(req, root, agentTree, baseTree);
    log += graded.log;
    const why = agent.changes.length === 0 ? `the agent made no edit${agent.problem ? ` (${agent.problem})` : ''}; ${graded.reason}` : graded.reason;
    return finish({
      outcome: graded.outcome,
      ...(graded.tests ? { tests: graded.tests } : {}),
      ...(graded.testResults ? { testResults: graded.testResults } : {}),
      image: graded.image,
      reason: why,
      ...(agent.tokens.input + agent.tokens.output > 0 ? { metrics: { inputTokens: agent.tokens.input, outputTokens: agent.tokens.output, agentMs: agent.durationMs } } : {}),
    });
  } catch (e) {
    // Infrastructure (daemon, image, proxy): `error`, retried, never a failure of the agent.
    log += `\n--- error ---\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`;
    return finish({ outcome: 'error', reason: errorMessage(e) });
  }
}

async function gradeGradedTree(req: EvaluateAgentRequest, root: string, agentTree: string, baseTree: string): Promise<TreeGrade> {
  const tree = await gradedTree(req.repoDir, req.suite.commit ?? root, req.task, agentTree);
  return gradeTree({ repoDir: req.repoDir, tree, base: baseTree, task: req.task, config: req.config, sandbox: req.sandbox, ...(req.signal ? { signal: req.signal } : {}) });
}

/** Grade a patch (a unified diff against the task's base) with no agent: a gold patch, a wrong one. */
export async function gradePatch(req: { repoDir: string; root: string; task: SuiteTask; config: Config; sandbox: Sandbox; patch: string }): Promise<TreeGrade> {
  const baseTree = await taskBaseTree(req.repoDir, req.root, req.task);
  const agentTree = await treeWithPatch(req.repoDir, baseTree, req.patch);
  const tree = await gradedTree(req.repoDir, req.root, req.task, agentTree);
  return gradeTree({ repoDir: req.repoDir, tree, base: baseTree, task: req.task, config: req.config, sandbox: req.sandbox });
}

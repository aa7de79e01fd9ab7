/**
 * The command agent: runs any CLI coding agent (aider, claude, codex, opencode…) on the
 * worktree from an argument template. No shell: the template is an argument array whose
 * `{goal}`, `{context_file}` and `{worktree}` placeholders are filled in place. The goal,
 * failing logs and lineage go to a context file beside the transcript, outside the worktree.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDuration } from '../../config/index.js';
import { errorMessage } from '../../errors/index.js';
import { run, type ProcResult } from '../../proc/index.js';
import { git } from '../../git/index.js';
import { headCommit, worktreeStatus } from '../../git/reads.js';
import { scrubSecrets } from '../llm/chat.js';
import type { Agent, AgentInput, AgentOutput } from '../types.js';

export const PLACEHOLDERS = ['goal', 'context_file', 'worktree'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Fill the template in one pass, so a goal that contains "{worktree}" is not expanded again. */
export function expandTemplate(template: readonly string[], values: Record<Placeholder, string>): { command: string; args: string[] } {
  const filled = template.map((arg) => arg.replace(/\{(goal|context_file|worktree)\}/g, (_, name: Placeholder) => values[name]));
  const [command, ...args] = filled;
  if (!command) throw new Error('empty command template');
  return { command, args };
}

/** The context file a CLI agent reads: goal, failing logs, lineage, in markdown. */
export function renderContext(input: Pick<AgentInput, 'goal' | 'failingLogs' | 'lineage'>): string {
  const logs = input.failingLogs.map((l) => `## ${l.task}\n\n\`\`\`\n${l.log.trimEnd()}\n\`\`\``).join('\n\n') || '(none)';
  const lineage =
    input.lineage
      .map((l) => `- ${l.node.slice(0, 10)} (${l.operator}, pass rate ${l.passRate === null ? 'unknown' : `${Math.round(l.passRate * 100)}%`}): ${l.summary}`)
      .join('\n') || '(nothing yet)';
  return `# Goal\n\n${input.goal}\n\n# Failing task logs\n\n${logs}\n\n# What was tried before\n\n${lineage}\n\nEdit the files in the working directory. Do not commit; do not edit tests.\n`;
}

export function tail(text: string, chars = 4000): string {
  return text.length > chars ? `[… ${text.length - chars} characters cut]\n${text.slice(-chars)}` : text;
}

export interface CommandTranscript {
  agent: 'command';
  command: string;
  args: string[];
  contextFile: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  stdoutTail: string;
  stderrTail: string;
  /** The CLI committed on its own: HEAD was moved back to the parent, keeping the edits. */
  undidCommit?: string;
  changedFiles: string[];
  outcome: AgentOutput['outcome'];
  reason?: string;
}

export const COMMAND_TRANSCRIPT_FILE = 'command-transcript.json';

export interface CommandAgentOptions {
  /** Where the names in `agents.command.env` are read. Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

export class CommandAgent implements Agent {
  readonly kind = 'command' as const;

  constructor(private readonly options: CommandAgentOptions = {}) {}

  async propose(input: AgentInput): Promise<AgentOutput> {
    const cfg = input.config.agents.command;
    const hostEnv = this.options.env ?? process.env;
    const passed: Record<string, string> = {};
    for (const name of cfg.env) if (hostEnv[name] !== undefined) passed[name] = hostEnv[name];
    const scrub = (text: string): string => scrubSecrets(text, Object.values(passed));
    await mkdir(input.transcriptDir, { recursive: true });
    const transcriptPath = path.join(input.transcriptDir, COMMAND_TRANSCRIPT_FILE);
    const contextFile = path.join(input.transcriptDir, 'context.md');
    const output = (outcome: AgentOutput['outcome'], message: string, reason?: string): AgentOutput => ({
      outcome,
      operator: 'command',
      message,
      cost: 0,
      transcript: transcriptPath,
      ...(reason ? { reason: scrub(reason) } : {}),
    });
    if (!cfg.run.length) {
      const reason = 'agents.command.run is empty: set the command template, e.g. ["aider", "--yes", "--message-file", "{context_file}"]';
      await writeFile(transcriptPath, JSON.stringify({ agent: 'command', outcome: 'failed', reason }, null, 2) + '\n');
      return output('failed', 'command: not configured', reason);
    }
    await writeFile(contextFile, renderContext(input));
    const { command, args } = expandTemplate(cfg.run, { goal: input.goal, context_file: contextFile, worktree: input.worktree });
    const timeoutMs = parseDuration(cfg.timeout);

    let result: ProcResult;
    try {
      // Its own process group, ended with it: a daemon the CLI leaves behind must not write into
      // the worktree once the loop has taken it back.
      result = await run(command, args, { cwd: input.worktree, env: passed, timeoutMs, reject: false, ownGroup: true, ...(input.signal ? { signal: input.signal } : {}) });
    } catch (e) {
      const reason = `could not start ${command}: ${errorMessage(e)}`;
      const record: CommandTranscript = {
        agent: 'command', command, args, contextFile, exitCode: null, signal: null, timedOut: false, durationMs: 0,
        stdoutTail: '', stderrTail: '', changedFiles: [], outcome: 'failed', reason,
      };
      await writeFile(transcriptPath, scrub(JSON.stringify(record, null, 2)) + '\n');
      return output('failed', 'command: failed to start', reason);
    }

    // Some CLIs (aider) commit by default; the loop commits, so undo theirs and keep the edits.
    let undidCommit: string | undefined;
    const head = await headCommit(input.worktree);
    if (head !== input.parent.id) {
      await git(input.worktree, ['reset', '--soft', input.parent.id]);
      undidCommit = head;
    }
    const changedFiles = (await worktreeStatus(input.worktree)).map((s) => s.path);
    const aborted = input.signal?.aborted ?? false;
    let outcome: AgentOutput['outcome'];
    let reason: string | undefined;
    if (result.timedOut) {
      outcome = 'failed';
      reason = `${command} timed out after ${timeoutMs} ms and was killed`;
    } else if (aborted) {
      outcome = 'failed';
      reason = `${command} was aborted`;
    } else if (changedFiles.length) {
      outcome = 'edited';
      if (result.exitCode !== 0) reason = `${command} exited with ${result.exitCode ?? result.signal} but left edits`;
    } else {
      outcome = 'no-edit';
      reason = `${command} exited with ${result.exitCode ?? result.signal} and changed nothing`;
    }
    const record: CommandTranscript = {
      agent: 'command',
      command,
      args,
      contextFile,
      exitCode: result.exitCode,
      signal: result.signal,
      timedOut: result.timedOut,
      durationMs: result.durationMs,
      stdoutTail: tail(result.stdout),
      stderrTail: tail(result.stderr),
      ...(undidCommit ? { undidCommit } : {}),
      changedFiles,
      outcome,
      ...(reason ? { reason } : {}),
    };
    await writeFile(transcriptPath, scrub(JSON.stringify(record, null, 2)) + '\n');
    const name = path.basename(command);
    const message =
      outcome === 'edited'
        ? `${name}: edit ${changedFiles.slice(0, 3).join(', ')}${changedFiles.length > 3 ? ', …' : ''}\n\nRun by the command agent: ${name} changed ${changedFiles.length} file(s) in ${Math.round(result.durationMs / 1000)} s.`
        : `${name}: ${outcome}`;
    return output(outcome, message, reason);
  }
}

export function createCommandAgent(options: CommandAgentOptions = {}): Agent {
  return new CommandAgent(options);
}

/**
 * The llm agent: one coder over a ChatModel. It shows the model a map of the repository,
 * the relevant files, the goal, the failing logs and the lineage; applies the search/replace
 * blocks of the reply; sends mismatches back for at most `maxRounds` rounds; and records
 * every message, reply, block, token and cent in a transcript with the key scrubbed out.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDuration } from '../../config/index.js';
import type { Agent, AgentInput, AgentOutput } from '../types.js';
import { costOf, estimatePromptTokens, planCall, type Price, type Spent } from './budget.js';
import { ChatError, createChatModel, scrubSecrets, withRetries, type ChatMessage, type ChatModel, type RetryPolicy } from './chat.js';
import { buildRepoContext, renderFiles, renderMap } from './context.js';
import { applyEdit, parseEditBlocks, type EditBlock, type NearestText } from './edits.js';
import { worktreeStatus } from '../../git/reads.js';
import { protectedMatcher, safeRelativePath } from './paths.js';
import { fillTemplate, loadPrompts } from './prompts.js';

export interface BlockRecord {
  path: string;
  status: 'applied' | 'failed' | 'refused';
  how?: 'exact' | 'whitespace' | 'create';
  reason?: string;
  nearest?: NearestText;
}

export interface RoundRecord {
  round: number;
  /** The user message sent this round (earlier ones are in earlier rounds). */
  sent: string;
  maxTokens: number;
  reply?: string;
  finishReason?: string | null;
  usage?: { input: number; output: number };
  cost?: number;
  blocks: BlockRecord[];
  problems: string[];
  error?: string;
}

export interface LlmTranscript {
  agent: 'llm';
  provider: string;
  model: string;
  baseUrl?: string;
  parent: string;
  started: string;
  finished?: string;
  system?: string;
  rounds: RoundRecord[];
  events: { time: string; type: 'retry' | 'error' | 'budget' | 'note'; message: string }[];
  totals: Spent;
  outcome?: AgentOutput['outcome'];
  reason?: string;
  changedFiles?: string[];
}

export const TRANSCRIPT_FILE = 'llm-transcript.json';

export interface LlmAgentOptions {
  /** Use this model instead of building one from config (e.g. one shared with crossover). */
  chatModel?: ChatModel;
  /** Where the key is looked up by the name in `agents.llm.apiKeyEnv`. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  promptsDir?: string;
  /** Backoff tuning; retries always come from config. */
  retry?: Partial<Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs' | 'random'>>;
}

/** Resolve the key from the environment only; a local endpoint (baseUrl set) may need none. */
export function resolveApiKey(cfg: { apiKeyEnv: string; baseUrl?: string | undefined }, env: NodeJS.ProcessEnv): { key: string; missing: boolean } {
  const key = env[cfg.apiKeyEnv];
  if (key) return { key, missing: false };
  return { key: 'no-key', missing: true };
}

function formatLogs(logs: AgentInput['failingLogs']): string {
  if (!logs.length) return '(none)';
  return logs.map((l) => `## ${l.task}\n\`\`\`\n${l.log.trimEnd()}\n\`\`\``).join('\n\n');
}

function formatLineage(lineage: AgentInput['lineage']): string {
  if (!lineage.length) return '(nothing yet)';
  return lineage
    .map((l) => `- ${l.node.slice(0, 10)} (${l.operator}, pass rate ${l.passRate === null ? 'unknown' : `${Math.round(l.passRate * 100)}%`}): ${l.summary}`)
    .join('\n');
}

function summaryLine(reply: string): string | null {
  const m = /^\s*SUMMARY:\s*(.+)$/im.exec(reply);
  return m ? m[1]!.trim() : null;
}

function feedbackFor(block: EditBlock, record: BlockRecord): string {
  const parts = [`## ${block.path}`, record.reason ?? 'not applied'];
  if (record.status === 'failed' && block.search) parts.push(`Your SEARCH section was:\n\`\`\`\n${block.search}\`\`\``);
  if (record.nearest) {
    parts.push(`The most similar lines in ${block.path} (lines ${record.nearest.startLine}-${record.nearest.endLine}) are:\n\`\`\`\n${record.nearest.text}\`\`\``);
  }
  return parts.join('\n');
}

export class LlmAgent implements Agent {
  readonly kind = 'llm' as const;

  constructor(private readonly options: LlmAgentOptions = {}) {}

  async propose(input: AgentInput): Promise<AgentOutput> {
    const cfg = input.config.agents.llm;
    const env = this.options.env ?? process.env;
    const { key, missing } = resolveApiKey(cfg, env);
    const secrets = missing ? [] : [key];
    const scrub = (text: string): string => scrubSecrets(text, secrets);
    const transcriptPath = path.join(input.transcriptDir, TRANSCRIPT_FILE);
    const transcript: LlmTranscript = {
      agent: 'llm',
      provider: cfg.provider,
      model: cfg.model,
      ...(cfg.baseUrl ? { baseUrl: cfg.baseUrl } : {}),
      parent: input.parent.id,
      started: new Date().toISOString(),
      rounds: [],
      events: [],
      totals: { input: 0, output: 0, cost: 0 },
    };
    const save = async (): Promise<void> => {
      await mkdir(input.transcriptDir, { recursive: true });
      // Scrub the whole document as the last guard: a reply or an error could quote the key.
      await writeFile(transcriptPath, scrub(JSON.stringify(transcript, null, 2)) + '\n');
    };
    const finish = async (outcome: AgentOutput['outcome'], reason: string | undefined, message: string): Promise<AgentOutput> => {
      transcript.outcome = outcome;
      if (reason) transcript.reason = scrub(reason);
      transcript.finished = new Date().toISOString();
      await save();
      return {
        outcome,
        operator: 'llm',
        message: scrub(message),
        cost: transcript.totals.cost,
        model: cfg.model,
        tokens: { input: transcript.totals.input, output: transcript.totals.output },
        transcript: transcriptPath,
        ...(reason ? { reason: scrub(reason) } : {}),
      };
    };

    try {
      if (missing && !cfg.baseUrl && !this.options.chatModel) {
        return await finish('failed', `the environment variable ${cfg.apiKeyEnv} (agents.llm.apiKeyEnv) is not set`, 'llm: no API key');
      }
      return await this.run(input, transcript, save, finish, key, scrub);
    } catch (e) {
      // Never a crash out of propose: the failure is recorded with the key scrubbed.
      const why = e instanceof Error ? e.message : String(e);
      transcript.events.push({ time: new Date().toISOString(), type: 'error', message: scrub(why) });
      try {
        return await finish('failed', `internal error: ${why}`, 'llm: failed');
      } catch (e2) {
        throw new Error(scrub(`llm agent failed (${why}) and could not write its transcript: ${e2 instanceof Error ? e2.message : String(e2)}`));
      }
    }
  }

  private async run(
    input: AgentInput,
    transcript: LlmTranscript,
    save: () => Promise<void>,
    finish: (outcome: AgentOutput['outcome'], reason: string | undefined, message: string) => Promise<AgentOutput>,
    key: string,
    scrub: (text: string) => string,
  ): Promise<AgentOutput> {
    const cfg = input.config.agents.llm;
    const timeoutMs = parseDuration(cfg.timeout);
    const model =
      this.options.chatModel ?? createChatModel({ provider: cfg.provider, model: cfg.model, ...(cfg.baseUrl ? { baseUrl: cfg.baseUrl } : {}), apiKey: key, timeoutMs });
    const price: Price | undefined = cfg.prices[cfg.model];
    if (!price && input.budget.maxCostUsd !== undefined) {
      transcript.events.push({ time: new Date().toISOString(), type: 'note', message: `no price for model ${cfg.model} in agents.llm.prices: cost is counted as 0 and the cost budget cannot be enforced` });
    }
    const prompts = await loadPrompts(this.options.promptsDir);
    const isProtected = protectedMatcher(input.config.test.protected);
    const context = await buildRepoContext({
      worktree: input.worktree,
      texts: [...input.failingLogs.map((l) => l.log), input.goal],
      isProtected,
      charBudget: cfg.contextChars,
    });
    const system = fillTemplate(prompts.system, { edit_format: prompts.editFormat });
    transcript.system = system;
    const task = fillTemplate(prompts.task, {
      goal: input.goal,
      map: renderMap(context.map, context.total),
      files: context.files.length ? renderFiles(context.files) : '(none)',
      failing_logs: formatLogs(input.failingLogs),
      lineage: formatLineage(input.lineage),
    });

    const messages: ChatMessage[] = [];
    let next = task;
    let summary: string | null = null;
    let prose = '';
    let applied = 0;
    let stop: { kind: 'chat' | 'budget' | 'rounds' | 'done'; reason?: string } = { kind: 'rounds' };
    let lastFailure = '';
    const totalCalls = 1 + cfg.maxRounds;

    for (let round = 1; round <= totalCalls; round++) {
      messages.push({ role: 'user', content: next });
      const plan = planCall({
        spent: transcript.totals,
        promptTokens: estimatePromptTokens([system, ...messages.map((m) => m.content)]),
        maxTokens: cfg.maxTokens,
        budget: input.budget,
        price,
      });
      if (!plan.ok) {
        transcript.events.push({ time: new Date().toISOString(), type: 'budget', message: plan.reason });
        stop = { kind: 'budget', reason: `stopped before exceeding the budget: ${plan.reason}` };
        break;
      }
      const record: RoundRecord = { round, sent: next, maxTokens: plan.maxTokens, blocks: [], problems: [] };
      transcript.rounds.push(record);
      let reply;
      try {
        reply = await withRetries(() => model.complete({ system, messages, maxTokens: plan.maxTokens, ...(input.signal ? { signal: input.signal } : {}) }), {
          retries: cfg.retries,
          baseDelayMs: this.options.retry?.baseDelayMs ?? 1000,
          maxDelayMs: this.options.retry?.maxDelayMs ?? 60_000,
          maxRetryAfterMs: this.options.retry?.maxRetryAfterMs ?? 120_000,
          ...(this.options.retry?.random ? { random: this.options.retry.random } : {}),
          ...(input.signal ? { signal: input.signal } : {}),
          onRetry: ({ attempt, error, delayMs }) =>
            transcript.events.push({ time: new Date().toISOString(), type: 'retry', message: scrub(`attempt ${attempt} after ${error.message}; waiting ${delayMs} ms`) }),
        });
      } catch (e) {
        const error = e instanceof ChatError ? e : new ChatError('bad-response', e instanceof Error ? e.message : String(e));
        const attempts = error.retryable && !input.signal?.aborted ? ` after ${cfg.retries + 1} attempts` : '';
        record.error = scrub(error.message);
        transcript.events.push({ time: new Date().toISOString(), type: 'error', message: record.error });
        stop = { kind: 'chat', reason: `${cfg.provider} API: ${error.message}${attempts}` };
        await save();
        break;
      }
      record.reply = reply.text;
      record.finishReason = reply.finishReason;
      record.usage = reply.usage;
      record.cost = costOf(reply.usage, price);
      transcript.totals = {
        input: transcript.totals.input + reply.usage.input,
        output: transcript.totals.output + reply.usage.output,
        cost: transcript.totals.cost + record.cost,
      };
      messages.push({ role: 'assistant', content: reply.text });

      const parsed = parseEditBlocks(reply.text);
      summary ??= summaryLine(reply.text);
      if (!prose) prose = parsed.prose.replace(/^\s*SUMMARY:.*$/im, '').trim();
      record.problems = parsed.problems;
      const failures: string[] = [...parsed.problems];
      for (const block of parsed.blocks) {
        const result = await this.applyBlock(input.worktree, block, isProtected);
        record.blocks.push(result);
        if (result.status === 'applied') applied++;
        else failures.push(feedbackFor(block, result));
      }
      await save();
      if (!parsed.blocks.length && !parsed.problems.length) {
        lastFailure = `the reply had no SEARCH/REPLACE edit blocks`;
        failures.push(`Your reply contained no SEARCH/REPLACE blocks, so nothing changed. Answer with edit blocks in the required format.`);
      } else if (failures.length) {
        const failed = record.blocks.filter((b) => b.status !== 'applied').length;
        lastFailure = `${failed} edit block(s) could not be applied${parsed.problems.length ? ` and ${parsed.problems.length} were malformed` : ''}`;
      }
      if (!failures.length) {
        stop = { kind: 'done' };
        break;
      }
      next = fillTemplate(prompts.retryFeedback, { failures: failures.join('\n\n') });
    }

    const status = await worktreeStatus(input.worktree);
    transcript.changedFiles = status.map((s) => s.path);
    const files = transcript.changedFiles;
    const rounds = transcript.rounds.length;
    const leftover =
      stop.kind === 'done' ? undefined : stop.kind === 'rounds' ? `${lastFailure} after ${rounds} round(s)` : stop.reason;
    if (files.length) {
      const subject = (summary ?? `llm: edit ${files.slice(0, 3).join(', ')}${files.length > 3 ? ', …' : ''}`).slice(0, 72);
      const body = [
        `${cfg.model} applied ${applied} edit block(s) in ${rounds} round(s) to ${files.join(', ')}.`,
        leftover ? `Not everything landed: ${leftover}.` : '',
        prose.slice(0, 800),
      ]
        .filter(Boolean)
        .join('\n\n');
      return finish('edited', leftover, `${subject}\n\n${body}`);
    }
    if (stop.kind === 'chat' || stop.kind === 'budget') return finish('failed', stop.reason, 'llm: failed');
    return finish('no-edit', leftover ?? (applied ? 'the applied edits left the files unchanged' : 'no edit'), 'llm: no edit');
  }

  private async applyBlock(worktree: string, block: EditBlock, isProtected: (rel: string) => boolean): Promise<BlockRecord> {
    const rel = safeRelativePath(block.path);
    if (!rel) return { path: block.path, status: 'refused', reason: `Refused: ${block.path} is outside the repository (or inside .git).` };
    if (isProtected(rel)) return { path: rel, status: 'refused', reason: `Refused: ${rel} is protected (tests and evaluator files cannot be edited). Change the code under test instead.` };
    const abs = path.join(worktree, rel);
    let original: string | null = null;
    try {
      original = await readFile(abs, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const crlf = original?.includes('\r\n') ?? false;
    const result = applyEdit(crlf ? original!.replace(/\r\n/g, '\n') : original, { ...block, path: rel });
    if (!result.ok) return { path: rel, status: 'failed', reason: result.reason, ...(result.nearest ? { nearest: result.nearest } : {}) };
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, crlf ? result.content.replace(/\n/g, '\r\n') : result.content);
    return { path: rel, status: 'applied', how: result.how };
  }
}

export function createLlmAgent(options: LlmAgentOptions = {}): Agent {
  return new LlmAgent(options);
}

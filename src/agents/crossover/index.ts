/**
 * The crossover agent (EvoGit): a real git merge of the parent and the mate in the worktree.
 * Conflicts are resolved hunk by hunk, from the better-scored parent or by the llm coder;
 * then the merge state is dropped (MERGE_HEAD removed, index and files kept), so the loop
 * commits the result itself with both parents (extraParents = [mate]).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { parseDuration } from '../../config/index.js';
import { errorMessage } from '../../errors/index.js';
import { costOf, estimatePromptTokens, planCall, type Price, type Spent } from '../llm/budget.js';
import { createChatModel, scrubSecrets, withRetries, type ChatModel } from '../llm/chat.js';
import { resolveApiKey } from '../llm/coder.js';
import { git as runGit, parseNulList } from '../../git/index.js';
import { worktreeStatus } from '../../git/reads.js';
import { defaultPromptsDir, fillTemplate } from '../llm/prompts.js';
import type { Agent, AgentInput, AgentOutput } from '../types.js';

export type Side = 'ours' | 'theirs';

export type Segment = { kind: 'text'; text: string } | { kind: 'conflict'; ours: string; base: string | null; theirs: string };

const OPEN = /^<{7}(?: .*)?$/;
const BASE = /^\|{7}(?: .*)?$/;
const MID = /^={7}$/;
const CLOSE = /^>{7}(?: .*)?$/;

/** Split a file with (merge or diff3 style) conflict markers; null when the markers are malformed. */
export function parseConflicts(content: string): Segment[] | null {
  const lines = content.split(/(?<=\n)/);
  const segments: Segment[] = [];
  let text = '';
  let i = 0;
  const bare = (l: string): string => l.replace(/\r?\n$/, '');
  while (i < lines.length) {
    const line = lines[i]!;
    if (!OPEN.test(bare(line))) {
      text += line;
      i++;
      continue;
    }
    if (text) segments.push({ kind: 'text', text });
    text = '';
    let ours = '';
    let base: string | null = null;
    let theirs = '';
    let part: 'ours' | 'base' | 'theirs' = 'ours';
    let closed = false;
    for (i++; i < lines.length; i++) {
      const l = lines[i]!;
      const b = bare(l);
      if (part === 'ours' && BASE.test(b)) {
        part = 'base';
        base = '';
      } else if (part !== 'theirs' && MID.test(b)) part = 'theirs';
      else if (part === 'theirs' && CLOSE.test(b)) {
        closed = true;
        i++;
        break;
      } else if (OPEN.test(b)) return null;
      else if (part === 'ours') ours += l;
      else if (part === 'base') base += l;
      else theirs += l;
    }
    if (!closed) return null;
    segments.push({ kind: 'conflict', ours, base, theirs });
  }
  if (text) segments.push({ kind: 'text', text });
  return segments;
}

export function hasConflictMarkers(content: string): boolean {
  return content.split('\n').some((l) => OPEN.test(l) || CLOSE.test(l));
}

/** Which side wins a conflict: the higher pass rate; unknown or equal → the parent (ours). */
export function betterSide(input: Pick<AgentInput, 'parent' | 'mate' | 'passRates' | 'lineage'>): { side: Side; ours: number | null; theirs: number | null } {
  const rate = (id: string | undefined): number | null => {
    if (!id) return null;
    const known = input.passRates?.[id];
    if (known !== undefined && known !== null) return known;
    return input.lineage.find((l) => l.node === id)?.passRate ?? null;
  };
  const ours = rate(input.parent.id);
  const theirs = rate(input.mate?.id);
  return { side: theirs !== null && (ours === null || theirs > ours) ? 'theirs' : 'ours', ours, theirs };
}

/** `git ls-files -u -z`: "<mode> <sha> <stage>\t<path>" → path → stages present. */
export function parseUnmerged(stdout: string): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const entry of parseNulList(stdout)) {
    const m = /^\d+ [0-9a-f]+ ([123])\t(.+)$/s.exec(entry);
    if (!m) continue;
    const stages = out.get(m[2]!) ?? new Set<number>();
    stages.add(Number(m[1]));
    out.set(m[2]!, stages);
  }
  return out;
}

export interface HunkRecord {
  path: string;
  hunk: number;
  resolvedBy: Side | 'llm';
  note?: string;
}

export interface CrossoverTranscript {
  agent: 'crossover';
  parent: string;
  mate: string;
  better: { side: Side; ours: number | null; theirs: number | null };
  mergeExit: number | null;
  mergeOutput: string;
  files: { path: string; how: 'hunks' | 'whole-file' | 'deleted' }[];
  hunks: HunkRecord[];
  tokens: { input: number; output: number };
  cost: number;
  changedFiles: string[];
  outcome?: AgentOutput['outcome'];
  reason?: string;
}

export const CROSSOVER_TRANSCRIPT_FILE = 'crossover-transcript.json';

export interface CrossoverAgentOptions {
  /** Resolve conflicts with this model; default: built from agents.llm when agents.crossover.resolve is 'llm'. */
  chatModel?: ChatModel;
  env?: NodeJS.ProcessEnv;
  promptsDir?: string;
}

const git = (cwd: string, args: string[], reject = true) => runGit(cwd, args, { reject });

export class CrossoverAgent implements Agent {
  readonly kind = 'crossover' as const;

  constructor(private readonly options: CrossoverAgentOptions = {}) {}

  async propose(input: AgentInput): Promise<AgentOutput> {
    await mkdir(input.transcriptDir, { recursive: true });
    const transcriptPath = path.join(input.transcriptDir, CROSSOVER_TRANSCRIPT_FILE);
    const mate = input.mate;
    const better = betterSide(input);
    const t: CrossoverTranscript = {
      agent: 'crossover',
      parent: input.parent.id,
      mate: mate?.id ?? '',
      better,
      mergeExit: null,
      mergeOutput: '',
      files: [],
      hunks: [],
      tokens: { input: 0, output: 0 },
      cost: 0,
      changedFiles: [],
    };
    const llm = this.llmResolver(input);
    const done = async (outcome: AgentOutput['outcome'], message: string, reason?: string): Promise<AgentOutput> => {
      t.outcome = outcome;
      if (reason) t.reason = reason;
      await writeFile(transcriptPath, llm.scrub(JSON.stringify(t, null, 2)) + '\n');
      return {
        outcome,
        operator: 'crossover',
        message,
        cost: t.cost,
        ...(llm.model ? { model: llm.model.model, tokens: t.tokens } : {}),
        ...(outcome === 'edited' && mate ? { extraParents: [mate.id] } : {}),
        transcript: transcriptPath,
        ...(reason ? { reason: llm.scrub(reason) } : {}),
      };
    };
    if (!mate) return done('failed', 'crossover: no mate', 'crossover needs a second parent (input.mate)');

    try {
      const merge = await git(input.worktree, ['-c', 'merge.conflictStyle=diff3', 'merge', '--no-commit', '--no-ff', '--no-edit', mate.id], false);
      t.mergeExit = merge.exitCode;
      t.mergeOutput = (merge.stdout + merge.stderr).trim().slice(-2000);
      const unmerged = parseUnmerged((await git(input.worktree, ['ls-files', '-u', '-z'])).stdout);
      if (merge.exitCode !== 0 && unmerged.size === 0) {
        await this.abort(input.worktree);
        return done('failed', 'crossover: merge failed', `git merge failed: ${t.mergeOutput.split('\n').slice(-1)[0] ?? ''}`);
      }
      for (const [file, stages] of unmerged) await this.resolveFile(input, file, stages, better.side, t, llm);
      // Drop the merge state but keep the merged index and files: the loop commits with both parents.
      await git(input.worktree, ['merge', '--quit']);
    } catch (e) {
      await this.abort(input.worktree);
      return done('failed', 'crossover: failed', `crossover failed: ${errorMessage(e)}`);
    }

    t.changedFiles = (await worktreeStatus(input.worktree)).map((s) => s.path);
    if (!t.changedFiles.length) return done('no-edit', 'crossover: nothing to merge', `merging ${mate.id.slice(0, 10)} changes nothing (already contained in the parent)`);
    const conflicts = t.hunks.length;
    const subject = `crossover: merge ${mate.branch ?? mate.id.slice(0, 10)} into ${input.parent.branch ?? input.parent.id.slice(0, 10)}`;
    const body = conflicts
      ? `${conflicts} conflicting hunk(s) in ${t.files.length} file(s): ${t.hunks.filter((h) => h.resolvedBy === 'llm').length} resolved by the model, the rest from the better-scored side (${better.side === 'ours' ? 'parent' : 'mate'}).`
      : 'Merged without conflicts.';
    return done('edited', `${subject}\n\n${body}`);
  }

  private async abort(worktree: string): Promise<void> {
    const head = await git(worktree, ['rev-parse', '-q', '--verify', 'MERGE_HEAD'], false);
    if (head.exitCode === 0) await git(worktree, ['merge', '--abort']);
  }

  private async resolveFile(input: AgentInput, file: string, stages: Set<number>, side: Side, t: CrossoverTranscript, llm: LlmResolver): Promise<void> {
    const wt = input.worktree;
    const stage = side === 'ours' ? 2 : 3;
    if (!stages.has(stage)) {
      // The better side deleted the file: keep it deleted.
      await git(wt, ['rm', '-q', '--cached', '--ignore-unmatch', '--', file]);
      await rm(path.join(wt, file), { force: true });
      t.files.push({ path: file, how: 'deleted' });
      return;
    }
    const abs = path.join(wt, file);
    const content = stages.has(2) && stages.has(3) ? await readFile(abs, 'utf8').catch(() => null) : null;
    const segments = content !== null && !content.includes('\0') ? parseConflicts(content) : null;
    if (!segments || !segments.some((s) => s.kind === 'conflict')) {
      // Not a text conflict git could mark (binary, modify/delete, type change): take the whole file.
      await git(wt, ['checkout', `--${side}`, '--', file]);
      await git(wt, ['add', '--', file]);
      t.files.push({ path: file, how: 'whole-file' });
      return;
    }
    let out = '';
    let hunk = 0;
    for (let k = 0; k < segments.length; k++) {
      const s = segments[k]!;
      if (s.kind === 'text') {
        out += s.text;
        continue;
      }
      hunk++;
      const before = segments[k - 1]?.kind === 'text' ? (segments[k - 1] as { text: string }).text.split('\n').slice(-6).join('\n') : '';
      const after = segments[k + 1]?.kind === 'text' ? (segments[k + 1] as { text: string }).text.split('\n').slice(0, 6).join('\n') : '';
      const byModel = llm.model ? await llm.resolve(input, file, s, before, after, t) : null;
      if (byModel !== null && typeof byModel === 'string') {
        out += byModel;
        t.hunks.push({ path: file, hunk, resolvedBy: 'llm' });
      } else {
        out += s[side];
        t.hunks.push({ path: file, hunk, resolvedBy: side, ...(byModel && typeof byModel === 'object' ? { note: byModel.fallback } : {}) });
      }
    }
    await writeFile(abs, out);
    await git(wt, ['add', '--', file]);
    t.files.push({ path: file, how: 'hunks' });
  }

  private llmResolver(input: AgentInput): LlmResolver {
    const cfg = input.config.agents.llm;
    const wanted = this.options.chatModel !== undefined || input.config.agents.crossover.resolve === 'llm';
    const { key, missing } = resolveApiKey(cfg, this.options.env ?? process.env);
    const secrets = missing ? [] : [key];
    const scrub = (s: string): string => scrubSecrets(s, secrets);
    if (!wanted || (missing && !cfg.baseUrl && !this.options.chatModel)) return { model: null, scrub, resolve: async () => null };
    const model =
      this.options.chatModel ??
      createChatModel({ provider: cfg.provider, model: cfg.model, ...(cfg.baseUrl ? { baseUrl: cfg.baseUrl } : {}), apiKey: key, timeoutMs: parseDuration(cfg.timeout) });
    const price: Price | undefined = cfg.prices[model.model];
    const promptsDir = this.options.promptsDir ?? defaultPromptsDir();
    let template: string | null = null;
    const resolve = async (
      inp: AgentInput,
      file: string,
      c: Extract<Segment, { kind: 'conflict' }>,
      before: string,
      after: string,
      t: CrossoverTranscript,
    ): Promise<string | { fallback: string }> => {
      template ??= await readFile(path.join(promptsDir, 'resolve-conflict.md'), 'utf8');
      const pct = (r: number | null): string => (r === null ? 'unknown' : `${Math.round(r * 100)}%`);
      const prompt = fillTemplate(template, {
        path: file,
        ours: c.ours,
        base: c.base ?? '(not shown)',
        theirs: c.theirs,
        before,
        after,
        ours_rate: pct(t.better.ours),
        theirs_rate: pct(t.better.theirs),
      });
      const system = 'You resolve git merge conflicts precisely.';
      const spent: Spent = { ...t.tokens, cost: t.cost };
      const plan = planCall({ spent, promptTokens: estimatePromptTokens([system, prompt]), maxTokens: cfg.maxTokens, budget: inp.budget, price });
      if (!plan.ok) return { fallback: `budget: ${plan.reason}` };
      try {
        const reply = await withRetries(() => model.complete({ system, messages: [{ role: 'user', content: prompt }], maxTokens: plan.maxTokens, ...(inp.signal ? { signal: inp.signal } : {}) }), {
          retries: cfg.retries,
          baseDelayMs: 1000,
          maxDelayMs: 30_000,
          maxRetryAfterMs: 60_000,
          ...(inp.signal ? { signal: inp.signal } : {}),
        });
        t.tokens = { input: t.tokens.input + reply.usage.input, output: t.tokens.output + reply.usage.output };
        t.cost += costOf(reply.usage, price);
        const m = /```[^\n]*\n([\s\S]*?)```/.exec(reply.text);
        if (!m) return { fallback: 'model reply had no code block' };
        const text = m[1]!;
        if (hasConflictMarkers(text)) return { fallback: 'model reply still had conflict markers' };
        return text;
      } catch (e) {
        return { fallback: scrub(`model failed: ${errorMessage(e)}`) };
      }
    };
    return { model, scrub, resolve };
  }
}

interface LlmResolver {
  model: ChatModel | null;
  scrub: (s: string) => string;
  resolve: (
    input: AgentInput,
    file: string,
    conflict: Extract<Segment, { kind: 'conflict' }>,
    before: string,
    after: string,
    t: CrossoverTranscript,
  ) => Promise<string | { fallback: string } | null>;
}

export function createCrossoverAgent(options: CrossoverAgentOptions = {}): Agent {
  return new CrossoverAgent(options);
}

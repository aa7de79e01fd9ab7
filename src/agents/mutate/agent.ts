/**
 * The built-in offline agent: one-edit children of a node, drawn without replacement from the
 * neighbourhood of the lines its failing tests point to (per-test coverage from the archive,
 * else stack frames), and two-edit children combining helpful siblings. It edits files in the
 * worktree and writes a transcript; the loop commits. Every choice derives from input.seed.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ALWAYS_PROTECTED } from '../../config/index.js';
import { rankSpectra, type SuspiciousLine } from '../../tasks/spectrum.js';
import type { Agent, AgentInput, AgentOutput } from '../types.js';
import { chooseChild, type Choice } from './choose.js';
import { archiveContext } from './context.js';
import { isEditable, listRepoFiles } from './files.js';
import { hotspotLines, lineageSpectra, suspicionOf } from './localize.js';
import { languageOfPath, parse } from './parser.js';
import type { EditRecord, SourceFile } from './search.js';
import { functionSpansOfTree, type FunctionSpan } from './sites/index.js';
import { findHotspots } from './targeting.js';
import { TreeHasher } from './trees.js';

/** Files larger than this are not mutated (generated or vendored code, most likely). */
const MAX_FILE_BYTES = 256 * 1024;
/** Most files parsed for one proposal. */
const MAX_FILES = 300;
/** Ranked lines kept in the transcript. */
const TRANSCRIPT_LINES = 20;

export interface MutateTranscript {
  agent: 'mutate';
  seed: number;
  /** Where the ranking came from: the archive's coverage spectra, failing-log stack frames, or nothing. */
  localization: 'coverage' | 'stack-frames' | 'none';
  editableFiles: number;
  suspicious: SuspiciousLine[];
  choice?: Omit<Choice, 'sources'>;
  outcome: AgentOutput['outcome'];
  reason?: string;
}

export function describeEdit(edit: EditRecord): string {
  return `${edit.operator} ${edit.file}:${edit.line}: ${edit.before} → ${edit.after}`;
}

const ordinal = (n: number): string => `${n}${n % 100 >= 11 && n % 100 <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;

/**
 * The commit message: a subject naming the edit (or the number of edits and their operators),
 * one `- <operator> <file>:<line>: <before> → <after>` line per edit, why it was chosen, and
 * the seed that reproduces it.
 */
export function commitMessage(choice: Omit<Choice, 'sources'>, seed: number, ranked: readonly SuspiciousLine[] = []): string {
  const { edits } = choice;
  // A lateral child is named by the edit it makes; the undone one is the ancestor's.
  const first = choice.kind === 'lateral' ? edits[1] : edits[0];
  const subject =
    (edits.length === 1 || choice.kind === 'lateral') && first
      ? `mutate: ${first.operator} at ${first.file}:${first.line}`
      : `mutate: ${edits.length} edits (${[...new Set(edits.map((e) => e.operator))].join(', ')})`;
  const why: string[] = [];
  if (choice.kind === 'pair' && choice.from) {
    why.push(`Combines ${choice.from.branches.join(' and ')}, siblings that each made different failing tests pass (${choice.from.helped.join(' and ')} tests).`);
  } else if (choice.kind === 'transplant' && choice.from) {
    why.push(`Carries over the edit of ${choice.from.branches[0]}, which made ${choice.from.helped[0]} failing tests pass on another branch; they fail here.`);
  } else if (choice.kind === 'lateral' && choice.drawn && first && edits[0]) {
    why.push(
      `Undoes the ${edits[0].operator} edit of ${choice.undoes} on line ${edits[0].line} of ${first.file}, which is still suspicious, and makes another of that line's edits instead (suspiciousness ${choice.drawn.suspicion.toFixed(2)}, drawn ${ordinal(choice.drawn.rank)} of ${choice.drawn.of} candidates).`,
    );
  } else if (choice.kind === 'single' && choice.drawn && first) {
    const at = ranked.findIndex((l) => l.file === first.file && l.line === first.line);
    const line = at >= 0 ? `suspiciousness ${choice.drawn.suspicion.toFixed(2)}, ${ordinal(at + 1)} of ${ranked.length} ranked lines` : `suspiciousness ${choice.drawn.suspicion.toFixed(2)}`;
    why.push(`Line ${first.line} of ${first.file}: ${line}. Drawn ${ordinal(choice.drawn.rank)} of the ${choice.drawn.of} one-edit candidates (${choice.drawn.known} already in the archive).`);
  } else {
    why.push('The one-edit neighbourhood of the suspicious lines is spent: edits drawn at random, weighted as it.');
  }
  return `${subject}\n\n${[...edits.map((e) => `- ${describeEdit(e)}`), '', ...why, `Seed: ${seed}`].join('\n')}`;
}

async function writeTranscript(dir: string, transcript: MutateTranscript): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `mutate-${transcript.seed}.json`);
  await writeFile(file, `${JSON.stringify(transcript, null, 2)}\n`);
  return file;
}

/** The worktree's editable, parsable sources and their named functions. */
async function readSources(input: AgentInput, repoFiles: readonly string[]): Promise<{ sources: SourceFile[]; spans: Map<string, FunctionSpan[]> }> {
  const rules = {
    protected: [...ALWAYS_PROTECTED, ...input.config.test.protected, ...input.config.test.tasks.pattern],
    include: input.config.agents.mutate.include,
  };
  const sources: SourceFile[] = [];
  const spans = new Map<string, FunctionSpan[]>();
  for (const file of repoFiles.filter((f) => isEditable(f, rules)).slice(0, MAX_FILES)) {
    const language = languageOfPath(file);
    const full = path.join(input.worktree, file);
    if (!language || (await stat(full)).size > MAX_FILE_BYTES) continue;
    const source = await readFile(full, 'utf8');
    const tree = await parse(source, language);
    try {
      // A file that does not parse now would make every child look like a parse failure.
      if (tree.rootNode.hasError) continue;
      spans.set(file, functionSpansOfTree(tree.rootNode));
    } finally {
      tree.delete();
    }
    sources.push({ path: file, language, source });
  }
  return { sources, spans };
}

/** Stack-frame hotspots of the failing logs, for nodes whose runs carry no coverage. */
async function logLines(input: AgentInput, repoFiles: readonly string[], spans: Map<string, FunctionSpan[]>): Promise<SuspiciousLine[]> {
  // Preload the files that logs name, so the pure targeting can read their lines synchronously.
  const lines = new Map<string, string[] | null>();
  const logs = input.failingLogs.map((l) => l.log);
  for (const file of repoFiles) {
    if (!logs.some((log) => log.includes(path.basename(file)))) continue;
    lines.set(file, await readFile(path.join(input.worktree, file), 'utf8').then((t) => t.split('\n'), () => null));
  }
  const hotspots = findHotspots({ logs, files: repoFiles, editable: spans, lineText: (file, line) => lines.get(file)?.[line - 1] ?? null });
  return hotspotLines(hotspots);
}

export function createMutateAgent(): Agent {
  return {
    kind: 'mutate',
    async propose(input: AgentInput): Promise<AgentOutput> {
      if (input.signal?.aborted) return { outcome: 'failed', operator: 'mutate', message: '', cost: 0, reason: 'aborted before starting' };
      const repoFiles = await listRepoFiles(input.worktree, input.signal);
      const { sources, spans } = await readSources(input, repoFiles);
      const editable = new Set(sources.map((s) => s.path));

      const archive = input.archive ? archiveContext(input.archive, input.parent.id) : undefined;
      const fromCoverage = rankSpectra(lineageSpectra(archive)).filter((l) => editable.has(l.file));
      const ranked = fromCoverage.length > 0 ? fromCoverage : (await logLines(input, repoFiles, spans)).filter((l) => editable.has(l.file));
      const localization = fromCoverage.length > 0 ? 'coverage' : ranked.length > 0 ? 'stack-frames' : 'none';
      const hasher = archive ? await TreeHasher.load(input.worktree) : null;

      const choice =
        sources.length === 0
          ? { reason: 'no editable JavaScript, TypeScript or Python source in the worktree' }
          : await chooseChild({ files: sources, suspicion: suspicionOf(ranked, spans), seed: input.seed, maxEdits: input.config.agents.mutate.maxEdits, worktree: input.worktree, ...(archive ? { archive } : {}), hasher });
      const made = 'edits' in choice ? choice : null;
      const transcript: MutateTranscript = {
        agent: 'mutate',
        seed: input.seed,
        localization,
        editableFiles: sources.length,
        suspicious: ranked.slice(0, TRANSCRIPT_LINES),
        ...(made ? { choice: { kind: made.kind, edits: made.edits, ...(made.drawn ? { drawn: made.drawn } : {}), ...(made.from ? { from: made.from } : {}), ...(made.undoes ? { undoes: made.undoes } : {}) } } : {}),
        outcome: made ? 'edited' : 'no-edit',
        ...(made ? {} : { reason: (choice as { reason: string }).reason }),
      };
      const transcriptFile = await writeTranscript(input.transcriptDir, transcript);
      if (!made) return { outcome: 'no-edit', operator: 'mutate', message: '', cost: 0, reason: (choice as { reason: string }).reason, transcript: transcriptFile };
      for (const [file, source] of made.sources) await writeFile(path.join(input.worktree, file), source);
      return { outcome: 'edited', operator: 'mutate', message: commitMessage(made, input.seed, ranked), cost: 0, transcript: transcriptFile };
    },
  };
}

/**
 * The built-in offline agent: genetic-improvement edits on the syntax tree, aimed at the code
 * that failing tests reach. It edits files in the worktree and writes a transcript; the loop
 * commits. Every choice derives from input.seed.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ALWAYS_PROTECTED } from '../../config/index.js';
import type { Agent, AgentInput, AgentOutput } from '../types.js';
import { isEditable, listRepoFiles } from './files.js';
import { languageOfPath, parse } from './parser.js';
import { searchEdits, type EditRecord, type SourceFile } from './search.js';
import { functionSpansOfTree, type FunctionSpan } from './sites.js';
import { findHotspots, type Hotspot } from './targeting.js';

/** Files larger than this are not mutated (generated or vendored code, most likely). */
const MAX_FILE_BYTES = 256 * 1024;
/** Most files parsed for one proposal. */
const MAX_FILES = 300;

export interface MutateTranscript {
  agent: 'mutate';
  seed: number;
  strategy: 'targeted';
  editableFiles: number;
  hotspots: Hotspot[];
  attempts: number;
  edits: EditRecord[];
  outcome: AgentOutput['outcome'];
  reason?: string;
}

export function describeEdit(edit: EditRecord): string {
  return `${edit.operator} ${edit.file}:${edit.line}: ${edit.before} → ${edit.after}`;
}

export function commitMessage(edits: readonly EditRecord[], seed: number, hotspots: readonly Hotspot[]): string {
  const first = edits[0];
  const subject =
    edits.length === 1 && first
      ? `mutate: ${first.operator} at ${first.file}:${first.line}`
      : `mutate: ${edits.length} edits (${[...new Set(edits.map((e) => e.operator))].join(', ')})`;
  const aimed = [...new Set(hotspots.map((h) => h.file))];
  const body = [
    ...edits.map((e) => `- ${describeEdit(e)}`),
    '',
    aimed.length > 0 ? `Aimed at lines the failing tests reach in ${aimed.join(', ')}.` : 'No failing-test locations: edited anywhere in the sources.',
    `Seed: ${seed}`,
  ];
  return `${subject}\n\n${body.join('\n')}`;
}

async function writeTranscript(dir: string, transcript: MutateTranscript): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `mutate-${transcript.seed}.json`);
  await writeFile(file, `${JSON.stringify(transcript, null, 2)}\n`);
  return file;
}

export function createMutateAgent(): Agent {
  return {
    kind: 'mutate',
    async propose(input: AgentInput): Promise<AgentOutput> {
      const fail = (reason: string): AgentOutput => ({ outcome: 'failed', operator: 'mutate', message: '', cost: 0, reason });
      if (input.signal?.aborted) return fail('aborted before starting');

      const repoFiles = await listRepoFiles(input.worktree, input.signal);
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

      // Preload the files that logs name, so the pure targeting can read their lines synchronously.
      const lines = new Map<string, string[] | null>();
      const lineText = (file: string, line: number): string | null => lines.get(file)?.[line - 1] ?? null;
      const logs = input.failingLogs.map((l) => l.log);
      for (const file of repoFiles) {
        if (!logs.some((log) => log.includes(path.basename(file)))) continue;
        try {
          lines.set(file, (await readFile(path.join(input.worktree, file), 'utf8')).split('\n'));
        } catch (error) {
          // A listed file that vanished (deleted in the worktree) simply offers no line text.
          lines.set(file, null);
          void error;
        }
      }
      const hotspots = findHotspots({ logs, files: repoFiles, editable: spans, lineText });

      const result = await searchEdits(sources, { seed: input.seed, maxEdits: input.config.agents.mutate.maxEdits, hotspots });
      const transcript: MutateTranscript = {
        agent: 'mutate',
        seed: input.seed,
        strategy: 'targeted',
        editableFiles: sources.length,
        hotspots,
        attempts: result.attempts,
        edits: result.ok ? result.edits : [],
        outcome: result.ok ? 'edited' : 'no-edit',
        ...(result.ok ? {} : { reason: result.reason }),
      };
      const transcriptFile = await writeTranscript(input.transcriptDir, transcript);
      if (!result.ok) {
        const reason = sources.length === 0 ? 'no editable JavaScript, TypeScript or Python source in the worktree' : result.reason;
        return { outcome: 'no-edit', operator: 'mutate', message: '', cost: 0, reason, transcript: transcriptFile };
      }
      for (const [file, source] of result.sources) await writeFile(path.join(input.worktree, file), source);
      return {
        outcome: 'edited',
        operator: 'mutate',
        message: commitMessage(result.edits, input.seed, hotspots),
        cost: 0,
        transcript: transcriptFile,
      };
    },
  };
}

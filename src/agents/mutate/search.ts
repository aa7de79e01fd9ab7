/**
 * Edits drawn with replacement: the uniform baseline the benchmarks compare against (one edit
 * drawn uniformly from every concrete edit of every file), and the multi-edit fallback the
 * agent uses once a node's one-edit neighbourhood is spent (edits weighted as in the
 * neighbourhood, re-parsed after each). Pure apart from the lazily loaded parser.
 */
import type { MutateLanguage } from './parser.js';
import { createRandom, type Random } from './random.js';
import { neighbourhood, type Candidate, type FileSites, type Suspicion } from './neighbourhood.js';
import { applyMutation, listMutationSites, type MutationOperator } from './sites/index.js';

export interface SourceFile {
  /** Repository-relative path. */
  path: string;
  language: MutateLanguage;
  source: string;
}

export interface EditRecord {
  file: string;
  operator: MutationOperator;
  line: number;
  before: string;
  after: string;
}

export interface SearchOptions {
  seed: number;
  /** Most edits in one child (agents.mutate.maxEdits). */
  maxEdits: number;
  /** How suspicious each line is (default: all alike). */
  suspicion?: Suspicion;
  /** targeted (default): weighted as the neighbourhood, one to maxEdits edits. uniform: one edit, uniformly. */
  strategy?: 'targeted' | 'uniform';
  /** Tries per edit before giving up on it (an edit that does not parse is retried). */
  maxAttempts?: number;
}

export type SearchResult =
  | { ok: true; edits: EditRecord[]; sources: Map<string, string>; attempts: number }
  | { ok: false; reason: string; attempts: number };

/** Chance that a targeted draw stops at one edit (else two, then more with halving odds). */
const ONE_EDIT = 0.75;

function editCount(random: Random, maxEdits: number): number {
  if (maxEdits <= 1 || random.next() < ONE_EDIT) return 1;
  let count = 2;
  while (count < maxEdits && random.next() < 0.5) count++;
  return count;
}

function pickWeighted(random: Random, candidates: readonly Candidate[]): Candidate | null {
  const index = random.weightedIndex(candidates.map((c) => c.weight));
  return index < 0 ? null : (candidates[index] ?? null);
}

function pickUniform(random: Random, candidates: readonly Candidate[]): Candidate | null {
  return candidates.length ? random.pick(candidates) : null;
}

export async function searchEdits(files: readonly SourceFile[], options: SearchOptions): Promise<SearchResult> {
  const random = createRandom(options.seed);
  const uniform = options.strategy === 'uniform';
  const suspicion = options.suspicion ?? (() => 1);
  const maxAttempts = options.maxAttempts ?? 50;
  const wanted = uniform ? 1 : editCount(random, options.maxEdits);
  const sources = new Map(files.map((f) => [f.path, f.source]));
  const edits: EditRecord[] = [];
  let attempts = 0;
  let lastReason = 'no mutation site in the editable files';

  for (let e = 0; e < wanted; e++) {
    const current: FileSites[] = [];
    for (const file of files) {
      const source = sources.get(file.path) ?? file.source;
      current.push({ path: file.path, language: file.language, source, sites: await listMutationSites(source, file.language) });
    }
    // Uniform: every concrete edit alike (all of a site's alternatives, not only the likeliest).
    const candidates = uniform
      ? current.flatMap((file) => file.sites.flatMap((site) => Array.from({ length: site.size }, (_, index) => ({ file, site, index, suspicion: 1, weight: 1 }))))
      : neighbourhood(current, suspicion);
    let applied = false;
    for (let attempt = 0; attempt < maxAttempts && candidates.length > 0; attempt++) {
      attempts++;
      const choice = uniform ? pickUniform(random, candidates) : pickWeighted(random, candidates);
      if (!choice) break;
      const mutation = choice.site.mutation(choice.index);
      const result = await applyMutation(choice.file.source, choice.file.language, mutation);
      if (!result.ok) {
        lastReason = result.reason;
        continue;
      }
      sources.set(choice.file.path, result.source);
      edits.push({ file: choice.file.path, operator: mutation.operator, line: mutation.line, before: mutation.before, after: mutation.after });
      applied = true;
      break;
    }
    if (!applied) break;
  }

  if (edits.length === 0) return { ok: false, reason: `${lastReason} (${attempts} attempts)`, attempts };
  const changed = new Map<string, string>();
  for (const file of files) {
    const source = sources.get(file.path);
    if (source !== undefined && source !== file.source) changed.set(file.path, source);
  }
  // Two edits can cancel out (a < b → <= → <): nothing left to commit.
  if (changed.size === 0) return { ok: false, reason: 'the edits cancelled out', attempts };
  return { ok: true, edits, sources: changed, attempts };
}

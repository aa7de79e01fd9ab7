/**
 * Choosing edits. Given the source files in memory, a seed and where failing tests point,
 * pick one or a few mutations and apply them, re-parsing after each; pure apart from the
 * lazily loaded parser. `uniform` is the untargeted baseline the benchmark compares against.
 */
import type { MutateLanguage } from './parser.js';
import { createRandom, type Random } from './random.js';
import { applyMutation, listMutationSites, type Mutation, type MutationOperator, type MutationSite } from './sites.js';
import { heat, type Hotspot } from './targeting.js';

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
  hotspots?: readonly Hotspot[];
  /**
   * targeted (default): aim at hotspots, favour one edit, weight operators, prefer plausible
   * insertions. uniform: one edit drawn uniformly from every concrete edit of every file.
   */
  strategy?: 'targeted' | 'uniform';
  /** Tries per edit before giving up on it (an edit that does not parse is retried). */
  maxAttempts?: number;
}

export type SearchResult =
  | { ok: true; edits: EditRecord[]; sources: Map<string, string>; attempts: number }
  | { ok: false; reason: string; attempts: number };

/** Relative weight of each operator in a targeted search (operator edits fix more bugs than moves). */
export const OPERATOR_WEIGHT: Record<MutationOperator, number> = {
  'binary-operator': 3,
  constant: 2,
  'negate-condition': 1,
  'return-value': 1.5,
  'statement-delete': 1,
  'statement-copy': 0.5,
  'statement-swap': 0.5,
  'statement-insert': 1.5,
};

/** Chance of aiming at the hot lines when failing logs gave any. */
const HOT_SHARE = 0.85;
/** Chance of drawing from a site's plausible edits when it has some. */
const PLAUSIBLE_SHARE = 0.8;
/** Chance that a child gets exactly one edit. */
const ONE_EDIT = 0.75;

function editCount(random: Random, maxEdits: number): number {
  let count = 1;
  if (random.next() < ONE_EDIT) return 1;
  count = 2;
  while (count < maxEdits && random.next() < 0.5) count++;
  return Math.min(count, Math.max(1, maxEdits));
}

interface FileSites {
  file: SourceFile;
  source: string;
  sites: MutationSite[];
}

interface Candidate {
  file: FileSites;
  site: MutationSite;
  heat: number;
}

function pickTargeted(random: Random, candidates: readonly Candidate[]): { candidate: Candidate; mutation: Mutation } | null {
  const hot = candidates.filter((c) => c.heat > 0);
  const pool = hot.length > 0 && random.next() < HOT_SHARE ? hot : candidates;
  const weights = pool.map((c) => OPERATOR_WEIGHT[c.site.operator] * (pool === hot ? c.heat : 1));
  const index = random.weightedIndex(weights);
  const candidate = pool[index];
  if (!candidate) return null;
  const { site } = candidate;
  const i = site.preferred > 0 && site.preferred < site.size && random.next() < PLAUSIBLE_SHARE ? random.int(site.preferred) : random.int(site.size);
  return { candidate, mutation: site.mutation(i) };
}

function pickUniform(random: Random, candidates: readonly Candidate[]): { candidate: Candidate; mutation: Mutation } | null {
  const total = candidates.reduce((sum, c) => sum + c.site.size, 0);
  if (total === 0) return null;
  let r = random.int(total);
  for (const candidate of candidates) {
    if (r < candidate.site.size) return { candidate, mutation: candidate.site.mutation(r) };
    r -= candidate.site.size;
  }
  return null;
}

export async function searchEdits(files: readonly SourceFile[], options: SearchOptions): Promise<SearchResult> {
  const random = createRandom(options.seed);
  const strategy = options.strategy ?? 'targeted';
  const hotspots = options.hotspots ?? [];
  const maxAttempts = options.maxAttempts ?? 50;
  const wanted = strategy === 'uniform' ? 1 : editCount(random, options.maxEdits);

  const state = new Map<string, FileSites>();
  const sitesOf = async (file: SourceFile, source: string): Promise<FileSites> => {
    const cached = state.get(file.path);
    if (cached && cached.source === source) return cached;
    const entry = { file, source, sites: await listMutationSites(source, file.language) };
    state.set(file.path, entry);
    return entry;
  };
  const sources = new Map(files.map((f) => [f.path, f.source]));
  const edits: EditRecord[] = [];
  let attempts = 0;
  let lastReason = 'no mutation site in the editable files';

  for (let e = 0; e < wanted; e++) {
    const candidates: Candidate[] = [];
    for (const file of files) {
      const entry = await sitesOf(file, sources.get(file.path) ?? file.source);
      for (const site of entry.sites) {
        if (site.size === 0) continue;
        candidates.push({ file: entry, site, heat: heat(hotspots, file.path, site.line, site.endLine) });
      }
    }
    let applied = false;
    for (let attempt = 0; attempt < maxAttempts && candidates.length > 0; attempt++) {
      attempts++;
      const choice = strategy === 'uniform' ? pickUniform(random, candidates) : pickTargeted(random, candidates);
      if (!choice) break;
      const { candidate, mutation } = choice;
      const result = await applyMutation(candidate.file.source, candidate.file.file.language, mutation);
      if (!result.ok) {
        lastReason = result.reason;
        continue;
      }
      sources.set(candidate.file.file.path, result.source);
      edits.push({ file: candidate.file.file.path, operator: mutation.operator, line: mutation.line, before: mutation.before, after: mutation.after });
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

/**
 * The archive's disposable cache file (.git/evogit/archive-<prefix>.json): the state as the
 * last load left it, so the next process starts incremental instead of cold. JSON lines, each
 * a chunk of the state (["nodes", [...]], ["notes", writer, tip, [...]]…), written and read as
 * a stream so no 100 MB string is ever built. Deleting it gives the same snapshot, slower.
 */
import { closeSync, createReadStream, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { ClaimState, NodeRecord, NotesState } from './records.js';
import type { Evaluation } from './types.js';

// 2: evaluation lines are kept without their log tails. 3: no note blob ids (read by path when needed).
// 4: lines screened (screen.ts), with what was ignored; trailer problems on node records.
// 5: node records carry their Evogit-Targets.
const CACHE_VERSION = 5;
const CACHE_CHUNK = 200;

/** What the cache file holds: the refs the state was read from, and what was read. */
export interface CacheContents {
  root: string;
  tips: Map<string, string>;
  /** Every node record, in the canonical order. */
  order: NodeRecord[];
  notes: Map<string, NotesState>;
  claims: Map<string, ClaimState>;
}

type CacheChunk =
  | ['head', number, string, string]
  | ['tips', [string, string][]]
  | ['nodes', NodeRecord[]]
  | ['notes', string, string, [string, Evaluation[]][]]
  | ['claims', [string, ClaimState][]]
  | ['ignored', string, [string, number, string][]]
  | ['end'];

/** The cache file's contents; null when there is none, or it is torn, foreign or of another version or prefix. */
export async function readCacheFile(file: string, prefix: string): Promise<CacheContents | null> {
  let lines: ReturnType<typeof createInterface>;
  let input: ReturnType<typeof createReadStream>;
  try {
    await access(file);
    input = createReadStream(file, 'utf8');
    lines = createInterface({ input, crlfDelay: Infinity });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let root: string | null = null;
  const tips = new Map<string, string>();
  const order: NodeRecord[] = [];
  const notes = new Map<string, NotesState>();
  const claims = new Map<string, ClaimState>();
  let complete = false;
  try {
    for await (const line of lines) {
      const chunk = JSON.parse(line) as CacheChunk;
      switch (chunk[0]) {
        case 'head':
          if (chunk[1] !== CACHE_VERSION || chunk[2] !== prefix) return null;
          root = chunk[3];
          break;
        case 'tips':
          for (const [ref, sha] of chunk[1]) tips.set(ref, sha);
          break;
        case 'nodes':
          for (const r of chunk[1]) order.push(r);
          break;
        case 'notes': {
          const st = notes.get(chunk[1]) ?? { tip: chunk[2], evals: new Map(), ignored: new Map() };
          notes.set(chunk[1], st);
          for (const [o, evals] of chunk[3]) st.evals.set(o, evals);
          break;
        }
        case 'claims':
          for (const [ref, c] of chunk[1]) claims.set(ref, c);
          break;
        case 'ignored': {
          const st = notes.get(chunk[1]);
          if (st) for (const [o, count, reason] of chunk[2]) st.ignored.set(o, { count, reason });
          break;
        }
        case 'end':
          complete = true;
          break;
      }
    }
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    // A torn or foreign cache file is worth nothing; a cold load rebuilds it.
    return null;
  } finally {
    lines.close();
    input.destroy();
  }
  if (!complete || root === null) return null;
  return { root, tips, order, notes, claims };
}

/**
 * Write the cache file, synchronously: nothing can change the state while it is written, so
 * nothing is copied first (a copy of 300k lines' index was the peak of a cold load). Chunk by
 * chunk, each its own line, so no 100 MB string is built; through a temporary file and a
 * rename, so a reader never sees half a file.
 */
export function writeCacheFile(file: string, prefix: string, state: CacheContents): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const put = (chunk: CacheChunk) => writeSync(fd, JSON.stringify(chunk) + '\n');
    put(['head', CACHE_VERSION, prefix, state.root]);
    let batch: [string, string][] = [];
    for (const entry of state.tips) {
      batch.push(entry);
      if (batch.length >= CACHE_CHUNK) {
        put(['tips', batch]);
        batch = [];
      }
    }
    if (batch.length) put(['tips', batch]);
    for (let i = 0; i < state.order.length; i += CACHE_CHUNK) put(['nodes', state.order.slice(i, i + CACHE_CHUNK)]);
    for (const [w, st] of state.notes) {
      let entries: [string, Evaluation[]][] = [];
      if (st.evals.size === 0) put(['notes', w, st.tip, []]);
      for (const entry of st.evals) {
        entries.push(entry);
        if (entries.length >= CACHE_CHUNK) {
          put(['notes', w, st.tip, entries]);
          entries = [];
        }
      }
      if (entries.length) put(['notes', w, st.tip, entries]);
      if (st.ignored.size) put(['ignored', w, [...st.ignored].map(([o, x]) => [o, x.count, x.reason])]);
    }
    put(['claims', [...state.claims]]);
    put(['end']);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, file);
}

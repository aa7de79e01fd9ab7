/**
 * Reading the writers' notes (the evaluations) and the claims, incrementally: a writer new to
 * the state has every note listed (`ls-tree`), a known writer whose tip moved has only the
 * notes that changed (a walk over its old and new notes trees, or `git diff-tree`), and the
 * blobs are read through one `cat-file --batch` and parsed in batches as they arrive.
 */
import { forEachLsTreeBlob, notePathToSha, parseDiffTree, zeroIdLike, type Git, type TreeChange } from '../git/index.js';
import { intern, NOTES_PER_PARSE, PARALLEL_READ_FROM, parseClaim, parseNotes, stripLogMembersBytes } from './notes.js';
import type { ClaimState, NotesState } from './records.js';
import { screenLines } from './screen.js';
import type { Evaluation } from './types.js';

/** The notes of a writer new to the state, as listed by ls-tree (kept as bytes plus offsets). */
interface NewWriterNotes {
  writer: string;
  bytes: Buffer;
  blobs: string[];
  pathStart: Uint32Array;
  pathEnd: Uint32Array;
}

/** Subtrees a notes diff reads through the kept-open cat-file before it asks `git diff-tree` instead. */
const NOTES_DIFF_MAX_TREES = 300;

/**
 * The notes pipeline (ls-tree/diff-tree → cat-file → JSON) and the changed claims. A writer
 * new to the state has only additions: its notes go into the state as they are parsed, so
 * 270k parsed notes are never held twice (a cold load's peak memory); the changed notes of
 * known writers come back (`pendingNotes`, `parsed`) for the caller to apply.
 */
export async function readNotesAndClaims(git: Git, notes: Map<string, NotesState>, knownClaims: Map<string, ClaimState>, notesTips: Map<string, string>, claimRefs: Map<string, string>, changedNodes: Set<string>) {
  const [fresh, pendingNotes] = await Promise.all([listNewWriters(git, notes, notesTips), diffNotes(git, notes, notesTips)]);
  const pendingClaims = [...claimRefs].filter(([ref, sha]) => knownClaims.get(ref)?.sha !== sha).map(([ref]) => ref);
  const claimBlobs = new Set(pendingClaims.map((ref) => claimRefs.get(ref) as string));
  const claimObjects = claimBlobs.size > 0 ? git.catFiles([...claimBlobs]) : Promise.resolve(new Map<string, { content: string }>());
  // Every note blob to read, in order (a blob asked twice is read twice: no 270k-entry set):
  // first the changed notes of known writers (slot = index in pendingNotes), then every note
  // of each new writer (slot = pendingNotes.length + its place in `fresh`, in order).
  const noteBlobs: string[] = [];
  const slot: number[] = [];
  for (const [i, p] of pendingNotes.entries()) {
    if (p.blob === null) continue;
    noteBlobs.push(p.blob);
    slot.push(i);
  }
  const freshFrom: number[] = [];
  let next = pendingNotes.length;
  for (const f of fresh) {
    freshFrom.push(next);
    for (const b of f.blobs) {
      noteBlobs.push(b);
      slot.push(next++);
    }
  }
  /** A new writer's note at this slot goes straight into the state. */
  const freshAt = (i: number) => {
    let w = freshFrom.length - 1;
    while ((freshFrom[w] as number) > i) w--;
    const f = fresh[w] as NewWriterNotes;
    const j = i - (freshFrom[w] as number);
    return { writer: f.writer, obj: intern(notePathToSha(f.bytes.toString('utf8', f.pathStart[j], f.pathEnd[j]))) };
  };
  /** Keep the lines that count (screen.ts), and note what did not. */
  const screen = (writer: string, obj: string, lines: Evaluation[], dropped: number): Evaluation[] => {
    const { kept, ignored } = screenLines(lines, writer, obj, dropped);
    const st = notes.get(writer) as NotesState;
    if (ignored) st.ignored.set(obj, ignored);
    else st.ignored.delete(obj);
    return kept;
  };
  // Note blobs out of ONE cat-file process, parsed as they arrive in batches of
  // NOTES_PER_PARSE: the text of all notes (690 MB with log tails at 300k lines) is never
  // held at once, each blob's log members are cut before decoding (the tails are never decoded), and
  // parsing overlaps git's work (a slow parser holds git back through the pipe).
  const parsed: Evaluation[][] = new Array(pendingNotes.length);
  let blobsRead = 0;
  /** Read and parse these blobs (slots alongside) through one cat-file process. */
  const consume = async (blobs: string[], slots: number[]) => {
    let asked = 0;
    let at: number[] = [];
    let texts: string[] = [];
    const flush = () => {
      const dropped: number[] = [];
      const evals = parseNotes(texts, { dropped });
      for (const [k, i] of at.entries()) {
        if (i >= pendingNotes.length) {
          const { writer, obj } = freshAt(i);
          (notes.get(writer) as NotesState).evals.set(obj, screen(writer, obj, evals[k] as Evaluation[], dropped[k] ?? 0));
          changedNodes.add(obj);
        } else {
          const p = pendingNotes[i] as { writer: string; obj: string };
          parsed[i] = screen(p.writer, intern(p.obj), evals[k] as Evaluation[], dropped[k] ?? 0);
        }
      }
      at = [];
      texts = [];
    };
    for await (const objects of git.catFileStream(blobs)) {
      for (const o of objects) {
        // Objects come in the order asked, missing ones left out.
        while (asked < blobs.length && blobs[asked] !== o.name) asked++;
        at.push(slots[asked++] as number);
        texts.push(stripLogMembersBytes(o.content));
        if (texts.length >= NOTES_PER_PARSE) flush();
      }
      blobsRead += objects.length;
    }
    if (texts.length > 0) flush();
  };
  // Many notes (a cold load): two cat-file processes, so git's reading (most of the work,
  // inflating every note) can use a second core while this process parses.
  if (noteBlobs.length >= PARALLEL_READ_FROM) {
    const half = noteBlobs.length >> 1;
    await Promise.all([consume(noteBlobs.slice(0, half), slot.slice(0, half)), consume(noteBlobs.slice(half), slot.slice(half))]);
  } else await consume(noteBlobs, slot);
  for (let i = 0; i < parsed.length; i++) if (parsed[i] === undefined) parsed[i] = [];
  const objects = await claimObjects;
  blobsRead += objects.size;
  const claims = pendingClaims.map((ref) => {
    const sha = claimRefs.get(ref) as string;
    return [ref, { sha, claim: parseClaim(objects.get(sha)?.content ?? '') }] as const;
  });
  return { pendingNotes, parsed, claims, blobsRead };
}

/** Put the changed notes of known writers in place, and drop the writers whose notes ref is gone. */
export function applyNotes(notes: Map<string, NotesState>, pendingNotes: { writer: string; obj: string; blob: string | null }[], parsed: Evaluation[][], notesTips: Map<string, string>, changedNodes: Set<string>): void {
  for (const [i, { writer, obj: path, blob }] of pendingNotes.entries()) {
    const lines = parsed[i];
    const obj = intern(path);
    const st = notes.get(writer) as NotesState;
    if (blob === null) {
      st.evals.delete(obj);
      st.ignored.delete(obj);
    } else st.evals.set(obj, lines as Evaluation[]);
    changedNodes.add(obj);
  }
  for (const [writer, tip] of notesTips) (notes.get(writer) as NotesState).tip = tip;
  for (const writer of [...notes.keys()]) {
    if (!notesTips.has(writer)) {
      for (const obj of (notes.get(writer) as NotesState).evals.keys()) changedNodes.add(obj);
      notes.delete(writer);
    }
  }
}

/**
 * Every note of each writer new to the state (one ls-tree each, all at once): compact, as a
 * cold load has 270k of them — the blob ids, and where each note's path sits in git's output.
 */
export async function listNewWriters(git: Git, notes: Map<string, NotesState>, notesTips: Map<string, string>): Promise<NewWriterNotes[]> {
  const fresh = [...notesTips].filter(([writer]) => !notes.has(writer));
  const outputs = await Promise.all(fresh.map(([, tip]) => git.outBytes(['ls-tree', '-r', '-z', '--full-tree', tip])));
  return fresh.map(([writer], i) => {
    notes.set(writer, { tip: '', evals: new Map(), ignored: new Map() });
    const bytes = outputs[i] as Buffer;
    const blobs: string[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    forEachLsTreeBlob(bytes, (sha, start, end) => {
      blobs.push(sha);
      starts.push(start);
      ends.push(end);
    });
    return { writer, bytes, blobs, pathStart: Uint32Array.from(starts), pathEnd: Uint32Array.from(ends) };
  });
}

/**
 * Which note blobs changed per writer already in the state whose tip moved: a walk over the
 * old and new notes trees through the kept-open cat-file, into differing subtrees only (an
 * appended note changes 2–3 trees), or `git diff-tree` when git is not kept open or too many
 * subtrees differ (a fan-out change rewrites them all).
 */
export async function diffNotes(git: Git, notes: Map<string, NotesState>, notesTips: Map<string, string>): Promise<{ writer: string; obj: string; blob: string | null }[]> {
  const pending: { writer: string; obj: string; blob: string | null }[] = [];
  const changed = [...notesTips].filter(([writer, tip]) => notes.has(writer) && notes.get(writer)?.tip !== tip);
  // One walk (or git process) per changed writer, all at once.
  const outputs = await Promise.all(
    changed.map(async ([writer, tip]): Promise<string | TreeChange[]> => {
      const st = notes.get(writer) as NotesState;
      const walked = await git.diffTrees(`${st.tip}^{tree}`, `${tip}^{tree}`, { maxTrees: NOTES_DIFF_MAX_TREES });
      if (walked) return walked.map((c) => ({ status: c.status, sha: c.sha ?? zeroIdLike(tip), path: c.path }));
      return git.out(['diff-tree', '-r', '-z', '--no-renames', st.tip, tip]);
    }),
  );
  for (const [i, [writer]] of changed.entries()) {
    const out = outputs[i] as string | TreeChange[];
    const changes = typeof out === 'string' ? parseDiffTree(out) : out;
    // Deletions first: a fan-out change moves a note to a new path in the same diff.
    for (const c of changes) if (c.status === 'D') pending.push({ writer, obj: notePathToSha(c.path), blob: null });
    for (const c of changes) {
      if (c.status === 'D') continue;
      pending.push({ writer, obj: notePathToSha(c.path), blob: c.sha });
    }
  }
  return pending;
}

/**
 * Where the notes on the object are, as of the state's notes tips: per writer that has a note
 * on it (writers in sorted order, as in the snapshot), the `<tip>:<path>` names it may have
 * under git's fan-out (`obj`, `xx/rest`, `xx/yy/rest`); the first that exists is the note.
 */
export function noteNamesIn(notes: Map<string, NotesState>, obj: string): { writer: string; names: string[] }[] {
  const out: { writer: string; names: string[] }[] = [];
  for (const w of [...notes.keys()].sort()) {
    const st = notes.get(w) as NotesState;
    if (!st.evals.has(obj)) continue;
    out.push({ writer: w, names: [`${st.tip}:${obj}`, `${st.tip}:${obj.slice(0, 2)}/${obj.slice(2)}`, `${st.tip}:${obj.slice(0, 2)}/${obj.slice(2, 4)}/${obj.slice(4)}`] });
  }
  return out;
}

/**
 * The note blobs on many objects at once, per object in noteNamesOf's writer order: one
 * ls-tree per writer that has notes on any of them, instead of a path look-up per name.
 */
export async function noteBlobsIn(git: Git, notes: Map<string, NotesState>, objs: string[]): Promise<Map<string, { writer: string; blob: string }[]>> {
  const wanted = new Set(objs);
  const writers = [...notes.keys()].sort().filter((w) => objs.some((o) => (notes.get(w) as NotesState).evals.has(o)));
  const listed = await Promise.all(writers.map((w) => git.outBytes(['ls-tree', '-r', '-z', '--full-tree', (notes.get(w) as NotesState).tip])));
  const out = new Map<string, { writer: string; blob: string }[]>(objs.map((o) => [o, []]));
  for (const [i, bytes] of listed.entries()) {
    forEachLsTreeBlob(bytes, (sha, start, end) => {
      const obj = notePathToSha(bytes.toString('utf8', start, end));
      if (wanted.has(obj)) out.get(obj)!.push({ writer: writers[i] as string, blob: sha });
    });
  }
  return out;
}

/**
 * What counts on this machine of what the refs hold: promotion tags (made here, or by a writer
 * trust.promoters lists), pass lines a re-run here did not confirm (.git/evogit/disputed),
 * and with trust: signed, whose nodes and notes carry a listed key's signature. Also the list
 * of everything read and not counted, for status, best and the report.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Git } from '../git/index.js';
import { unlessMissing } from '../errors/index.js';
import type { NotesState } from './records.js';
import type { RefLayout } from './refs.js';
import type { Ignored } from './screen.js';
import { SignatureCheck, type SignedTrust } from './signatures.js';
import type { ArchiveNode, Evaluation } from './types.js';

/** Under .git/evogit/: the promotion tags `evogit promote` made on this machine, one ref a line. */
export const PROMOTED_HERE = 'promoted';
/** Under .git/evogit/: pass lines of other writers a re-run here contradicted, one JSON object a line. */
export const DISPUTED = 'disputed';
/** Under .git/evogit/: refs the last fetch of each remote did not take ({remote, ref} JSON lines). */
export const FETCH_IGNORED = 'fetch-ignored';

/** The config's trust: whose promotion tags count beyond this machine's own ('*': anyone), and trust: signed. */
export interface TrustOptions extends SignedTrust {
  promoters?: string[];
}

export class TrustState {
  /** trust: signed — which nodes and notes refs of other writers carry a listed writer's signature. */
  readonly signatures: SignatureCheck;
  /** Promotion tags that do not count (not made here, not by a trusted promoter): ref → sha. */
  private ignoredPromotions = new Map<string, string>();
  /** Pass lines a re-run on this machine contradicted ("writer\0node\0task" → reason), from .git/evogit/disputed. */
  private disputes = new Map<string, string>();
  private disputesText = '';

  constructor(
    git: Git,
    private readonly layout: RefLayout,
    private readonly commonDir: string,
    private readonly trust: TrustOptions = {},
  ) {
    this.signatures = new SignatureCheck(git, join(commonDir, 'evogit'), trust);
  }

  /**
   * The promoted commits: tags this machine made (`evogit promote` records them in
   * .git/evogit/promoted), and tags `<prefix>-promoted/<writer>/<sha12>` of the writers
   * trust.promoters lists ('*': anyone). Any other tag, pushed by whoever, does not count.
   */
  countedPromotions(refs: Map<string, string>): Set<string> {
    const mine = new Set(readLines(join(this.commonDir, 'evogit', PROMOTED_HERE)));
    const promoters = new Set(this.trust.promoters ?? []);
    const counted = new Set<string>();
    this.ignoredPromotions = new Map();
    for (const [ref, sha] of refs) {
      const name = ref.slice(this.layout.promotedDir.length);
      const writer = name.includes('/') ? name.slice(0, name.indexOf('/')) : null;
      if (mine.has(ref) || (writer !== null && (promoters.has('*') || promoters.has(writer)))) counted.add(sha);
      else this.ignoredPromotions.set(ref, sha);
    }
    return counted;
  }

  /** What the archive read and did not count (screen.ts), for status, best and the report. */
  ignoredList(nodes: ArchiveNode[], notes: Map<string, NotesState>, oddRefs: Map<string, string>): Ignored[] {
    const out: Ignored[] = [];
    for (const w of [...notes.keys()].sort()) {
      for (const [node, x] of (notes.get(w) as NotesState).ignored) out.push({ writer: w, node, count: x.count, reason: `note line${x.count === 1 ? '' : 's'} not counted: ${x.reason}` });
    }
    for (const node of nodes) if (node.untrusted) out.push({ writer: node.writer, node: node.id, count: 1, reason: `node not counted: ${node.untrusted}` });
    for (const [ref, sha] of this.ignoredPromotions) {
      const name = ref.slice(this.layout.promotedDir.length);
      out.push({ writer: name.includes('/') ? name.slice(0, name.indexOf('/')) : '', node: sha, ref, count: 1, reason: 'promotion tag not counted: not made on this machine, nor by a writer trust.promoters lists' });
    }
    for (const w of [...notes.keys()].sort()) {
      const problem = this.signatures.notesProblem(w);
      if (problem) out.push({ writer: w, count: [...(notes.get(w) as NotesState).evals.values()].reduce((n, e) => n + e.length, 0), reason: `notes not counted: ${problem}` });
    }
    for (const [key, reason] of this.disputes) {
      const [writer, node, task] = key.split('\0') as [string, string, string];
      out.push({ writer, node, count: 1, reason: `pass line on task ${task} disputed: ${reason}` });
    }
    for (const line of readLines(join(this.commonDir, 'evogit', FETCH_IGNORED))) {
      try {
        const { remote, ref } = JSON.parse(line) as { remote: string; ref: string };
        out.push({ writer: this.layout.writerOf(ref) ?? '', ref, count: 1, reason: `not taken from ${remote}: not a name of the archive layout (it would block a writer's own branch)` });
      } catch {
        continue; // a torn line: the next fetch rewrites the file
      }
    }
    for (const [ref, sha] of oddRefs) out.push({ writer: this.layout.writerOf(ref) ?? '', node: sha, ref, count: 1, reason: 'ref not read: not a name of the archive layout' });
    return out;
  }

  /**
   * Read the disputes file (verify-before-acting's record) again: null when it did not change,
   * else the nodes whose counted evaluations may have changed.
   */
  readDisputes(): string[] | null {
    let text = '';
    try {
      text = readFileSync(join(this.commonDir, 'evogit', DISPUTED), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text === this.disputesText) return null;
    const next = new Map<string, string>();
    for (const line of text.split('\n')) {
      try {
        const d = JSON.parse(line) as { writer?: unknown; node?: unknown; task?: unknown; reason?: unknown };
        if (typeof d.writer === 'string' && typeof d.node === 'string' && typeof d.task === 'string') next.set(`${d.writer}\0${d.node}\0${d.task}`, typeof d.reason === 'string' ? d.reason : 'a re-run here disagreed');
      } catch {
        // A torn last line (written while read): it is complete at the next read.
        continue;
      }
    }
    const touched = [...new Set([...this.disputes.keys(), ...next.keys()])].map((key) => key.split('\0')[1] as string);
    this.disputes = next;
    this.disputesText = text;
    return touched;
  }

  /** A node's evaluation lines as the snapshot counts them: the pass lines a re-run here disputed, and unsigned writers' lines (trust: signed), are left out. */
  countedEvals(all: Evaluation[] | undefined): Evaluation[] | undefined {
    if (!all || (this.disputes.size === 0 && !this.signatures.enabled)) return all;
    const kept = all.filter((e) => (e.outcome !== 'pass' || !this.disputes.has(`${e.writer}\0${e.node}\0${e.task}`)) && this.signatures.notesProblem(e.writer) === null);
    return kept.length === all.length ? all : kept.length ? kept : undefined;
  }
}

/** A state file's non-empty lines; none when it does not exist. */
function readLines(file: string): string[] {
  return (unlessMissing(() => readFileSync(file, 'utf8')) ?? '').split('\n').filter(Boolean);
}

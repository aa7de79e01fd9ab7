/**
 * Writing evaluations: each writer's notes ref (refs/notes/evogit/<writer>) gets one notes
 * commit per append, with every node's note extended by its new JSON lines. With git kept
 * open the objects go through the long-lived hash-object and the tree is laid out as git notes
 * does (fan-out included); otherwise through one `git fast-import`. The ref moves by
 * compare-and-swap, with the claim's release in the same transaction.
 */
import { randomBytes } from 'node:crypto';
import { InfraError, EvogitError } from '../errors/index.js';
import { commitText, formatTree, FULL_ID, parseTree, TREE_MODE, zeroIdLike, type Git, type TreeObjectEntry } from '../git/index.js';
import { signedCommit } from './git-calls.js';
import type { RefLayout } from './refs.js';
import type { Evaluation } from './types.js';

export class NotesWriter {
  /** What this process last wrote to each notes ref, so the next append reads nothing back (see append). */
  private readonly notesWritten = new Map<string, { tip: string; tree: string }>();
  /** Notes trees and note texts this process wrote or read, by object id (immutable, so never stale). */
  private readonly notesObjects = new Map<string, TreeObjectEntry[] | string>();

  constructor(
    private readonly git: Git,
    private readonly layout: RefLayout,
    /** trust: signed — notes commits are signed by git. */
    private readonly signing: boolean,
  ) {}

  /** Append evaluation lines to each node's note in the writer's notes ref, in one notes commit (Archive.appendEvaluations checked the names). */
  async append(writer: string, evals: Evaluation[], opts: { releaseClaim?: string } = {}): Promise<void> {
    const byNode = new Map<string, Evaluation[]>();
    for (const e of evals) {
      if (!FULL_ID.test(e.node)) throw new EvogitError('E_BAD_EVALUATION', `evaluation names "${e.node}", not a full commit SHA`, 'Evaluations refer to nodes by their full SHA.');
      const list = byNode.get(e.node) ?? [];
      list.push(e);
      byNode.set(e.node, list);
    }
    const notesRef = this.layout.notesRef(writer);
    for (let attempt = 0; ; attempt++) {
      // First from what this process wrote last (the ref's compare-and-swap below catches a tip
      // that moved since: a remote merge, another process of this writer); read on a retry.
      const { tip, tree, existing } = (attempt === 0 && this.notesFromMemory(notesRef, [...byNode.keys()])) || (await this.readNotesAt(notesRef, [...byNode.keys()]));
      const texts = new Map<string, string>();
      for (const [node, list] of byNode) {
        let text = existing.get(node) ?? '';
        if (text && !text.endsWith('\n')) text += '\n';
        texts.set(node, text + list.map((e) => JSON.stringify(e)).join('\n') + '\n');
      }
      const msg = `evogit: ${evals.length} evaluation${evals.length === 1 ? '' : 's'} by ${writer}\n`;
      if (this.git.keptOpen) {
        // Objects through the long-lived hash-object, then the notes ref (compare-and-swap on the
        // tip read above) and the claim's release in one transaction: no process at all.
        const written = await this.writeNotesCommit(tip, tree, texts, msg);
        const r = await this.git.updateRefs([[`update ${notesRef}`, written.commit, tip ?? zeroIdLike(written.commit)], ...(opts.releaseClaim !== undefined ? [[`delete ${opts.releaseClaim}`, '']] : [])], { message: 'evogit: evaluations' });
        this.notesWritten.delete(notesRef);
        if (r.ok) return void this.notesWritten.set(notesRef, { tip: written.commit, tree: written.tree });
        if (attempt >= 20) throw new InfraError('E_REF_BUSY', `could not update ${notesRef}: ${r.stderr.trim()}`, 'Another process of the same writer keeps updating its notes; give each agent its own writer name.');
        continue;
      }
      const tmpRef = `refs/evogit/tmp/notes-${writer}-${process.pid}-${randomBytes(4).toString('hex')}`;
      const now = Math.floor(Date.now() / 1000);
      let stream = `commit ${tmpRef}\nmark :1\ncommitter evogit <evogit@localhost> ${now} +0000\n${data(msg)}`;
      if (tip) stream += `from ${tip}\n`;
      for (const [node, text] of texts) stream += `N inline ${node}\n${data(text)}`;
      // get-mark prints the new commit's SHA: no rev-parse of the temporary ref.
      stream += 'get-mark :1\ndone\n';
      let tmpLeft = true;
      try {
        const imported = (await this.git.out(['fast-import', '--quiet', '--done'], { input: stream })).trim();
        // trust: signed — the same notes commit, signed by git (fast-import cannot sign).
        const commit = this.signing ? await signedCommit(this.git, (await this.git.out(['rev-parse', `${imported}^{tree}`])).trim(), tip ? [tip] : [], msg, { name: 'evogit', email: 'evogit@localhost' }) : imported;
        // The notes ref (compare-and-swap on the tip read above), the temporary ref's removal and
        // the claim's release in one transaction.
        const r = await this.git.updateRefs(
          [
            [`update ${notesRef}`, commit, tip ?? zeroIdLike(commit)],
            [`delete ${tmpRef}`, imported],
            ...(opts.releaseClaim !== undefined ? [[`delete ${opts.releaseClaim}`, '']] : []),
          ],
          { message: 'evogit: evaluations' },
        );
        if (r.ok) {
          tmpLeft = false;
          return;
        }
        if (attempt >= 20) throw new InfraError('E_REF_BUSY', `could not update ${notesRef}: ${r.stderr.trim()}`, 'Another process of the same writer keeps updating its notes; give each agent its own writer name.');
      } finally {
        if (tmpLeft) await this.git.run(['update-ref', '-d', tmpRef], { reject: false });
      }
    }
  }

  /** The notes ref's tip and the nodes' notes at it, with one `cat-file --batch` (tip null when the ref does not exist). */
  private async readNotesAt(notesRef: string, nodes: string[]): Promise<{ tip: string | null; tree: string | null; existing: Map<string, string> }> {
    // The note for X sits at X, xx/rest or xx/yy/rest depending on git's fan-out; the ref's
    // name comes first and answers with the tip commit.
    const names: string[] = [notesRef];
    for (const n of nodes) names.push(`${notesRef}:${n}`, `${notesRef}:${n.slice(0, 2)}/${n.slice(2)}`, `${notesRef}:${n.slice(0, 2)}/${n.slice(2, 4)}/${n.slice(4)}`);
    const found = await this.git.catFiles(names);
    const head = found.get(notesRef);
    const tip = head && head.type === 'commit' ? head.sha : null;
    const existing = new Map<string, string>();
    const tree = tip === null ? null : (/^tree ([0-9a-f]+)$/m.exec(head?.content ?? '')?.[1] ?? null);
    if (tip === null) return { tip, tree, existing };
    for (const [i, n] of nodes.entries()) {
      for (let k = 0; k < 3; k++) {
        const o = found.get(names[1 + i * 3 + k] as string);
        if (o) {
          existing.set(n, o.content);
          break;
        }
      }
    }
    return { tip, tree, existing };
  }

  /**
   * The notes commit that sets each node's note to its text, on top of `tip` (tree `tree`),
   * written object by object as git notes lays them out: a note replaces the old one where it
   * is (X, xx/rest or xx/yy/rest), a new one goes one level down wherever a level is fanned out
   * (has xx/ directories), and a level holding 256 notes or more is fanned out (as fast-import does).
   */
  private async writeNotesCommit(tip: string | null, tree: string | null, texts: Map<string, string>, message: string): Promise<{ commit: string; tree: string }> {
    // Bounded: a long run writes a tree or two and a note per evaluation.
    if (this.notesObjects.size > 4096) this.notesObjects.clear();
    const notes: [string, string][] = [];
    for (const [node, text] of texts) {
      const blob = await this.git.writeObject('blob', text);
      this.notesObjects.set(blob, text);
      notes.push([node, blob]);
    }
    const readTree = async (sha: string): Promise<TreeObjectEntry[]> => {
      const known = this.notesObjects.get(sha);
      if (Array.isArray(known)) return known;
      const o = (await this.git.catFileBytes([sha])).get(sha);
      if (!o || o.type !== 'tree') throw new InfraError('E_GIT_OUTPUT', `notes tree ${sha} is missing`, 'Check the repository with `git fsck`.');
      const entries = parseTree(o.content, sha.length / 2);
      this.notesObjects.set(sha, entries);
      return entries;
    };
    const update = async (sha: string | null, items: [string, string][]): Promise<string> => {
      const byName = new Map((sha ? await readTree(sha) : []).map((e) => [e.name, e]));
      // A level with fan-out directories is fanned out: a new note goes into (a new) xx/.
      const fannedOut = [...byName.values()].some((e) => e.mode === TREE_MODE && /^[0-9a-f]{2}$/.test(e.name));
      const deeper = new Map<string, [string, string][]>();
      for (const [rest, blob] of items) {
        const d = rest.slice(0, 2);
        const dir = byName.get(d);
        if (!byName.has(rest) && (dir?.mode === TREE_MODE || (fannedOut && !dir))) deeper.set(d, [...(deeper.get(d) ?? []), [rest.slice(2), blob]]);
        else byName.set(rest, { mode: '100644', name: rest, sha: blob });
      }
      const flat = [...byName.values()].filter((e) => e.mode !== TREE_MODE && /^[0-9a-f]{3,}$/.test(e.name));
      if (flat.length >= 256) {
        for (const e of flat) {
          byName.delete(e.name);
          const d = e.name.slice(0, 2);
          deeper.set(d, [...(deeper.get(d) ?? []), [e.name.slice(2), e.sha]]);
        }
      }
      for (const [d, list] of deeper) {
        const old = byName.get(d);
        byName.set(d, { mode: TREE_MODE, name: d, sha: await update(old?.mode === TREE_MODE ? old.sha : null, list) });
      }
      const entries = [...byName.values()];
      const written = await this.git.writeObject('tree', formatTree(entries));
      this.notesObjects.set(written, entries);
      return written;
    };
    const root = await update(tree, notes);
    const time = Math.floor(Date.now() / 1000);
    const commit = this.signing
      ? await signedCommit(this.git, root, tip ? [tip] : [], message, { name: 'evogit', email: 'evogit@localhost' })
      : await this.git.writeObject('commit', commitText({ tree: root, parents: tip ? [tip] : [], message, time, identity: { name: 'evogit', email: 'evogit@localhost' } }));
    return { commit, tree: root };
  }

  /**
   * readNotesAt's answer from what this process wrote last to the notes ref, or null when any
   * part of it is not in memory (then it is read).
   */
  private notesFromMemory(notesRef: string, nodes: string[]): { tip: string; tree: string; existing: Map<string, string> } | null {
    const last = this.notesWritten.get(notesRef);
    if (!last) return null;
    const existing = new Map<string, string>();
    for (const node of nodes) {
      // The note for X sits at X, xx/rest or xx/yy/rest (readNotesAt).
      let at: string = last.tree;
      let rest = node;
      let text: string | null = null;
      for (let depth = 0; depth <= 2; depth++) {
        const entries = this.notesObjects.get(at);
        if (!Array.isArray(entries)) return null;
        const note = entries.find((e) => e.name === rest && e.mode !== TREE_MODE);
        if (note) {
          const known = this.notesObjects.get(note.sha);
          if (typeof known !== 'string') return null;
          text = known;
          break;
        }
        const dir = entries.find((e) => e.name === rest.slice(0, 2) && e.mode === TREE_MODE);
        if (!dir || depth === 2) break;
        at = dir.sha;
        rest = rest.slice(2);
      }
      if (text !== null) existing.set(node, text);
    }
    return { tip: last.tip, tree: last.tree, existing };
  }
}

function data(text: string): string {
  return `data ${Buffer.byteLength(text)}\n${text}\n`;
}

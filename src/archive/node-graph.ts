/**
 * The archive's nodes: the commits under the node branches' tips, down to the root, kept in
 * step with the tips incrementally. A refresh applies the tips that moved, drops exactly the
 * commits that became unreachable (`git rev-list GONE --not CURRENT`), and walks only the new
 * commits: their objects through the kept-open cat-file when the walk closes within a few
 * rounds (an agent commits on top of a known node), else `git log NEW --not KNOWN`, streamed.
 * It knows nothing of notes, claims or promotions (load.ts adds those).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_FORMAT, parseCommitObject, parseLog, type Git, type RawCommit } from '../git/index.js';
import { commitParents } from './ref-delta.js';
import { byDepthThenId, mergeSorted, recordFromCommit, type NodeRecord } from './records.js';

export interface LoadStats {
  cold: boolean;
  newCommits: number;
  removedCommits: number;
  noteBlobsRead: number;
}

export class NodeGraph {
  root: string | null = null;
  tips = new Map<string, string>();
  nodes = new Map<string, NodeRecord>();
  order: NodeRecord[] = [];
  /** Branch refs per commit, kept in step with tips. */
  protected refsBySha = new Map<string, string[]>();
  /** Commits without evogit trailers (made by hand, or merged in): few, so they are looked at whole. */
  protected untracked = new Set<string>();
  /** Since the last snapshot: nodes whose marks may have changed, nodes that came or went, and whether the order changed. */
  protected dirtyIds = new Set<string>();
  protected addedIds: string[] = [];
  protected removedIds: string[] = [];
  protected orderChanged = false;
  /** Whether git's config and refs let raw commits be parsed without git log (asked once). */
  private plainGitConfig: Promise<boolean> | null = null;

  constructor(
    protected readonly git: Git,
    protected readonly commonDir: string,
  ) {}

  protected resetNodes(): void {
    this.refsBySha = new Map();
    this.untracked = new Set();
    this.addedIds = [];
    this.removedIds = [];
    this.orderChanged = true;
    this.root = null;
    this.tips = new Map();
    this.nodes = new Map();
    this.order = [];
  }

  /**
   * The writer of each commit made by hand that has no branch of its own: the writer of the
   * branch on whose first-parent line it lies, below a tip also made by hand (a person's two
   * commits on evo/alice/try-this are both alice's). Branches in name order, the first to reach
   * a commit names it; a commit reached only through a merge's other parents has no writer.
   */
  protected handWriters(writerOf: (ref: string) => string | null): Map<string, string> {
    const out = new Map<string, string>();
    if (this.untracked.size === 0) return out;
    const tips = [...this.untracked].flatMap((id) => (this.refsBySha.get(id) ?? []).map((ref): [string, string] => [ref, id]));
    tips.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [ref, id] of tips) {
      const writer = writerOf(ref);
      if (writer === null) continue;
      for (let next = this.nodes.get(id)?.parents[0]; next !== undefined && this.untracked.has(next) && !this.refsBySha.has(next) && !out.has(next); next = this.nodes.get(next)?.parents[0]) {
        out.set(next, writer);
      }
    }
    return out;
  }

  protected async refreshNodes(root: string, tipsOrChanges: Map<string, string> | [string, string | null, string | null][], stats: LoadStats): Promise<void> {
    const isCold = this.root === null;
    const prevTipShas = () => new Set([...this.tips.values(), ...removed]);
    const { removed, added } = Array.isArray(tipsOrChanges) ? this.retipChanges(tipsOrChanges) : this.retip(tipsOrChanges);
    const tips = this.tips;
    // Commits that lost their last branch may have become unreachable: drop exactly those.
    const gone = [...new Set(removed)].filter((sha) => !this.refsBySha.has(sha) && this.nodes.has(sha));
    const current = () => new Set(tips.values());
    if (!isCold && gone.length > 0) {
      const r = await this.git.run(['rev-list', '--stdin'], {
        input: [...gone, ...[...current()].map((s) => `^${s}`), `^${root}`].join('\n') + '\n',
        reject: false,
      });
      if (r.exitCode !== 0) {
        // A gone tip was garbage-collected: the cheap answer is unknowable, start over.
        const all = new Map(this.tips);
        this.resetNodes();
        return this.refreshNodes(root, all, stats);
      }
      const unreachable = new Set(r.stdout.split('\n').filter(Boolean));
      if (unreachable.size > 0) {
        // One at a time: spreading 100k+ ids into push() exceeds the engine's argument limit.
        for (const id of unreachable) {
          this.nodes.delete(id);
          this.untracked.delete(id);
          this.removedIds.push(id);
        }
        this.order = this.order.filter((n) => !unreachable.has(n.id));
        stats.removedCommits = unreachable.size;
        this.orderChanged = true;
      }
    }
    const fresh = [...new Set(added)].filter((sha) => !this.nodes.has(sha));
    if (isCold) fresh.push(root);
    if (fresh.length > 0) {
      const walked = isCold ? null : await this.walkNewCommits(fresh);
      const batches = walked ? [walked] : this.logNewCommits(fresh, prevTipShas(), current(), root, isCold);
      const added: NodeRecord[] = [];
      for await (const commits of batches) {
        for (const c of commits) {
          if (this.nodes.has(c.id)) continue;
          const rec = recordFromCommit(c, c.id === root);
          this.nodes.set(c.id, rec);
          if (!rec.tracked) this.untracked.add(rec.id);
          added.push(rec);
        }
      }
      this.assignDepths(added, root);
      added.sort(byDepthThenId);
      this.order = mergeSorted(this.order, added);
      stats.newCommits = added.length;
      for (const r of added) this.addedIds.push(r.id);
      this.orderChanged = true;
    }
    this.root = root;
  }

  /** Apply ref changes [ref, old, new] to the tips in place: O(changes), not O(branches). */
  protected retipChanges(changes: [string, string | null, string | null][]): { removed: string[]; added: string[] } {
    const removed: string[] = [];
    const added: string[] = [];
    for (const [ref, oldSha] of changes) {
      if (oldSha === null) continue;
      const list = this.refsBySha.get(oldSha)?.filter((r) => r !== ref) ?? [];
      if (list.length > 0) this.refsBySha.set(oldSha, list);
      else this.refsBySha.delete(oldSha);
      this.tips.delete(ref);
      this.dirtyIds.add(oldSha);
      removed.push(oldSha);
    }
    for (const [ref, , newSha] of changes) {
      if (newSha === null) continue;
      const list = this.refsBySha.get(newSha);
      if (list) list.push(ref);
      else this.refsBySha.set(newSha, [ref]);
      this.tips.set(ref, newSha);
      this.dirtyIds.add(newSha);
      added.push(newSha);
    }
    return { removed, added };
  }

  /** Replace the tips, marking the commits whose branches changed; returns the SHAs that lost or gained a branch. */
  protected retip(tips: Map<string, string>): { removed: string[]; added: string[] } {
    const removed: string[] = [];
    const added: string[] = [];
    for (const [ref, sha] of this.tips) {
      if (tips.get(ref) === sha) continue;
      const list = this.refsBySha.get(sha)?.filter((r) => r !== ref) ?? [];
      if (list.length > 0) this.refsBySha.set(sha, list);
      else this.refsBySha.delete(sha);
      this.dirtyIds.add(sha);
      removed.push(sha);
    }
    for (const [ref, sha] of tips) {
      if (this.tips.get(ref) === sha) continue;
      const list = this.refsBySha.get(sha);
      if (list) list.push(ref);
      else this.refsBySha.set(sha, [ref]);
      this.dirtyIds.add(sha);
      added.push(sha);
    }
    this.tips = tips;
    return { removed, added };
  }

  /**
   * The commits that are new since the last refresh, found by reading the new tips' parents
   * with cat-file (usually one round: an agent commits on top of a known node). Each is parsed
   * out of its raw object when it has the plain shape parseCommitObject reproduces git's rules
   * for (the rest are formatted by `git log --no-walk`). Null when the walk does not close
   * within a few rounds or reaches a parentless commit (history below the root): then git walks
   * it instead.
   */
  private async walkNewCommits(fresh: string[]): Promise<RawCommit[] | null> {
    const found = new Set<string>();
    const parseable = await this.commitsParseable();
    const commits: RawCommit[] = [];
    const unparsed: string[] = [];
    let frontier = fresh;
    for (let round = 0; round < 4 && frontier.length > 0; round++) {
      const objects = await this.git.catFileBytes(frontier);
      const next = new Set<string>();
      for (const sha of frontier) {
        const o = objects.get(sha);
        if (!o || o.type !== 'commit') return null;
        found.add(sha);
        const parsed = parseable ? parseCommitObject(sha, o.content) : null;
        const parents = parsed ? parsed.parents : commitParents(o.content.toString('latin1'));
        if (parents.length === 0) return null;
        if (parsed) commits.push(parsed);
        else unparsed.push(sha);
        for (const p of parents) if (!this.nodes.has(p) && !found.has(p)) next.add(p);
      }
      frontier = [...next];
    }
    if (frontier.length > 0) return null;
    if (unparsed.length > 0) {
      const logged = parseLog(await this.git.out(['-c', 'log.showSignature=false', 'log', '--no-walk=unsorted', '--stdin', `--format=${LOG_FORMAT}`], { input: unparsed.join('\n') + '\n' }));
      for (const c of logged) commits.push(c);
    }
    return commits;
  }

  /**
   * Whether raw commit objects read the same as `git log` shows them here: git is kept open (a
   * spawn saved per refresh), no config changes how git finds subjects and trailers or
   * re-encodes them, no replace refs, and no shallow or grafted history (git log would hide
   * parents the objects name). The config and refs are asked once; the files every time.
   */
  private async commitsParseable(): Promise<boolean> {
    if (!this.git.keptOpen) return false;
    this.plainGitConfig ??= Promise.all([
      this.git.run(['config', '--get-regexp', '^(core\\.comment|trailer\\.|i18n\\.logoutputencoding)'], { reject: false }),
      this.git.run(['for-each-ref', '--count=1', '--format=%(refname)', 'refs/replace/'], { reject: false }),
    ]).then(([config, replace]) => config.stdout.trim() === '' && replace.exitCode === 0 && replace.stdout.trim() === '');
    if (!(await this.plainGitConfig)) return false;
    return !existsSync(join(this.commonDir, 'shallow')) && !existsSync(join(this.commonDir, 'info', 'grafts'));
  }

  /** The general case: let git walk from the new tips down to anything already known. */
  private logNewCommits(fresh: string[], old: Set<string>, current: Set<string>, root: string, isCold: boolean): AsyncGenerator<RawCommit[]> {
    const negatives = new Set<string>();
    for (const s of old) if (this.nodes.has(s)) negatives.add(s);
    for (const s of current) if (this.nodes.has(s)) negatives.add(s);
    const input = [...fresh, ...[...negatives].map((s) => `^${s}`), isCold ? `^${root}^@` : `^${root}`].join('\n') + '\n';
    // Streamed: a cold load of 100k commits never holds git's whole output.
    return this.git.logStream([], input);
  }

  /** depth = 1 + max(depth of parents that are nodes); iterative, the chains can be 100k long. */
  private assignDepths(added: NodeRecord[], root: string): void {
    const pending = new Set(added.map((r) => r.id));
    const stack: NodeRecord[] = [];
    for (const start of added) {
      if (!pending.has(start.id)) continue;
      stack.push(start);
      while (stack.length > 0) {
        const rec = stack[stack.length - 1] as NodeRecord;
        if (!pending.has(rec.id)) {
          stack.pop();
          continue;
        }
        let ready = true;
        let depth = 0;
        if (rec.id !== root) {
          for (const p of rec.parents) {
            const parent = this.nodes.get(p);
            if (!parent) continue;
            if (pending.has(p)) {
              ready = false;
              stack.push(parent);
            } else depth = Math.max(depth, parent.depth + 1);
          }
        }
        if (ready) {
          rec.depth = depth;
          pending.delete(rec.id);
          stack.pop();
        }
      }
    }
  }
}

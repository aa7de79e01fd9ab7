/**
 * The ref layout of the archive. This file is the only place that spells ref names; the rest
 * of evogit asks the Archive class.
 *
 *   refs/heads/<prefix>/root                   the root node (written once by `evogit init`)
 *   refs/heads/<prefix>/<writer>/<seq>         one branch per node, seq = 1,2,3… per writer
 *   refs/notes/evogit/<writer>                 evaluations, JSON lines, append-only
 *   refs/evogit/claims/<writer>/<id>           a blob holding one Claim as JSON
 *   refs/tags/<prefix>-promoted/<sha12>        promotion marks (lightweight tags)
 */

export const WRITER_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class RefLayout {
  constructor(readonly prefix: string) {}

  get rootRef(): string {
    return `refs/heads/${this.prefix}/root`;
  }
  get branchesDir(): string {
    return `refs/heads/${this.prefix}/`;
  }
  nodeRef(writer: string, seq: number): string {
    return `refs/heads/${this.prefix}/${writer}/${seq}`;
  }
  writerBranchesDir(writer: string): string {
    return `refs/heads/${this.prefix}/${writer}/`;
  }
  static readonly notesDir = 'refs/notes/evogit/';
  notesRef(writer: string): string {
    return `${RefLayout.notesDir}${writer}`;
  }
  static readonly claimsDir = 'refs/evogit/claims/';
  claimRef(writer: string, id: string): string {
    return `${RefLayout.claimsDir}${writer}/${id}`;
  }
  /** A directory (not a ref: no ref name has a component starting with ".") that keeps the writer's claims directory in place. */
  claimsKeepDir(writer: string): string {
    return `${RefLayout.claimsDir}${writer}/.keep`;
  }
  get promotedDir(): string {
    return `refs/tags/${this.prefix}-promoted/`;
  }
  promotedRef(node: string, writer?: string): string {
    return `${this.promotedDir}${writer === undefined ? '' : `${writer}/`}${node.slice(0, 12)}`;
  }
  /** Every ref the archive reads, for one `git for-each-ref`. */
  get readPatterns(): string[] {
    return [this.branchesDir, RefLayout.notesDir, RefLayout.claimsDir, this.promotedDir];
  }

  /**
   * Is the ref a node's branch: any branch under the prefix but the root. Agents write
   * `evo/<writer>/<seq>`; a branch a person makes there by hand (`evo/alice/try-this`) is a node
   * too, whose writer is its first name component.
   */
  isNodeRef(ref: string): boolean {
    return ref.startsWith(this.branchesDir) && ref !== this.rootRef;
  }

  /** `refs/heads/evo/a1/17` → {writer: 'a1', seq: 17}; null for anything else (root included). */
  parseNodeRef(ref: string): { writer: string; seq: number } | null {
    if (!ref.startsWith(this.branchesDir)) return null;
    const rest = ref.slice(this.branchesDir.length).split('/');
    if (rest.length !== 2) return null;
    const [writer, seq] = rest as [string, string];
    if (!WRITER_RE.test(writer) || !/^[1-9][0-9]*$/.test(seq)) return null;
    return { writer, seq: Number(seq) };
  }

  /** The writer whose log a ref belongs to (its branches, notes or claims), or null (the root, promotion tags). */
  writerOf(ref: string): string | null {
    const under = (dir: string) => (ref.startsWith(dir) ? ref.slice(dir.length).split('/')[0] ?? null : null);
    const w = ref === this.rootRef ? null : (under(this.branchesDir) ?? under(RefLayout.notesDir) ?? under(RefLayout.claimsDir));
    return w !== null && WRITER_RE.test(w) ? w : null;
  }

  /**
   * Is `ref` a name of the archive's layout (the root, a node branch, a writer's notes, a
   * claim, a promotion tag)? Anything else under its namespaces (evo/bob/1/x, which would block
   * bob's evo/bob/1) is never taken from a remote.
   */
  isArchiveRef(ref: string): boolean {
    if (ref === this.rootRef) return true;
    // Any branch under the prefix is a node, except one inside a writer's numbered branch
    // (evo/bob/1/x), which would block evo/bob/1 for bob.
    if (ref.startsWith(this.branchesDir)) return !/^[^/]+\/[1-9][0-9]*\//.test(ref.slice(this.branchesDir.length));
    const sha12 = /^[0-9a-f]{12}$/;
    if (ref.startsWith(RefLayout.notesDir)) return WRITER_RE.test(ref.slice(RefLayout.notesDir.length));
    if (ref.startsWith(RefLayout.claimsDir)) {
      const parts = ref.slice(RefLayout.claimsDir.length).split('/');
      return parts.length === 2 && WRITER_RE.test(parts[0] as string) && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(parts[1] as string);
    }
    if (ref.startsWith(this.promotedDir)) {
      const parts = ref.slice(this.promotedDir.length).split('/');
      return (parts.length === 1 && sha12.test(parts[0] as string)) || (parts.length === 2 && WRITER_RE.test(parts[0] as string) && sha12.test(parts[1] as string));
    }
    return false;
  }

  /** Branch name as a person types it: refs/heads/evo/a1/17 → evo/a1/17. */
  static short(ref: string): string {
    return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ref;
  }

  /**
   * Where a fetch puts a remote's archive refs before they are applied: a mirror of what the
   * remote has (`<dir><ref>`), so that what the remote dropped can be told from what it never had.
   */
  static stagingDir(remoteKey: string): string {
    return `refs/evogit/remotes/${remoteKey}/`;
  }

  /**
   * Refspecs for fetching everyone's archive refs except the writer's own (negative refspecs,
   * git ≥ 2.29) into the staging dir.
   */
  fetchRefspecs(me: string | undefined, staging: string): string[] {
    const p = this.prefix;
    const specs = [
      `+refs/heads/${p}/*:${staging}refs/heads/${p}/*`,
      `^refs/heads/${p}/${me}/*`,
      `+${RefLayout.notesDir}*:${staging}${RefLayout.notesDir}*`,
      `^${RefLayout.notesDir}${me}`,
      `+${RefLayout.claimsDir}*:${staging}${RefLayout.claimsDir}*`,
      `^${RefLayout.claimsDir}${me}/*`,
      `+${this.promotedDir}*:${staging}${this.promotedDir}*`,
    ];
    return me === undefined ? specs.filter((s) => !s.startsWith('^')) : specs;
  }

  /** Refspecs for pushing the writer's own refs. Never forced (no leading +). */
  pushRefspecs(me: string): string[] {
    const p = this.prefix;
    return [
      `refs/heads/${p}/${me}/*:refs/heads/${p}/${me}/*`,
      `${RefLayout.notesDir}${me}:${RefLayout.notesDir}${me}`,
      `${RefLayout.claimsDir}${me}/*:${RefLayout.claimsDir}${me}/*`,
    ];
  }
}

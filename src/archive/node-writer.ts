/**
 * Writing a node: its commit (trailers say who made it and how) and its branch
 * `<prefix>/<writer>/<seq>`, created only if absent, in one ref transaction with the claim's
 * release and, when asked, a check that the parent's branch still exists.
 */
import { EvogitError, InfraError } from '../errors/index.js';
import { commitText, zeroIdLike, type Git } from '../git/index.js';
import { checkClaimRef, listRefs, revParse, signedCommit } from './git-calls.js';
import { RefLayout } from './refs.js';
import { formatTargets, parseTargets } from './screen.js';
import type { ArchiveNode, Operator } from './types.js';

export interface WriteNodeRequest {
  writer: string;
  parents: string[];
  tree: string;
  message: string;
  agent: string;
  operator: Operator;
  model?: string;
  cost?: number;
  /** The tasks the edit is aimed at (ArchiveNode.targets). */
  targets?: string[];
  /** A claim ref of this writer to delete in the same ref transaction that creates the branch. */
  releaseClaim?: string;
  /**
   * A branch (e.g. `evo/a1/3`) that must still point at the first parent when the node's branch
   * is created, checked in the same transaction; E_PARENT_PRUNED when it does not.
   */
  parentBranch?: string;
}

const WRITE_OPERATORS: ReadonlySet<Operator> = new Set(['mutate', 'llm', 'command', 'self', 'crossover', 'manual']);

export class NodeWriter {
  /** Highest seq this process handed out per writer, so a just-deleted branch is not reused. */
  private readonly seqHigh = new Map<string, number>();

  constructor(
    private readonly git: Git,
    private readonly layout: RefLayout,
    /** trust: signed — node commits are signed by git. */
    private readonly signing: boolean,
  ) {}

  /** Write the node's commit and create its branch (Archive.writeNode checked the writer's name). */
  async write(req: WriteNodeRequest): Promise<ArchiveNode> {
    if (!WRITE_OPERATORS.has(req.operator)) throw new EvogitError('E_BAD_OPERATOR', `unknown operator "${req.operator}"`, `Use one of: ${[...WRITE_OPERATORS].join(', ')}.`);
    if (req.parents.length === 0) throw new EvogitError('E_NO_PARENT', 'a node needs at least one parent', 'Branch from the root or from an existing node.');
    const trailers: [string, string][] = [
      ['Evogit-Writer', req.writer],
      ['Evogit-Agent', oneLine(req.agent)],
      ['Evogit-Operator', req.operator],
    ];
    if (req.model !== undefined) trailers.push(['Evogit-Model', oneLine(req.model)]);
    if (req.cost !== undefined) trailers.push(['Evogit-Cost', String(req.cost)]);
    const targets = req.targets !== undefined ? formatTargets(req.targets) : undefined;
    if (targets !== undefined) trailers.push(['Evogit-Targets', targets]);
    const message = `${req.message.trimEnd() || 'evogit node'}\n\n${trailers.map(([k, v]) => `${k}: ${v}`).join('\n')}\n`;
    const time = Math.floor(Date.now() / 1000);
    // The commit `git commit-tree` would write, without a process per node when git is kept open.
    // trust: signed — git signs it (the in-process writer cannot).
    const id = this.signing ? await signedCommit(this.git, req.tree, req.parents, message) : await this.git.writeObject('commit', commitText({ tree: req.tree, parents: req.parents, message, time }));

    if (req.releaseClaim !== undefined) checkClaimRef(req.releaseClaim);
    // After its first node this process knows its writer's highest seq: try the next one
    // without listing the branches; a taken name (create-only below) falls back to the list.
    const known = this.seqHigh.get(req.writer);
    let seq = (known ?? (await this.highestSeq(req.writer))) + 1;
    for (let attempt = 0; ; attempt++) {
      const ref = this.layout.nodeRef(req.writer, seq);
      // Expected old value 0: create only. Another process of the same writer may take the seq first.
      // No reflog: a node's branch never moves, and git deletes a branch's reflog with it, so
      // one would only cost a file per node.
      const r = await this.git.updateRefs([
        [`update ${ref}`, id, zeroIdLike(id)],
        ...(req.parentBranch !== undefined ? [[`verify refs/heads/${req.parentBranch}`, req.parents[0] as string]] : []),
        ...(req.releaseClaim !== undefined ? [[`delete ${req.releaseClaim}`, '']] : []),
      ], { message: 'evogit: node', reflog: false });
      if (r.ok) {
        this.seqHigh.set(req.writer, seq);
        const node: ArchiveNode = {
          id,
          parents: [...req.parents],
          tree: req.tree,
          branch: RefLayout.short(ref),
          writer: req.writer,
          agent: oneLine(req.agent),
          operator: req.operator,
          time,
          subject: message.split('\n', 1)[0] as string,
          pruned: false,
          promoted: false,
        };
        if (req.model !== undefined) node.model = oneLine(req.model);
        if (req.cost !== undefined) node.cost = req.cost;
        if (targets !== undefined) node.targets = parseTargets(targets);
        return node;
      }
      if (req.parentBranch !== undefined && (await revParse(this.git, `refs/heads/${req.parentBranch}`)) !== req.parents[0]) {
        throw new EvogitError('E_PARENT_PRUNED', `${req.parentBranch} was deleted while the agent worked`, 'The parent was pruned (`git branch -D`); its children are dropped.');
      }
      if (attempt >= 50) throw new InfraError('E_REF_BUSY', `could not create a branch for writer ${req.writer}: ${r.stderr.trim()}`, 'Another process keeps taking the same names; check for a runaway loop.');
      seq = Math.max(seq, await this.highestSeq(req.writer), known ?? 0) + 1;
    }
  }

  private async highestSeq(writer: string): Promise<number> {
    let max = 0;
    for (const { ref } of await listRefs(this.git, this.layout.writerBranchesDir(writer))) {
      const p = this.layout.parseNodeRef(ref);
      if (p && p.seq > max) max = p.seq;
    }
    return max;
  }
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

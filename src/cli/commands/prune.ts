import { Archive } from '../../archive/index.js';
import { loadConfig } from '../../config/index.js';
import { EvogitError } from '../../errors/index.js';
import type { CommandOutput, GlobalArgs } from '../context.js';

export async function prune(opts: { repoDir: string; node: string; clade?: boolean }): Promise<{ node: string; deleted: string[] }> {
  const config = await loadConfig(opts.repoDir);
  const archive = await Archive.open({ repoDir: opts.repoDir, prefix: config.branchPrefix, trust: config.trust });
  const node = await archive.resolve(opts.node);
  if (node.id === (await archive.root())) {
    throw new EvogitError('E_PRUNE_ROOT', 'the root node cannot be pruned', 'Prune its children instead, or start over with `evogit init --force`.');
  }
  const deleted = await archive.prune(node.id, { clade: opts.clade ?? false });
  return { node: node.id, deleted };
}

export async function promote(opts: { repoDir: string; node: string; writer?: string }): Promise<{ node: string; tag: string }> {
  const config = await loadConfig(opts.repoDir);
  const archive = await Archive.open({ repoDir: opts.repoDir, prefix: config.branchPrefix, trust: config.trust });
  const node = await archive.resolve(opts.node);
  if (node.pruned) {
    throw new EvogitError('E_PROMOTE_PRUNED', `node ${node.id.slice(0, 12)} is pruned`, 'Promote a node that still has its branch (see `evogit status`).');
  }
  return { node: node.id, tag: await archive.promote(node.id, opts.writer === undefined ? {} : { writer: opts.writer }) };
}

export async function pruneCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const r = await prune({ repoDir: a.C, node: String(a.node), clade: Boolean(a.clade) });
  const text = r.deleted.length
    ? `Pruned ${r.node.slice(0, 12)}: deleted ${r.deleted.join(', ')}.\nOn a shared remote, also: git push <remote> --delete ${r.deleted.join(' ')}`
    : `Nothing to prune: ${r.node.slice(0, 12)} has no branch left.`;
  return { data: r, text };
}

export async function promoteCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const r = await promote({ repoDir: a.C, node: String(a.node), ...(typeof a.writer === 'string' ? { writer: a.writer } : {}) });
  const share = r.tag.split('/').length > 2 ? `Share it with: git push <remote> ${r.tag} (it counts where trust.promoters lists the writer)` : 'It counts on this machine; promote with --writer to share it';
  return { data: r, text: `Promoted ${r.node.slice(0, 12)} (tag ${r.tag}). ${share}.` };
}

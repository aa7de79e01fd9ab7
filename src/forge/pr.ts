/**
 * Opening a node as a pull request, idempotently: one PR per node, and a better descendant
 * updates (or supersedes) the open PR of its clade instead of opening a second one.
 */
import type { ArchiveSnapshot } from '../archive/types.js';
import type { Config } from '../config/schema.js';
import { EvogitError, InfraError } from '../errors/index.js';
import { renderPrBody, renderPrTitle, parseMarker, type PrMarker } from './body.js';
import { countRuns, gatherEvidence, summarize, type CountEvidence, type EvaluationLogs, type PrEvidence } from './evidence.js';
import { fetchRef, hasCommit, isAncestor, pushCommit, remoteBranch } from './git.js';
import { minimizePatch } from './minimize.js';
import { createClient, scrub, toForgeError, type ClientTuning, type GitHubClient, type RecordedRequest } from './github.js';
import { checkPrRule, type BetaQuantile, type PrRuleResult } from './rule.js';

export type ForgeConfig = Config['forge'];

export interface PrOptions {
  /** The local repository holding the archive. */
  repoDir: string;
  snapshot: ArchiveSnapshot;
  /** Full SHA of the node. */
  node: string;
  forge: ForgeConfig;
  /** `test.protected` globs; evogit.yml is always protected. */
  protectedPaths: string[];
  /** `scorer.epsilon`. */
  epsilon: number;
  /** The scorer's Beta inverse CDF. */
  quantile: BetaQuantile;
  counts?: CountEvidence;
  /** A node's evaluation lines with log tails (`archive.evaluationLogs`), for the log excerpts in the body. */
  logs?: EvaluationLogs;
  /**
   * Does this commit keep the node's score (its passed tasks re-run in the sandbox)? Needed with
   * forge.minimize: the PR then carries only the hunks of the node's change such a commit
   * cannot do without (minimizePatch), on a commit of its own on top of the root.
   */
  validate?: (commit: string) => Promise<boolean>;
  /** Default: process.env.GITHUB_TOKEN. */
  token?: string;
  /** Branch the PR targets when forge.base is unset; else the repository's default branch is asked for. */
  defaultBase?: string;
  /** PR head branches are `<prefix>/<sha12>`. Default `evogit/pr`. */
  branchPrefix?: string;
  client?: ClientTuning;
}

export type PrAction = 'opened' | 'updated' | 'superseded' | 'exists' | 'skipped';

export interface PrResult {
  action: PrAction;
  node: string;
  url?: string;
  number?: number;
  /** The PR this one replaced, for `superseded` (closed with a link) and `updated` (same number). */
  previous?: { number: number; node: string };
  branch?: string;
  reasons: string[];
  /** Every HTTP request made, in order, without headers. */
  requests: RecordedRequest[];
  /** Every branch pushed: `sha:refs/heads/branch` on the remote. */
  pushes: string[];
  /** With forge.minimize, when hunks were dropped: the commit pushed instead of the node, and how many hunks it kept. */
  minimized?: { commit: string; kept: number; total: number; validations: number };
}

export interface PrPlan {
  action: 'plan' | 'skipped';
  node: string;
  title: string;
  body: string;
  branch: string;
  reasons: string[];
  /** The push it would make (of the node, or with forge.minimize of a commit made from its hunks first). */
  push?: { remote: string; refspec: string; minimize?: boolean };
  /** The requests it would make when no open PR exists for the node or its clade yet. */
  requests: RecordedRequest[];
}

interface OpenPull {
  number: number;
  html_url: string;
  body?: string | null;
  head: { ref: string; sha: string };
}

interface Prepared {
  evidence: PrEvidence;
  rule: PrRuleResult;
  title: string;
  body: string;
  branch: string;
}

async function prepare(opts: PrOptions): Promise<Prepared> {
  const evidence = await gatherEvidence({
    repoDir: opts.repoDir,
    snapshot: opts.snapshot,
    node: opts.node,
    epsilon: opts.epsilon,
    quantile: opts.quantile,
    protectedPaths: opts.protectedPaths,
    counts: opts.counts,
    ...(opts.logs ? { logs: opts.logs } : {}),
  });
  const rule = checkPrRule({
    node: evidence.node,
    root: evidence.base,
    nodeCounts: evidence.scores.node,
    rootCounts: evidence.scores.base,
    touchedProtected: evidence.protectedHits.length > 0,
    epsilon: opts.epsilon,
    rule: opts.forge.rule,
    quantile: opts.quantile,
  });
  if (evidence.protectedHits.length > 0) rule.reasons.push(`protected: ${evidence.protectedHits.join(', ')}`);
  const branch = `${opts.branchPrefix ?? 'evogit/pr'}/${evidence.node.id.slice(0, 12)}`;
  // Logs excerpted in the body come from sandbox runs: a leaked token must not be published.
  const token = opts.token ?? process.env.GITHUB_TOKEN;
  return { evidence, rule, title: scrub(renderPrTitle(evidence), token), body: scrub(renderPrBody(evidence), token), branch };
}

function repoOf(forge: ForgeConfig): { owner: string; repo: string } {
  if (!forge.repo) {
    throw new EvogitError('E_FORGE_NO_REPO', 'no GitHub repository is configured for pull requests', 'Set forge.repo: owner/name in evogit.yml.');
  }
  const [owner, repo] = forge.repo.split('/') as [string, string];
  return { owner, repo };
}

/** What `openPr` would do, with no request and no push. Assumes no open PR exists for the node's clade. */
export async function planPr(opts: PrOptions): Promise<PrPlan> {
  const p = await prepare(opts);
  const base = { node: opts.node, title: p.title, body: p.body, branch: p.branch, reasons: p.rule.reasons };
  if (!p.rule.ok) return { ...base, action: 'skipped', requests: [] };
  const { owner, repo } = repoOf(opts.forge);
  // The client only builds request descriptions here (`.endpoint`): nothing is sent.
  const gh = createClient({ token: 'unused-for-a-plan', baseUrl: opts.forge.baseUrl });
  const apiBase = (opts.forge.baseUrl ?? 'https://api.github.com').replace(/\/+$/, '');
  const describe = (e: { method: string; url: string; body?: unknown }): RecordedRequest => ({
    method: e.method,
    path: e.url.startsWith(apiBase) ? e.url.slice(apiBase.length) : e.url,
    ...(e.body !== undefined ? { body: e.body } : {}),
  });
  const requests: RecordedRequest[] = [];
  requests.push(describe(gh.rest.pulls.list.endpoint({ owner, repo, state: 'open', head: `${owner}:${p.branch}` })));
  requests.push(describe(gh.rest.pulls.list.endpoint({ owner, repo, state: 'open', per_page: 100 })));
  let baseBranch = opts.forge.base ?? opts.defaultBase;
  if (!baseBranch) {
    requests.push(describe(gh.rest.repos.get.endpoint({ owner, repo })));
    baseBranch = '<default branch>';
  }
  requests.push(describe(gh.rest.pulls.create.endpoint({ owner, repo, title: p.title, body: p.body, head: p.branch, base: baseBranch })));
  if (opts.forge.labels.length > 0) {
    requests.push(describe(gh.rest.issues.addLabels.endpoint({ owner, repo, issue_number: 0, labels: opts.forge.labels })));
    requests[requests.length - 1]!.path = requests[requests.length - 1]!.path.replace('/issues/0/', '/issues/<new PR number>/');
  }
  return { ...base, action: 'plan', push: { remote: opts.forge.remote, refspec: `${opts.node}:refs/heads/${p.branch}`, ...(opts.forge.minimize ? { minimize: true } : {}) }, requests };
}

/**
 * Push the node and open (or update) its pull request. Throws InfraError when GitHub or the
 * remote stays unavailable after retries; the node is untouched and a later call resumes
 * where this one stopped (the push and the lookups are idempotent).
 */
export async function openPr(opts: PrOptions): Promise<PrResult> {
  const p = await prepare(opts);
  const requests: RecordedRequest[] = [];
  const pushes: string[] = [];
  /** What is pushed: the node, or with forge.minimize the commit of its needed hunks (made once, when first needed). */
  let head: { commit: string; body: string; minimized?: NonNullable<PrResult['minimized']> } | null = null;
  const result = (r: Omit<PrResult, 'node' | 'requests' | 'pushes'>): PrResult => ({ node: p.evidence.node.id, requests, pushes, ...(head?.minimized ? { minimized: head.minimized } : {}), ...r });
  if (!p.rule.ok) return result({ action: 'skipped', reasons: p.rule.reasons });
  if (opts.forge.minimize && !opts.validate) {
    throw new EvogitError('E_MINIMIZE_UNAVAILABLE', 'forge.minimize is set, but nothing was given to re-run the tasks on the smaller change', 'This is a bug in evogit; please report it. Set forge.minimize: false to open PRs meanwhile.');
  }

  const { owner, repo } = repoOf(opts.forge);
  const token = opts.token ?? process.env.GITHUB_TOKEN;
  if (!token) {
    throw new EvogitError('E_GITHUB_TOKEN', 'GITHUB_TOKEN is not set: cannot open a pull request', 'Export GITHUB_TOKEN (a token with pull-request write access), or use --dry-run.');
  }
  const gh = createClient({ ...opts.client, token, baseUrl: opts.forge.baseUrl, onRequest: (r) => requests.push(r) });
  const call = async <T>(doing: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw toForgeError(e, token, doing);
    }
  };
  const node = p.evidence.node.id;
  const clade = p.evidence.clade;
  const reasons = [...p.rule.reasons];

  // 1. An open PR on this node's own head branch.
  const onBranch = await call('looking for the PR of this node', () =>
    gh.rest.pulls.list({ owner, repo, state: 'open', head: `${owner}:${p.branch}`, per_page: 100 }),
  );
  const mine = onBranch.data.find((pr) => parseMarker(pr.body)?.node === node);
  if (mine) return result({ action: 'exists', url: mine.html_url, number: mine.number, branch: p.branch, reasons });

  // 2. Any open PR whose marker names this node or an ancestor in its clade.
  const open: OpenPull[] = await call('listing open pull requests', () =>
    gh.paginate(gh.rest.pulls.list, { owner, repo, state: 'open', per_page: 100 }),
  );
  const marked = open.flatMap((pr) => {
    const m = parseMarker(pr.body);
    return m ? [{ pr, m }] : [];
  });
  const same = marked.find(({ m }) => m.node === node);
  if (same) return result({ action: 'exists', url: same.pr.html_url, number: same.pr.number, branch: same.pr.head.ref, reasons });

  const counts = opts.counts ?? countRuns;
  const lowerOf = (sha: string) => summarize(opts.snapshot.evaluations.get(sha) ?? [], counts, opts.quantile, opts.epsilon).lower;
  const mineLower = p.evidence.scores.node.lower;
  for (const { pr, m } of marked.filter(({ m }) => m.clade === clade)) {
    if (!(await isAncestor(opts.repoDir, m.node, node).catch(() => false))) {
      // A descendant of this node already has a PR: it carries this change and more.
      if (await isAncestor(opts.repoDir, node, m.node).catch(() => false)) {
        reasons.push(`#${pr.number} already proposes a descendant of this node`);
        return result({ action: 'exists', url: pr.html_url, number: pr.number, branch: pr.head.ref, reasons });
      }
      continue;
    }
    if (mineLower <= lowerOf(m.node)) {
      reasons.push(`#${pr.number} proposes an ancestor (${m.node.slice(0, 12)}) that scores at least as well; left as it is`);
      return result({ action: 'skipped', url: pr.html_url, number: pr.number, reasons });
    }
    return replace(pr, m);
  }

  return openNew();

  async function headOf(): Promise<NonNullable<typeof head>> {
    if (head) return head;
    if (!opts.forge.minimize || !opts.validate) return (head = { commit: node, body: p.body });
    const m = await minimizePatch({ repoDir: opts.repoDir, node, root: opts.snapshot.root, validate: opts.validate });
    if (!m.minimized) {
      reasons.push(m.total < 2 ? 'forge.minimize: the change is a single hunk, nothing to drop' : `forge.minimize: all ${m.total} hunks are needed (${m.validations} sandbox runs)`);
      return (head = { commit: node, body: p.body });
    }
    const minimized = { commit: m.commit, kept: m.kept, total: m.total, validations: m.validations };
    reasons.push(`forge.minimize: kept ${m.kept} of ${m.total} hunks (${m.validations} sandbox runs)`);
    const note = [
      '',
      '## Minimized',
      '',
      `This pull request carries ${m.kept} of the ${m.total} hunks of node \`${node.slice(0, 12)}\`, as commit \`${m.commit.slice(0, 12)}\` on top of the base: a commit without the others still passed every task the node passed (re-run in the sandbox, ${m.validations} runs). The file table above is the node's whole change; this PR changes ${m.paths.map((f) => `\`${f}\``).join(', ')}.`,
      '',
    ].join('\n');
    return (head = { commit: m.commit, body: scrub(p.body + note, token), minimized });
  }

  async function baseBranch(): Promise<string> {
    const configured = opts.forge.base ?? opts.defaultBase;
    if (configured) return configured;
    const r = await call('reading the repository', () => gh.rest.repos.get({ owner, repo }));
    return r.data.default_branch;
  }

  async function push(branch: string): Promise<void> {
    const remote = opts.forge.remote;
    const commit = (await headOf()).commit;
    const at = await remoteBranch(opts.repoDir, remote, branch).catch((e: unknown) => {
      throw new InfraError('E_REMOTE_UNAVAILABLE', `cannot read ${branch} on remote ${remote}: ${scrub(String(e instanceof Error ? e.message : e), token)}`, 'Check `git remote -v` and forge.remote.');
    });
    if (at === commit) return;
    if (at && !(await isAncestor(opts.repoDir, at, commit).catch(() => false))) {
      throw new EvogitError(
        'E_PR_BRANCH_DIVERGED',
        `branch ${branch} on ${remote} points at ${at}, which is not an ancestor of ${commit === node ? 'node ' : 'commit '}${commit}; evogit never force-pushes`,
        `Delete the remote branch (git push ${remote} --delete ${branch}) if it is stale, or set another branch prefix.`,
      );
    }
    const r = await pushCommit(opts.repoDir, remote, commit, branch);
    if (r.exitCode !== 0) {
      const why = scrub(r.stderr.trim().split('\n').slice(-3).join(' '), token);
      if (/rejected|non-fast-forward|fetch first/.test(r.stderr + r.stdout)) {
        throw new EvogitError('E_PR_BRANCH_DIVERGED', `pushing ${node} to ${branch} on ${remote} was rejected: ${why}`, 'Someone moved the branch; evogit never force-pushes.');
      }
      throw new InfraError('E_REMOTE_UNAVAILABLE', `pushing ${node} to ${branch} on ${remote} failed: ${why}`, 'Check the remote and your git credentials; the node stays in the archive.');
    }
    pushes.push(`${commit}:refs/heads/${branch}`);
  }

  async function label(number: number): Promise<void> {
    if (opts.forge.labels.length === 0) return;
    await call('labelling the pull request', () => gh.rest.issues.addLabels({ owner, repo, issue_number: number, labels: opts.forge.labels }));
  }

  async function openNew(): Promise<PrResult> {
    const base = await baseBranch();
    await push(p.branch);
    const { body } = await headOf();
    const created = await call('opening the pull request', () =>
      gh.rest.pulls.create({ owner, repo, title: p.title, body, head: p.branch, base }),
    );
    await label(created.data.number);
    return result({ action: 'opened', url: created.data.html_url, number: created.data.number, branch: p.branch, reasons });
  }

  /** A better descendant of the node an open PR proposes: fast-forward that PR, or replace it. */
  async function replace(old: OpenPull, m: PrMarker): Promise<PrResult> {
    const previous = { number: old.number, node: m.node };
    const remoteHead = await remoteBranch(opts.repoDir, opts.forge.remote, old.head.ref);
    const mine = await headOf();
    let fastForward = remoteHead !== null && remoteHead !== mine.commit;
    if (fastForward && remoteHead) {
      if (!(await hasCommit(opts.repoDir, remoteHead))) await fetchRef(opts.repoDir, opts.forge.remote, old.head.ref);
      fastForward = await isAncestor(opts.repoDir, remoteHead, mine.commit);
    }
    if (fastForward) {
      await push(old.head.ref);
      const updated = await call('updating the pull request', () =>
        gh.rest.pulls.update({ owner, repo, pull_number: old.number, title: p.title, body: mine.body }),
      );
      await label(old.number);
      reasons.push(`fast-forwarded #${old.number} from ${m.node.slice(0, 12)} to this node`);
      return result({ action: 'updated', url: updated.data.html_url, number: old.number, previous, branch: old.head.ref, reasons });
    }
    const opened = await openNew();
    await call('commenting on the superseded pull request', () =>
      gh.rest.issues.createComment({ owner, repo, issue_number: old.number, body: `Superseded by #${opened.number} (${opened.url}): a better descendant of this node, whose branch could not be fast-forwarded.` }),
    );
    await call('closing the superseded pull request', () => gh.rest.pulls.update({ owner, repo, pull_number: old.number, state: 'closed' }));
    reasons.push(`#${old.number} (${m.node.slice(0, 12)}) could not be fast-forwarded; opened #${opened.number} and closed it with a link`);
    return { ...opened, action: 'superseded', previous, reasons };
  }
}

export type { GitHubClient };

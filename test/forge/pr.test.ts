import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Archive } from '../../src/archive/index.js';
import { ForgeSchema } from '../../src/config/schema.js';
import type { EvogitError } from '../../src/errors/index.js';
import { InfraError } from '../../src/errors/index.js';
import { openPr, planPr, parseMarker, type PrOptions } from '../../src/forge/index.js';
import { checkRequest, startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { git, revParse } from '../helpers/repo.js';
import { betaQuantile, makeFixture, type Fixture } from './fixtures.js';

const TOKEN = 'ghp_FAKE_SECRET_0123456789abcdef';
let fx: Fixture;
let gh: GitHubServer;

beforeEach(async () => {
  fx = await makeFixture({ tokenInLog: TOKEN });
  gh = await startGitHubServer({ token: TOKEN, owner: 'octo', repo: 'calc', bareRepo: fx.remote });
});

afterEach(async () => {
  await gh.close();
  await fx.cleanup();
  // Every request any test made was a documented GitHub operation with a valid body.
  expect(gh.violations).toEqual([]);
});

function options(node: string, extra: Partial<PrOptions> = {}): PrOptions {
  return {
    repoDir: fx.dir,
    snapshot: fx.snapshot,
    node,
    forge: ForgeSchema.parse({ repo: 'octo/calc', baseUrl: gh.url, labels: ['evogit', 'automated'] }),
    protectedPaths: ['test/**'],
    epsilon: 0.05,
    quantile: betaQuantile,
    token: TOKEN,
    client: { retryBaseMs: 5, spaceWrites: false },
    ...extra,
  };
}

const remoteBranches = async () => (await git(fx.remote, ['for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/heads/'])).split('\n').filter(Boolean);

describe('openPr', () => {
  it('opens exactly one PR for a node that meets the rule, with its evidence', async () => {
    const first = await openPr(options(fx.a));
    expect(first.action).toBe('opened');
    expect(first.number).toBe(1);
    expect(first.url).toBe(`${gh.url}/octo/calc/pull/1`);
    const second = await openPr(options(fx.a));
    expect(second.action).toBe('exists');
    expect(second.number).toBe(1);
    expect(second.pushes).toEqual([]);
    expect(second.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(gh.pulls).toHaveLength(1);

    const pr = gh.pulls[0]!;
    expect(pr.title).toBe('Fix add: use + instead of -');
    expect(pr.base).toBe('main');
    expect(pr.head).toBe(`evogit/pr/${fx.a.slice(0, 12)}`);
    expect(pr.labels.map((l) => l.name)).toEqual(['evogit', 'automated']);
    expect(await remoteBranches()).toContain(`evogit/pr/${fx.a.slice(0, 12)} ${fx.a}`);
    const body = pr.body ?? '';
    expect(parseMarker(body)).toEqual({ node: fx.a, clade: fx.a });
    expect(body).toContain('## Summary');
    expect(body).toContain('The subtraction made every add test fail.');
    expect(body).toMatch(/\| base `[0-9a-f]{12}` \| 2 \| 8 \| 10 \| 25\.0% \|/);
    expect(body).toMatch(/\| this PR `[0-9a-f]{12}` \| 8 \| 2 \| 10 \| 75\.0% \|/);
    expect(body).toContain('| a1 | mutate |');
    expect(body).toContain('1 file changed, 1 insertions(+), 1 deletions(-)');
    expect(body).toContain('| `src/calc.js` | 1 | 1 |');
    expect(body).toContain('### `t2`');
    expect(body).toContain('expected 5, got -1');
    expect(body).toContain(`evogit eval ${fx.a}`);
    expect(first.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      'GET /repos/octo/calc/pulls',
      'GET /repos/octo/calc/pulls',
      'GET /repos/octo/calc',
      'POST /repos/octo/calc/pulls',
      'POST /repos/octo/calc/issues/1/labels',
    ]);
  });

  it('a better descendant fast-forwards the open PR of its ancestor instead of opening a second one', async () => {
    await openPr(options(fx.a));
    const up = await openPr(options(fx.b));
    expect(up.action).toBe('updated');
    expect(up.number).toBe(1);
    expect(up.previous).toEqual({ number: 1, node: fx.a });
    expect(gh.pulls).toHaveLength(1);
    expect(parseMarker(gh.pulls[0]!.body)).toEqual({ node: fx.b, clade: fx.a });
    expect(gh.pulls[0]!.title).toBe('Fix mul: multiply');
    expect(await remoteBranches()).toContain(`evogit/pr/${fx.a.slice(0, 12)} ${fx.b}`);
    expect((await openPr(options(fx.b))).action).toBe('exists');
    // The ancestor is covered by its descendant's PR: never a second PR for it either.
    expect((await openPr(options(fx.a))).action).toBe('exists');
    expect(gh.pulls).toHaveLength(1);
  });

  it('supersedes, with a link, when the open PR branch cannot be fast-forwarded', async () => {
    await openPr(options(fx.a));
    // A reviewer pushed a commit of their own on the PR branch.
    const branch = `evogit/pr/${fx.a.slice(0, 12)}`;
    await git(fx.dir, ['checkout', '-q', '--detach', fx.a]);
    await git(fx.dir, ['commit', '-q', '--allow-empty', '-m', 'review fixup']);
    const fixup = await revParse(fx.dir);
    await git(fx.dir, ['push', '-q', 'origin', `${fixup}:refs/heads/${branch}`]);
    await git(fx.dir, ['checkout', '-q', 'main']);

    const r = await openPr(options(fx.b));
    expect(r.action).toBe('superseded');
    expect(r.number).toBe(2);
    expect(r.previous).toEqual({ number: 1, node: fx.a });
    expect(gh.pulls.map((p) => p.state)).toEqual(['closed', 'open']);
    expect(gh.pulls[0]!.comments[0]).toContain('Superseded by #2');
    expect(gh.pulls[0]!.comments[0]).toContain(`${gh.url}/octo/calc/pull/2`);
    // The reviewer's commit is still there: nothing was force-pushed.
    expect(await remoteBranches()).toContain(`${branch} ${fixup}`);
    expect((await openPr(options(fx.b))).action).toBe('exists');
  });

  it('with forge.minimize, proposes only the hunks the node needs to keep passing, and resumes to the same commit', async () => {
    // b fixes add and mul (two hunks against the root); this check needs only the add fix.
    const validated: string[] = [];
    const validate = async (commit: string) => {
      validated.push(commit);
      return (await git(fx.dir, ['show', `${commit}:src/calc.js`])).includes('add(a, b) {\n  return a + b;');
    };
    const forge = ForgeSchema.parse({ repo: 'octo/calc', baseUrl: gh.url, labels: [], minimize: true });
    const r = await openPr(options(fx.b, { forge, validate }));
    expect(r.action).toBe('opened');
    expect(r.minimized).toMatchObject({ kept: 1, total: 2 });
    expect(r.minimized!.validations).toBe(new Set(validated).size);
    const head = r.minimized!.commit;
    expect(r.pushes).toEqual([`${head}:refs/heads/evogit/pr/${fx.b.slice(0, 12)}`]);
    expect(await revParse(fx.dir, `${head}^`)).toBe(fx.root);
    expect((await git(fx.dir, ['diff', '--numstat', fx.root, head])).trim()).toBe('1\t1\tsrc/calc.js');
    expect(await git(fx.dir, ['show', `${head}:src/calc.js`])).toContain('return a + b;\n}\n\nexport function mul(a, b) {\n  return a + b;');
    const body = gh.pulls[0]!.body ?? '';
    expect(parseMarker(body)).toEqual({ node: fx.b, clade: fx.a });
    expect(body).toContain('## Minimized');
    expect(body).toContain(`1 of the 2 hunks of node \`${fx.b.slice(0, 12)}\``);
    expect(r.reasons.join('\n')).toContain('kept 1 of 2 hunks');
    // Interrupted after its push (the PR not opened), a second call makes the same commit and finishes.
    gh.pulls.length = 0;
    const again = await openPr(options(fx.b, { forge, validate }));
    expect(again.action).toBe('opened');
    expect(again.minimized?.commit).toBe(head);
    expect(again.pushes).toEqual([]);
  });

  it('with forge.minimize, pushes the node itself when it has nothing to drop, and a better descendant supersedes it', async () => {
    const forge = ForgeSchema.parse({ repo: 'octo/calc', baseUrl: gh.url, labels: [], minimize: true });
    const validate = async (commit: string) => (await git(fx.dir, ['show', `${commit}:src/calc.js`])).includes('add(a, b) {\n  return a + b;');
    // a is one hunk: nothing to try.
    const single = await openPr(options(fx.a, { forge, validate }));
    expect(single.minimized).toBeUndefined();
    expect(single.pushes).toEqual([`${fx.a}:refs/heads/evogit/pr/${fx.a.slice(0, 12)}`]);
    expect(single.reasons.join('\n')).toContain('a single hunk, nothing to drop');
    // b's minimal commit is not a descendant of a: the open PR cannot be fast-forwarded.
    const r = await openPr(options(fx.b, { forge, validate }));
    expect(r.action).toBe('superseded');
    expect(r.minimized).toMatchObject({ kept: 1, total: 2 });
    expect(gh.pulls.map((p) => p.state)).toEqual(['closed', 'open']);
  });

  it('never opens a PR for a node that touched a protected path, even a promoted one', async () => {
    for (const promoted of [false, true]) {
      const snapshot = { ...fx.snapshot, nodes: fx.snapshot.nodes.map((n) => (n.id === fx.p ? { ...n, promoted } : n)) };
      const r = await openPr(options(fx.p, { snapshot }));
      expect(r.action).toBe('skipped');
      expect(r.reasons.join('\n')).toMatch(/protected path/);
      expect(r.reasons.join('\n')).toContain('test/calc.test.js');
    }
    expect(gh.requests).toEqual([]);
    expect(await remoteBranches()).toEqual([`main ${fx.root}`]);
  });

  it('retries a 502 and a 403 rate limit, then succeeds', async () => {
    gh.fail({ status: 502, times: 2 });
    gh.fail({ status: 403, rateLimit: true, times: 2, method: 'POST', pathIncludes: '/pulls' });
    const r = await openPr(options(fx.a));
    expect(r.action).toBe('opened');
    const statuses = gh.requests.map((q) => `${q.status} ${q.method}`);
    expect(statuses.slice(0, 3)).toEqual(['502 GET', '502 GET', '200 GET']);
    expect(statuses.filter((s) => s === '403 POST')).toHaveLength(2);
    expect(gh.pulls).toHaveLength(1);
  });

  it('reports a persistent 502 as InfraError, and the node still gets its PR later', async () => {
    gh.fail({ status: 502, times: 4, method: 'POST' }); // the first try and 3 retries
    const err = await openPr(options(fx.a)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as InfraError).code).toBe('E_GITHUB_UNAVAILABLE');
    expect((err as InfraError).message).toMatch(/502 while opening the pull request \(POST .*\/repos\/octo\/calc\/pulls\)/);
    expect(gh.pulls).toHaveLength(0);
    const again = await openPr(options(fx.a));
    expect(again.action).toBe('opened');
    expect(again.pushes).toEqual([]); // the branch was already pushed, at the same commit
  });

  it('reports a persistent rate limit as InfraError with the reset time', async () => {
    gh.fail({ status: 403, rateLimit: true, times: 3 });
    const err = await openPr(options(fx.a)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as InfraError).code).toBe('E_GITHUB_RATE_LIMITED');
    expect((err as InfraError).message).toMatch(/resets at \d{4}-\d\d-\d\dT/);
    expect(gh.requests.filter((q) => q.status === 403)).toHaveLength(3);
  });

  it('does not wait out a rate limit that resets far in the future', async () => {
    gh.fail({ status: 403, rateLimit: true, times: 1, resetInSeconds: 3600 });
    const started = Date.now();
    const err = await openPr(options(fx.a)).catch((e: unknown) => e);
    expect((err as InfraError).code).toBe('E_GITHUB_RATE_LIMITED');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('never lets the token out: results, errors, hints and the PR body', async () => {
    const r = await openPr(options(fx.a));
    expect(JSON.stringify(r)).not.toContain(TOKEN);
    expect(gh.pulls[0]!.body).not.toContain(TOKEN);
    expect(gh.pulls[0]!.body).toContain('GITHUB_TOKEN=***');
    // The token did reach the server, in the header and only there.
    expect(gh.requests.every((q) => q.authorization === `token ${TOKEN}`)).toBe(true);
    expect(JSON.stringify(gh.requests.map((q) => ({ ...q, authorization: undefined })))).not.toContain(TOKEN);

    gh.fail({ status: 502, times: 4 });
    const e1 = (await openPr(options(fx.b)).catch((e: unknown) => e)) as InfraError;
    const wrongToken = 'ghp_OTHER_SECRET_abcdef0123456789';
    const e2 = (await openPr(options(fx.b, { token: wrongToken })).catch((e: unknown) => e)) as EvogitError;
    expect(e2.code).toBe('E_GITHUB_AUTH');
    for (const [e, t] of [[e1, TOKEN], [e2, wrongToken]] as const) {
      const text = `${e.message}\n${e.hint}\n${e.stack}\n${JSON.stringify(e)}\n${String(e.cause ?? '')}`;
      expect(text).not.toContain(t);
    }
    const plan = await planPr(options(fx.b));
    expect(JSON.stringify(plan)).not.toContain(TOKEN);
  });

  it('refuses a remote PR branch that moved elsewhere, without force', async () => {
    const branch = `evogit/pr/${fx.a.slice(0, 12)}`;
    await git(fx.dir, ['push', '-q', 'origin', `${fx.p}:refs/heads/${branch}`]);
    const err = (await openPr(options(fx.a)).catch((e: unknown) => e)) as EvogitError;
    expect(err.code).toBe('E_PR_BRANCH_DIVERGED');
    expect(err.message).toContain(fx.p);
    expect(await remoteBranches()).toContain(`${branch} ${fx.p}`);
    expect(gh.pulls).toHaveLength(0);
  });
});

describe('planPr (--dry-run)', () => {
  it('makes no request and pushes nothing, and lists requests GitHub would accept', async () => {
    const plan = await planPr(options(fx.a));
    expect(plan.action).toBe('plan');
    expect(gh.requests).toEqual([]);
    expect(await remoteBranches()).toEqual([`main ${fx.root}`]);
    expect(plan.push).toEqual({ remote: 'origin', refspec: `${fx.a}:refs/heads/evogit/pr/${fx.a.slice(0, 12)}` });
    expect(plan.title).toBe('Fix add: use + instead of -');
    expect(parseMarker(plan.body)?.node).toBe(fx.a);
    expect(plan.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      'GET /repos/octo/calc/pulls',
      'GET /repos/octo/calc/pulls',
      'GET /repos/octo/calc',
      'POST /repos/octo/calc/pulls',
      'POST /repos/octo/calc/issues/<new PR number>/labels',
    ]);
    // The planned requests are valid GitHub requests too.
    for (const r of plan.requests) expect(checkRequest(r.method, r.path.replace('<new PR number>', '1'), r.body).violations).toEqual([]);
  });

  it('takes the log excerpts from the notes when the snapshot carries no logs (as Archive snapshots do)', async () => {
    // The fixture's evaluations written as real notes; the snapshot given to planPr has no logs.
    const archive = await Archive.open({ repoDir: fx.dir });
    await archive.createRoot(fx.root);
    for (const lines of fx.snapshot.evaluations.values()) await archive.appendEvaluations('a1', lines);
    const bare = { ...fx.snapshot, evaluations: new Map([...fx.snapshot.evaluations].map(([id, lines]) => [id, lines.map(({ log: _drop, ...e }) => e)])) };
    const asked: string[] = [];
    const logs = (id: string) => {
      asked.push(id);
      return archive.evaluationLogs(id);
    };
    const plan = await planPr(options(fx.a, { snapshot: bare, logs }));
    expect(plan.body).toContain('### `t2`');
    expect(plan.body).toContain('expected 5, got -1');
    expect(plan.body).toContain('ok 1 - add');
    expect(plan.body).not.toContain(TOKEN);
    expect(asked.sort()).toEqual([fx.root, fx.a].sort());
    const without = await planPr(options(fx.a, { snapshot: bare }));
    expect(without.body).toContain('### `t2`');
    expect(without.body).not.toContain('expected 5, got -1');
  });

  it('plans nothing for a node that does not meet the rule', async () => {
    const plan = await planPr(options(fx.p));
    expect(plan.action).toBe('skipped');
    expect(plan.requests).toEqual([]);
    expect(gh.requests).toEqual([]);
  });
});

describe('the GitHub test server', () => {
  it('rejects requests that GitHub\'s OpenAPI description does not allow', async () => {
    const post = (path: string, body: unknown, method = 'POST') =>
      fetch(`${gh.url}${path}`, { method, headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await post('/repos/octo/calc/pulls', { title: 5, head: 'x' });
    expect(bad.status).toBe(422);
    const errors = ((await bad.json()) as { errors: string[] }).errors;
    expect(errors).toContain('body.title: expected string, got integer');
    expect(errors).toContain('body: missing required property "base"');
    expect((await post('/repos/octo/calc/pulls/1', { state: 'merged' }, 'PATCH')).status).toBe(422);
    expect((await post('/repos/octo/calc/issues/1/labels', { labels: [] })).status).toBe(422);
    expect((await post('/repos/octo/calc/pulls/1/frobnicate', {})).status).toBe(422);
    const q = await fetch(`${gh.url}/repos/octo/calc/pulls?state=bogus`, { headers: { authorization: `token ${TOKEN}` } });
    expect(q.status).toBe(422);
    expect(gh.violations.length).toBeGreaterThanOrEqual(6);
    gh.violations.length = 0; // expected here; the afterEach check is for the forge's own requests
  });
});

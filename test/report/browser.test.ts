/**
 * `evogit report` of a real run, looked at in a real browser: examples/demo evolved by two
 * mutate agents (`evogit run --report` keeping a report up to date meanwhile), one inner node
 * pruned with plain git, then the report opened from disk in Debian's Chromium. A node is
 * clicked on the canvas and its panel must show that node's diff (against its parent and the
 * root, as git has them) and its evaluations (as the notes have them, log tails included); the
 * pruned node must show as pruned; nothing may be fetched. Screenshots go to .tmp/report/.
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBrowser, openBrowser, openReport, type Browser } from '../helpers/browser.js';
import { evogit, git, makeRepo, removeDir, revParse } from '../helpers/repo.js';
import { demoRepo, nodeBranches, start } from '../loop/helpers.js';
import { readReport } from './helpers.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '..', '..', '.tmp', 'report');

interface NoteLine {
  node: string;
  task: string;
  outcome: string;
  log?: string;
  tests?: { passed: number; total: number };
}

/** Every evaluation line, log tails included, read with plain git. */
async function notes(repo: string): Promise<NoteLine[]> {
  const out: NoteLine[] = [];
  for (const ref of (await git(repo, ['for-each-ref', '--format=%(refname)', 'refs/notes/evogit/'])).split('\n').filter(Boolean)) {
    for (const entry of (await git(repo, ['notes', `--ref=${ref}`, 'list'])).split('\n').filter(Boolean)) {
      const [blob] = entry.split(' ');
      for (const line of (await git(repo, ['cat-file', 'blob', blob!])).split('\n')) if (line.startsWith('{')) out.push(JSON.parse(line) as NoteLine);
    }
  }
  return out;
}

/** A node with a child, so that deleting its branch leaves it in the archive as pruned; made by hand if the run left none. */
async function innerNode(repo: string, root: string): Promise<{ branch: string; sha: string }> {
  const branches = await nodeBranches(repo);
  const byCommit = new Map([...branches].map(([b, sha]) => [sha, b]));
  for (const line of (await git(repo, ['log', '--format=%H %P', '--branches=evo/*', `^${root}`])).split('\n').filter(Boolean)) {
    const parent = line.split(' ')[1]!;
    if (byCommit.has(parent)) return { branch: byCommit.get(parent)!, sha: parent };
  }
  const [branch, sha] = [...branches][0]!;
  const child = (await git(repo, ['commit-tree', `${sha}^{tree}`, '-p', sha, '-m', 'manual: a child made by hand'])).trim();
  await git(repo, ['update-ref', 'refs/heads/evo/manual/1', child]);
  return { branch, sha };
}

describeBrowser('evogit report of a real demo run, in Chromium', () => {
  let repo = '';
  let browser: Browser;
  let reportFile = '';
  let pruned = { branch: '', sha: '' };
  let mergedIn = '';
  let root = '';
  const liveVersions = new Set<string>();
  let torn = 0;

  beforeAll(async () => {
    await rm(ARTIFACTS, { recursive: true, force: true });
    await mkdir(ARTIFACTS, { recursive: true });
    repo = await demoRepo();
    const live = path.join(ARTIFACTS, 'live.html');
    const running = start(repo, ['run', '--agents', '2', '--agent', 'mutate', '--max-evals', '30', '--sandbox', 'local', '--seed', '5', '--report', live]);
    // Watch the live report while the agents work: every version read must be whole.
    let done = false;
    void running.exit.then(() => (done = true));
    while (!done) {
      const text = await readFile(live, 'utf8').catch(() => null);
      if (text !== null) {
        if (!text.endsWith('</html>\n')) torn++;
        liveVersions.add(String((await stat(live).catch(() => null))?.mtimeMs) + text.length);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const { code } = await running.exit;
    expect(code, running.stderr.join('\n')).toBe(0);
    liveVersions.add(String((await stat(live)).mtimeMs) + (await readFile(live, 'utf8')).length);
    root = await revParse(repo, 'evo/root');
    pruned = await innerNode(repo, root);
    await git(repo, ['branch', '-D', pruned.branch]);
    // A commit made outside evo/ and merged in by hand: a node with no branch and no writer.
    const [, tip] = [...(await nodeBranches(repo))][0]!;
    mergedIn = (await git(repo, ['commit-tree', `${root}^{tree}`, '-p', root, '-m', 'a fix made outside evo/'])).trim();
    const merge = (await git(repo, ['commit-tree', `${tip}^{tree}`, '-p', tip, '-p', mergedIn, '-m', 'Merge a fix made outside evo/'])).trim();
    await git(repo, ['update-ref', 'refs/heads/evo/bob/merged', merge]);
    reportFile = path.join(ARTIFACTS, 'demo-report.html');
    const made = await evogit(repo, ['report', '--out', reportFile, '--json']);
    expect(made.exitCode, made.stderr).toBe(0);
    browser = await openBrowser();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (repo) await removeDir(repo);
  });

  it('`evogit run --report` kept a whole, up-to-date file: the last version has every node and run', async () => {
    expect(torn).toBe(0);
    // At least the one written before the agents started and the one written after they stopped.
    expect(liveVersions.size).toBeGreaterThanOrEqual(2);
    const data = await readReport(path.join(ARTIFACTS, 'live.html'));
    const lines = await notes(repo);
    expect(data.nodes.reduce((s, n) => s + n.evaluations.length, 0)).toBe(lines.length);
    // The live report predates the prune: the pruned node still had its branch then.
    expect(data.nodes.find((n) => n.id === pruned.sha)?.branch).toBe(pruned.branch);
  });

  it('opens from disk, draws the archive, and asks for nothing but the file itself', async () => {
    await openReport(browser, reportFile);
    const page = browser.page;
    expect(new Set(browser.requests)).toEqual(new Set([`file://${reportFile}`]));
    expect(browser.errors).toEqual([]);
    const data = await readReport(reportFile);
    const branches = await nodeBranches(repo);
    // Every branch, the root, the pruned node (its branch gone, a descendant still reaches it)
    // and the commit merged in by hand.
    expect(data.nodes.length).toBe(branches.size + 3);
    expect(await page.textContent('.brand')).toContain(`${data.nodes.length} nodes`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'overview.png') });
  });

  it('clicking a node shows its diff against its parent and the root, and its evaluations with log tails', async () => {
    const page = browser.page;
    const lines = await notes(repo);
    const branches = await nodeBranches(repo);
    // The node with the most runs, among those whose diff against their parent is not empty.
    const counts = new Map<string, number>();
    for (const l of lines) if (l.node !== root) counts.set(l.node, (counts.get(l.node) ?? 0) + 1);
    const byRuns = [...branches].filter(([, sha]) => counts.has(sha)).sort((a, b) => counts.get(b[1])! - counts.get(a[1])!);
    expect(byRuns.length).toBeGreaterThan(0);
    const [branch, sha] = byRuns[0]!;
    const added = (await git(repo, ['diff', `${sha}^`, sha])).split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++') && l.trim().length > 1);
    expect(added.length).toBeGreaterThan(0);

    // Every node on screen (no folded chain hides it), then a real click on the canvas.
    await page.getByLabel('fold neutral chains').uncheck();
    const point = (await page.evaluate(`window.evogitReport.screenPoint(${JSON.stringify(branch)})`)) as { x: number; y: number } | null;
    expect(point, `${branch} is drawn on screen`).not.toBeNull();
    await page.mouse.click(point!.x, point!.y);
    const panel = page.locator('.node-panel');
    await expect.poll(() => panel.getAttribute('data-node')).toBe(sha);
    expect(await panel.locator('h2').textContent()).toContain(branch);

    // The diff against its parent: git's added lines, syntax-highlighted.
    const diffText = (await panel.locator('.diff').textContent())!.replace(/\s+/g, ' ');
    for (const l of added) expect(diffText).toContain(l.slice(1).trim().replace(/\s+/g, ' '));
    expect(await panel.locator('.diff [class^="hljs-"]').count()).toBeGreaterThan(0);
    // Against the root: the files git names.
    await panel.getByRole('button', { name: 'against the root' }).click();
    const rootFiles = (await git(repo, ['diff', '--name-only', root, sha])).split('\n').filter(Boolean).sort();
    const shown = (await panel.locator('.diff .d2h-file-name').allTextContents()).map((t) => t.trim()).sort();
    expect(shown).toEqual(rootFiles);

    // Its evaluations, per task, each run's outcome, and a log tail as the note keeps it.
    const mine = lines.filter((l) => l.node === sha);
    const tasks = [...new Set(mine.map((l) => l.task))];
    for (const task of tasks) {
      const runs = panel.locator(`.task[data-task="${task}"] details.run`);
      expect(await runs.count()).toBe(mine.filter((l) => l.task === task).length);
      expect(await runs.first().locator('summary').textContent()).toMatch(/ (pass|fail|error) /);
    }
    const first = mine.find((l) => l.log)!;
    const run0 = panel.locator(`.task[data-task="${first.task}"] details.run`).first();
    await run0.locator('summary').click();
    const tail = first.log!.trim().split('\n').at(-1)!;
    await expect.poll(() => run0.locator('pre.log').textContent()).toContain(tail);
    await page.screenshot({ path: path.join(ARTIFACTS, 'node.png') });
  });

  it('a pruned node shows as pruned', async () => {
    const page = browser.page;
    const point = (await page.evaluate(`window.evogitReport.screenPoint(${JSON.stringify(pruned.sha)})`)) as { x: number; y: number } | null;
    expect(point, 'the pruned node is drawn').not.toBeNull();
    await page.mouse.click(point!.x, point!.y);
    const panel = page.locator('.node-panel');
    await expect.poll(() => panel.getAttribute('data-node')).toBe(pruned.sha);
    expect(await panel.locator('h2').textContent()).toContain('(pruned)');
    expect(await panel.locator('.badge.pruned').textContent()).toBe('pruned');
    // The commands name it by SHA (its branch is gone) and offer no `git branch -D`.
    const commands = await panel.locator('pre.commands').textContent();
    expect(commands).toContain(`git diff evo/root ${pruned.sha}`);
    expect(commands).not.toContain('git branch -D');
    await page.screenshot({ path: path.join(ARTIFACTS, 'pruned.png') });
  });

  it('a commit merged in from outside evo/ shows with no branch, made by hand', async () => {
    const page = browser.page;
    const point = (await page.evaluate(`window.evogitReport.screenPoint(${JSON.stringify(mergedIn)})`)) as { x: number; y: number } | null;
    expect(point, 'the merged-in node is drawn').not.toBeNull();
    await page.mouse.click(point!.x, point!.y);
    const panel = page.locator('.node-panel');
    await expect.poll(() => panel.getAttribute('data-node')).toBe(mergedIn);
    expect(await panel.locator('h2').textContent()).toContain(`${mergedIn.slice(0, 12)} (no branch)`);
    expect(await panel.locator('.badge.pruned').count()).toBe(0);
    expect(await panel.locator('.muted').first().textContent()).toMatch(/^made by hand with manual · /);
  });

  it('search by branch or SHA selects the node; filters count the nodes that match', async () => {
    const page = browser.page;
    const [branch, sha] = [...(await nodeBranches(repo))].at(-1)!;
    await page.fill('input.search', branch);
    await page.press('input.search', 'Enter');
    await expect.poll(() => page.locator('.node-panel').getAttribute('data-node')).toBe(sha);
    await page.fill('input.search', root.slice(0, 10));
    await page.press('input.search', 'Enter');
    await expect.poll(() => page.locator('.node-panel').getAttribute('data-node')).toBe(root);

    const lines = await notes(repo);
    const passing = new Set(lines.filter((l) => l.outcome === 'pass').map((l) => l.node));
    const data = await readReport(reportFile);
    await page.selectOption('select[aria-label="outcome"]', 'pass');
    expect(await page.textContent('.match-count')).toBe(`${passing.size} of ${data.nodes.length} match`);
    await page.selectOption('select[aria-label="outcome"]', '');
    await page.getByRole('button', { name: 'Run' }).click();
    expect(await page.locator('.chart-box').count()).toBe(6);
    await page.screenshot({ path: path.join(ARTIFACTS, 'run.png') });
    expect(browser.errors).toEqual([]);
  });

  it('says what is wrong instead of writing a report', async () => {
    const bare = await makeRepo({ 'a.txt': 'a\n' });
    try {
      const none = await evogit(bare, ['report']);
      expect(none.exitCode).toBe(1);
      expect(none.stderr).toContain('E_NOT_INITIALISED');
      const dir = await evogit(bare, ['report', '--out', bare]);
      expect(dir.exitCode).toBe(1);
      expect(dir.stderr).toContain('E_REPORT_OUT');
    } finally {
      await removeDir(bare);
    }
  });
});

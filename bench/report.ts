/**
 * bench/report: how big `evogit report` files get and how a browser copes with them.
 *
 *   npm run build && npx tsx bench/report.ts [--nodes 1000,10000] [--keep]
 *
 * For each size, builds an archive shaped like a run on examples/demo (bench/report-archive.ts:
 * real files and one-line edits, 1–3 runs per node with TAP log tails, crossovers, pruned and
 * promoted nodes), then measures in the same run:
 *   - `evogit report` in a fresh process, against `evogit status --json` on the same archive
 *     (the reference: the same archive module's read, without the report's extra reads);
 *   - the file's size;
 *   - in Debian's Chromium (headless, software rendering, as tests run it): the load time from
 *     navigation to the first painted tree, three fresh loads;
 *   - responsiveness at the worst view (fitted, every node on screen): frame draw times while
 *     panning and zooming (the canvas work of each frame, from the viewer's own timer), and the
 *     time from a click to a painted node panel, for the deepest node and its diff against the root.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { run } from '../src/proc/index.js';
import { openBrowser, openReport } from '../test/helpers/browser.js';
import { buildDemoArchive } from './report-archive.js';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'evogit.js');

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;

async function timed(args: string[], cwd: string): Promise<number> {
  const t = performance.now();
  await run(process.execPath, [BIN, ...args], { cwd, timeoutMs: 30 * 60_000 });
  return performance.now() - t;
}

interface Figures {
  nodes: number;
  lines: number;
  statusMs: number;
  reportMs: number;
  bytes: number;
  loadMs: number[];
  panDraw: number[];
  zoomDraw: number[];
  clickMs: number;
  rootDiffMs: number;
}

/** Drag across the canvas and wheel in and out; the viewer's draw times of those frames. */
async function interact(page: Page): Promise<{ pan: number[]; zoom: number[] }> {
  const frames = async () => (await page.evaluate('window.evogitReport.frameMs.splice(0)')) as number[];
  await page.click('button:has-text("Fit")');
  await page.waitForTimeout(300);
  await frames();
  await page.mouse.move(300, 400);
  await page.mouse.down();
  for (let i = 0; i < 60; i++) {
    await page.mouse.move(300 + (i % 30) * 6, 400 + (i % 20) * 4);
    await page.waitForTimeout(16);
  }
  await page.mouse.up();
  await page.waitForTimeout(200);
  const pan = await frames();
  for (let i = 0; i < 30; i++) {
    await page.mouse.wheel(0, i < 15 ? -100 : 100);
    await page.waitForTimeout(30);
  }
  await page.waitForTimeout(200);
  return { pan, zoom: await frames() };
}

/** From a call to select() to the panel painted (two animation frames later), for the deepest node. */
async function panelTimes(page: Page): Promise<{ clickMs: number; rootDiffMs: number }> {
  return (await page.evaluate(`(async () => {
    const app = window.evogitReport.app;
    const m = app.model;
    let deepest = 0;
    for (let i = 0; i < m.nodes.length; i++) if (m.depth[i] > m.depth[deepest]) deepest = i;
    const painted = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    let t = performance.now();
    app.select(deepest, { center: true });
    await painted();
    const clickMs = performance.now() - t;
    const tab = [...document.querySelectorAll('.node-panel button.tab')].find((b) => b.textContent === 'against the root');
    t = performance.now();
    tab.click();
    await painted();
    return { clickMs, rootDiffMs: performance.now() - t };
  })()`)) as { clickMs: number; rootDiffMs: number };
}

async function measure(nodes: number, keep: boolean): Promise<Figures> {
  const dir = await mkdtemp(path.join(tmpdir(), 'evogit-bench-report-'));
  const repo = path.join(dir, 'repo');
  const say = (s: string) => process.stderr.write(`${s}\n`);
  const t = performance.now();
  const built = await buildDemoArchive(repo, nodes);
  say(`${nodes} nodes: built in ${((performance.now() - t) / 1000).toFixed(1)} s (${built.lines} evaluation lines, ${built.pruned} pruned)`);
  const file = path.join(dir, 'report.html');
  // Warm: the first status builds the archive's cache file, as the run that made the archive would have.
  await timed(['status', '--json'], repo);
  const status: number[] = [];
  const report: number[] = [];
  for (let i = 0; i < 3; i++) {
    status.push(await timed(['status', '--json'], repo));
    report.push(await timed(['report', '--out', file], repo));
  }
  const bytes = (await stat(file)).size;
  say(`  status ${status.map((x) => x.toFixed(0)).join(', ')} ms; report ${report.map((x) => x.toFixed(0)).join(', ')} ms; ${(bytes / 2 ** 20).toFixed(1)} MB`);
  const browser = await openBrowser({ width: 1440, height: 900 });
  const loadMs: number[] = [];
  let pan: number[] = [];
  let zoom: number[] = [];
  let panel = { clickMs: 0, rootDiffMs: 0 };
  try {
    for (let i = 0; i < 3; i++) {
      await openReport(browser, file);
      loadMs.push((await browser.page.evaluate('window.evogitReport.loadMs')) as number);
    }
    ({ pan, zoom } = await interact(browser.page));
    panel = await panelTimes(browser.page);
    if (browser.errors.length) throw new Error(`page errors: ${browser.errors.join('; ')}`);
  } finally {
    await browser.close();
  }
  say(`  load ${loadMs.map((x) => x.toFixed(0)).join(', ')} ms; pan frames ${pan.length}, zoom frames ${zoom.length}; panel ${panel.clickMs.toFixed(0)} ms, root diff ${panel.rootDiffMs.toFixed(0)} ms`);
  if (!keep) await rm(dir, { recursive: true, force: true });
  else say(`  kept ${dir}`);
  return { nodes: nodes + 1, lines: built.lines, statusMs: median(status), reportMs: median(report), bytes, loadMs, panDraw: pan, zoomDraw: zoom, ...panel };
}

async function main(): Promise<void> {
  const sizes = flag('nodes', '1000,10000').split(',').map(Number);
  const keep = process.argv.includes('--keep');
  const rows: Figures[] = [];
  for (const n of sizes) rows.push(await measure(n, keep));
  const chromium = (await run('/usr/bin/chromium', ['--version'], { cwd: tmpdir() })).stdout.trim();
  const out = [
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}, ${chromium} headless, software rendering`,
    '',
    '| nodes | evaluation lines | `evogit report` (median of 3) | `evogit status --json` | ratio | file | load to first paint (3 loads) | pan: draw ms median / p95 | zoom: draw ms median / p95 | click → panel | diff against the root |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.nodes} | ${r.lines} | ${(r.reportMs / 1000).toFixed(2)} s | ${(r.statusMs / 1000).toFixed(2)} s | ${(r.reportMs / r.statusMs).toFixed(2)}× | ${(r.bytes / 2 ** 20).toFixed(1)} MB | ${r.loadMs.map((x) => (x / 1000).toFixed(2)).join(' / ')} s | ${median(r.panDraw).toFixed(1)} / ${p95(r.panDraw).toFixed(1)} (${r.panDraw.length} frames) | ${median(r.zoomDraw).toFixed(1)} / ${p95(r.zoomDraw).toFixed(1)} (${r.zoomDraw.length} frames) | ${r.clickMs.toFixed(0)} ms | ${r.rootDiffMs.toFixed(0)} ms |`,
    ),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();

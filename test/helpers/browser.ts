/**
 * Debian's Chromium driven by playwright-core, started the way this machine (and CI, which
 * installs the `chromium` package) allows: headless, no sandbox (root), nothing that phones
 * home, and a fresh profile that is removed afterwards.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { describe, it } from 'vitest';

export const CHROMIUM = process.env.EVOGIT_CHROMIUM ?? '/usr/bin/chromium';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Every URL the page asked for, in order. */
  requests: string[];
  /** Uncaught errors and console errors of the page. */
  errors: string[];
  close: () => Promise<void>;
}

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

/**
 * A suite that needs the browser: skipped, saying so, where Chromium is not installed (a fresh
 * developer machine), and failed instead under EVOGIT_REQUIRE_BROWSER=1 (CI installs it).
 */
export function describeBrowser(name: string, fn: () => void): void {
  if (chromiumAvailable()) {
    describe(name, fn);
    return;
  }
  const why = `${CHROMIUM} not found: skipping "${name}" (apt-get install chromium; CI sets EVOGIT_REQUIRE_BROWSER=1 to make this a failure)`;
  if (process.env.EVOGIT_REQUIRE_BROWSER === '1') {
    describe(name, () => {
      it('needs Chromium (EVOGIT_REQUIRE_BROWSER=1)', () => {
        throw new Error(`EVOGIT_REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: "${name}" cannot run`);
      });
    });
    return;
  }
  process.stderr.write(`${why}\n`);
  describe.skip(`${name} — ${why}`, fn);
}

/** The profile directory is passed as --user-data-dir by playwright itself. */
export async function openBrowser(viewport = { width: 1440, height: 900 }): Promise<Browser> {
  if (!chromiumAvailable()) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium), as .ci/run does`);
  const profile = await mkdtemp(path.join(tmpdir(), 'evogit-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport });
  const page = context.pages()[0] ?? (await context.newPage());
  const requests: string[] = [];
  const errors: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return {
    context,
    page,
    requests,
    errors,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Open a report file and wait until the viewer has drawn it. */
export async function openReport(b: Browser, file: string): Promise<number> {
  const started = Date.now();
  await b.page.goto(`file://${file}`);
  // Page code is written as strings: these tests are typed without the DOM.
  await b.page.waitForFunction('document.documentElement.dataset.state !== undefined', null, { timeout: 60_000 });
  const state = await b.page.evaluate('document.documentElement.dataset.state');
  if (state !== 'ready') throw new Error(`the report did not load: ${await b.page.textContent('#app')}`);
  return Date.now() - started;
}

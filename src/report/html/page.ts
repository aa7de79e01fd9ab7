/**
 * One self-contained HTML file: the viewer's script and styles (bundled at build time by
 * scripts/build-viewer.mjs) and the report's data, gzipped and base64-encoded, inlined. No
 * request leaves the page: its Content-Security-Policy allows nothing to be fetched.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { EvogitError } from '../../errors/index.js';
import type { ReportData } from './data.js';

export interface ViewerAssets {
  js: string;
  css: string;
}

/** dist/report/viewer/ of this package, from src/report/html or dist/report/html alike. */
export function viewerDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dist', 'report', 'viewer');
}

let cached: ViewerAssets | null = null;

export async function viewerAssets(): Promise<ViewerAssets> {
  if (cached) return cached;
  const dir = viewerDir();
  try {
    cached = { js: await readFile(path.join(dir, 'viewer.js'), 'utf8'), css: await readFile(path.join(dir, 'viewer.css'), 'utf8') };
  } catch (e) {
    throw new EvogitError('E_REPORT_ASSETS', `the report viewer is not built (${dir} is missing)`, 'Run `npm run build` in the evogit checkout.', { cause: e });
  }
  return cached;
}

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:";

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A script's text must not close its own element early. */
const inlineScript = (js: string) => js.replace(/<\/(script)/gi, '<\\/$1');

/** Nodes per chunk of log tails: a chunk inflates in a few milliseconds when a log is opened. */
export const LOG_CHUNK = 256;

const packed = (value: unknown) => gzipSync(Buffer.from(JSON.stringify(value), 'utf8'), { level: 6 }).toString('base64');

export function reportHtml(data: ReportData, assets: ViewerAssets): string {
  const logs = data.nodes.map((n) => n.evaluations.map((e) => e.log ?? null));
  const slim: ReportData = {
    ...data,
    nodes: data.nodes.map((n) => ({ ...n, evaluations: n.evaluations.map(({ log: _log, ...e }) => e) })),
    logChunk: LOG_CHUNK,
  };
  const chunks: string[] = [];
  for (let from = 0; from < logs.length; from += LOG_CHUNK) {
    chunks.push(`<script type="application/gzip+base64" id="evogit-logs-${from / LOG_CHUNK}">${packed(logs.slice(from, from + LOG_CHUNK))}</script>`);
  }
  const title = `evogit · ${data.repository} · ${data.nodes.length} nodes`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="evogit report">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${assets.css.replace(/<\/(style)/gi, '<\\/$1')}</style>`,
    '</head>',
    '<body>',
    '<div id="app"><p class="loading">Loading the archive…</p></div>',
    `<script type="application/gzip+base64" id="evogit-data">${packed(slim)}</script>`,
    ...chunks,
    `<script>${inlineScript(assets.js)}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Write the file whole or not at all: a reader (a browser reloading) never sees half of it. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

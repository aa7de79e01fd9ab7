/**
 * One cold load of the archive in `dir` by the built evogit (dist/, as `evogit status` runs
 * it: plain node, no TypeScript loader), in this fresh process: the cache is deleted first,
 * and the cache write that follows the load is waited for. Prints one JSON line: load time,
 * peak RSS at the end of load() and after the cache write, and what was loaded.
 *
 *   node bench/archive-load.mjs DIR      (run `npm run build` first; bench/archive.ts calls this)
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node bench/archive-load.mjs DIR');
const built = join(import.meta.dirname, '..', 'dist', 'archive', 'index.js');
const { Archive } = await import(pathToFileURL(built).href).catch((e) => {
  throw new Error(`cannot load ${built}: run \`npm run build\` first (${e.message})`);
});
const baseRssKb = process.resourceUsage().maxRSS;
await rm(join(dir, '.git', 'evogit'), { recursive: true, force: true });
const t = performance.now();
const archive = await Archive.open({ repoDir: dir });
const snapshot = await archive.load();
const ms = performance.now() - t;
const rssAfterLoadKb = process.resourceUsage().maxRSS;
await archive.saveCache();
let evals = 0;
for (const lines of snapshot.evaluations.values()) evals += lines.length;
process.stdout.write(JSON.stringify({ ms, nodes: snapshot.nodes.length, evals, rssAfterLoadKb, maxRssKb: process.resourceUsage().maxRSS, baseRssKb, heapMb: process.memoryUsage().heapUsed / 1e6 }) + '\n');

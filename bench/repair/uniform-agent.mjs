#!/usr/bin/env node
/**
 * The uniform-random-edit baseline of bench/repair, run by evogit as a command agent:
 *
 *   node uniform-agent.mjs EVOGIT_CHECKOUT WORKTREE CONTEXT_FILE
 *
 * One edit drawn uniformly from every concrete edit of the mutate agent's operators in every
 * editable source file of the worktree (the same files the mutate agent may edit): no
 * targeting, no operator weights, no small-edit bias. Its seed is a hash of the context
 * file's path, which evogit makes unique per expansion.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [evogit, worktree, contextFile] = process.argv.slice(2);
if (!evogit || !worktree || !contextFile) {
  process.stderr.write('usage: uniform-agent.mjs EVOGIT_CHECKOUT WORKTREE CONTEXT_FILE\n');
  process.exit(2);
}
const load = (rel) => import(pathToFileURL(path.join(evogit, 'dist', rel)).href);
const mutate = await load('agents/mutate/index.js');
const { ALWAYS_PROTECTED } = await load('config/index.js');

let seed = 2166136261;
for (const ch of contextFile) seed = Math.imul(seed ^ ch.charCodeAt(0), 16777619) >>> 0;

const files = [];
for (const file of await mutate.listRepoFiles(worktree)) {
  const language = mutate.languageOfPath(file);
  if (!language || !mutate.isEditable(file, { protected: [...ALWAYS_PROTECTED], include: [] })) continue;
  files.push({ path: file, language, source: await readFile(path.join(worktree, file), 'utf8') });
}
const result = await mutate.searchEdits(files, { seed, maxEdits: 1, strategy: 'uniform' });
if (!result.ok) {
  process.stderr.write(`no edit: ${result.reason}\n`);
  process.exit(0);
}
for (const [file, source] of result.sources) await writeFile(path.join(worktree, file), source);
process.stdout.write(`${result.edits.map((e) => `${e.operator} ${e.file}:${e.line}: ${e.before} → ${e.after}`).join('\n')}\n`);

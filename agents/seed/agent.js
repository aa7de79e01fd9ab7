#!/usr/bin/env node
// evogit's seed coding agent: a small tool loop over an OpenAI-compatible chat endpoint.
// Node 20 standard library only. The contract is in README.md.
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

const env = process.env;
const MAX_STEPS = Number(env.EVOGIT_MAX_STEPS ?? 20);
const MAX_OUTPUT = 8000;
const SKIP_DIRS = new Set(['.git', 'node_modules', '.evogit']);

function log(line) {
  process.stderr.write(`[seed-agent] ${line}\n`);
}

function fail(message) {
  log(`error: ${message}`);
  process.exit(2);
}

const taskFile = env.EVOGIT_TASK_FILE;
if (!taskFile) fail('EVOGIT_TASK_FILE is not set');
const task = JSON.parse(readFileSync(taskFile, 'utf8'));
const workdir = path.resolve(task.workdir);
if (!env.EVOGIT_LLM_URL) fail('EVOGIT_LLM_URL is not set');

/** A path inside the workdir, or an error. */
function inside(rel) {
  const abs = path.resolve(workdir, String(rel ?? '.'));
  if (abs !== workdir && !abs.startsWith(workdir + path.sep)) throw new Error(`${rel} is outside the work dir`);
  return abs;
}

function cap(text) {
  return text.length > MAX_OUTPUT ? `${text.slice(0, MAX_OUTPUT)}\n[... ${text.length - MAX_OUTPUT} more characters]` : text;
}

function walk(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP_DIRS.has(entry.name)) continue;
    const abs = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(abs, out);
    else if (entry.isFile()) out.push(path.relative(workdir, abs));
  }
  return out;
}

const tools = {
  list_files(args) {
    return walk(inside(args.path)).sort().join('\n') || '(no files)';
  },
  read_file(args) {
    return cap(readFileSync(inside(args.path), 'utf8'));
  },
  search(args) {
    const re = new RegExp(String(args.pattern));
    const hits = [];
    for (const rel of walk(inside(args.path))) {
      const abs = path.join(workdir, rel);
      if (statSync(abs).size > 1_000_000) continue;
      readFileSync(abs, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (re.test(line)) hits.push(`${rel}:${i + 1}: ${line}`);
        });
    }
    return cap(hits.join('\n') || 'no match');
  },
  write_file(args) {
    const abs = inside(args.path);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, String(args.content));
    return `wrote ${args.path}`;
  },
  edit(args) {
    const abs = inside(args.path);
    const text = readFileSync(abs, 'utf8');
    const count = text.split(String(args.search)).length - 1;
    if (count !== 1) return `edit not applied: the search text occurs ${count} times in ${args.path} (it must occur exactly once)`;
    writeFileSync(abs, text.replace(String(args.search), () => String(args.replace)));
    return `edited ${args.path}`;
  },
  delete_file(args) {
    rmSync(inside(args.path));
    return `deleted ${args.path}`;
  },
  run(args) {
    const r = spawnSync('/bin/sh', ['-c', String(args.command)], { cwd: workdir, encoding: 'utf8', timeout: 60_000, env: { PATH: env.PATH, HOME: env.HOME } });
    return cap(`exit ${r.status ?? r.signal}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  },
};

const SYSTEM = `You are a careful coding agent working in a repository at ${workdir}.
Reply with exactly one JSON object per turn, inside a \`\`\`json fenced block, naming one tool:
  {"tool": "list_files", "path": "."}
  {"tool": "read_file", "path": "src/a.js"}
  {"tool": "search", "pattern": "regex", "path": "."}
  {"tool": "edit", "path": "src/a.js", "search": "exact old text", "replace": "new text"}
  {"tool": "write_file", "path": "src/a.js", "content": "whole file"}
  {"tool": "delete_file", "path": "src/a.js"}
  {"tool": "run", "command": "node --test"}
  {"tool": "done", "summary": "what you changed and why"}
Paths are relative to the repository. Make the smallest change that solves the problem.`;

/** The first JSON object of a reply: a fenced json block, else the outermost braces. */
export function parseAction(text) {
  const fenced = /```(?:json)?\s*\n([\s\S]*?)```/.exec(text);
  const body = fenced ? fenced[1] : text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
  const action = JSON.parse(body);
  if (typeof action !== 'object' || action === null || typeof action.tool !== 'string') throw new Error('the reply names no tool');
  return action;
}

function post(url, body) {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${env.EVOGIT_LLM_TOKEN ?? ''}` },
        timeout: 600_000,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no reply from the LLM endpoint')));
    req.on('error', reject);
    req.end(payload);
  });
}

async function chat(messages) {
  const url = `${env.EVOGIT_LLM_URL.replace(/\/+$/, '')}/chat/completions`;
  for (let attempt = 0; ; attempt++) {
    const res = await post(url, { model: env.EVOGIT_MODEL ?? 'default', max_tokens: 4096, messages });
    if (res.status === 200) return JSON.parse(res.text).choices[0].message.content;
    if (res.status === 402) throw new Error(`over budget: ${res.text}`);
    if (attempt >= 2 || (res.status < 500 && res.status !== 429)) throw new Error(`LLM endpoint answered ${res.status}: ${res.text.slice(0, 300)}`);
    await sleep(1000 * 2 ** attempt);
  }
}

async function main() {
  const messages = [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: `Problem:\n${task.problem}\n\nFiles:\n${tools.list_files({ path: '.' })}` },
  ];
  for (let step = 1; step <= MAX_STEPS; step++) {
    const reply = await chat(messages);
    messages.push({ role: 'assistant', content: reply });
    let action;
    try {
      action = parseAction(reply);
    } catch (e) {
      log(`step ${step}: unreadable reply (${e.message})`);
      messages.push({ role: 'user', content: `I could not read a tool call in your reply (${e.message}). Reply with one JSON object in a \`\`\`json block.` });
      continue;
    }
    if (action.tool === 'done') {
      log(`done after ${step} step(s): ${action.summary ?? ''}`);
      return 0;
    }
    const tool = tools[action.tool];
    let result;
    try {
      result = tool ? tool(action) : `unknown tool ${action.tool}`;
    } catch (e) {
      result = `error: ${e.message}`;
    }
    log(`step ${step}: ${action.tool} ${action.path ?? action.command ?? action.pattern ?? ''} -> ${String(result).split('\n')[0]}`);
    messages.push({ role: 'user', content: `Result of ${action.tool}:\n${result}` });
  }
  log(`stopped after ${MAX_STEPS} steps without "done"`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => fail(e.message),
);

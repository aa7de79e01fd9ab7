/**
 * A GitHub-API-compatible server on 127.0.0.1 for the endpoints the forge uses. Pull request
 * state lives in memory, every request is recorded, and every request is checked against
 * GitHub's published OpenAPI description (@octokit/openapi): the path and method must be a
 * documented operation, required parameters present, query values and the JSON body valid
 * against the operation's schemas. An invalid request gets a 422 and lands in `violations`,
 * which the tests assert empty. Failures (502s, rate limits) can be scripted.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { gitResult } from './repo.js';

// ---------------------------------------------------------------- the OpenAPI description

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

interface Spec {
  paths: Record<string, Record<string, JsonObject>>;
  components: JsonObject;
}

let spec: Spec | undefined;
let templates: { template: string; re: RegExp; literals: number; names: string[] }[] = [];

function loadSpec(): Spec {
  if (spec) return spec;
  const require = createRequire(import.meta.url);
  const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
  spec = JSON.parse(readFileSync(file, 'utf8')) as Spec;
  templates = Object.keys(spec.paths).map((template) => {
    const names: string[] = [];
    const re = new RegExp(
      '^' +
        template
          .split('/')
          .map((seg) => {
            const m = /^\{(.+)\}$/.exec(seg);
            if (!m) return seg.replace(/[.+*?^${}()|[\]\\]/g, '\\$&');
            names.push(m[1]!);
            return '([^/]+)';
          })
          .join('/') +
        '$',
    );
    return { template, re, names, literals: template.split('/').filter((s) => s && !s.startsWith('{')).length };
  });
  return spec;
}

function resolveRef(node: Json | undefined): Json | undefined {
  let cur = node;
  for (let i = 0; i < 20 && cur && typeof cur === 'object' && !Array.isArray(cur) && typeof cur.$ref === 'string'; i++) {
    const parts = cur.$ref.replace(/^#\//, '').split('/');
    let target: Json | undefined = loadSpec() as unknown as Json;
    for (const p of parts) {
      target = target && typeof target === 'object' && !Array.isArray(target) ? target[p.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    }
    cur = target;
  }
  return cur;
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * A focused JSON-Schema validator for what GitHub's description uses in request bodies:
 * $ref, type (incl. arrays of types), nullable, enum, required, properties,
 * additionalProperties, items, min/maxItems, min/maxLength, minimum/maximum, oneOf, anyOf, allOf.
 */
export function validate(schemaIn: Json | undefined, value: unknown, at = '$'): string[] {
  const schema = resolveRef(schemaIn);
  if (!isObject(schema)) return [];
  const errs: string[] = [];
  if (value === null && schema.nullable === true) return [];
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    const t = typeOf(value);
    const ok = types.some((x) => x === t || (x === 'number' && t === 'integer'));
    if (!ok) return [`${at}: expected ${types.join('|')}, got ${t}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === value)) {
    errs.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) errs.push(`${at}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) errs.push(`${at}: longer than ${schema.maxLength}`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errs.push(`${at}: below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errs.push(`${at}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) errs.push(`${at}: fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) errs.push(`${at}: more than ${schema.maxItems} items`);
    if (schema.items !== undefined) value.forEach((v, i) => errs.push(...validate(schema.items, v, `${at}[${i}]`)));
  }
  if (isObject(value)) {
    for (const r of Array.isArray(schema.required) ? (schema.required as string[]) : []) {
      if (!(r in value)) errs.push(`${at}: missing required property "${r}"`);
    }
    const props = isObject(schema.properties) ? schema.properties : {};
    for (const [k, v] of Object.entries(value)) {
      if (k in props) errs.push(...validate(props[k], v, `${at}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${at}: unknown property "${k}"`);
      else if (isObject(schema.additionalProperties)) errs.push(...validate(schema.additionalProperties, v, `${at}.${k}`));
    }
  }
  if (Array.isArray(schema.allOf)) for (const s of schema.allOf) errs.push(...validate(s, value, at));
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((s) => validate(s, value, at).length === 0)) {
    errs.push(`${at}: matches none of anyOf`);
  }
  if (Array.isArray(schema.oneOf)) {
    const n = schema.oneOf.filter((s) => validate(s, value, at).length === 0).length;
    if (n !== 1) errs.push(`${at}: matches ${n} of oneOf (exactly one needed)`);
  }
  return errs;
}

export interface OperationMatch {
  operationId: string;
  template: string;
  pathParams: Record<string, string>;
  violations: string[];
}

/** Check one request against the description. Returns the operation and every violation found. */
export function checkRequest(method: string, url: string, body: unknown): OperationMatch {
  const s = loadSpec();
  const u = new URL(url, 'http://x');
  const candidates = templates
    .map((t) => ({ t, m: t.re.exec(u.pathname) }))
    .filter((c) => c.m && s.paths[c.t.template]?.[method.toLowerCase()])
    .sort((a, b) => b.t.literals - a.t.literals);
  const best = candidates[0];
  if (!best || !best.m) {
    return { operationId: '', template: '', pathParams: {}, violations: [`${method} ${u.pathname}: no documented operation`] };
  }
  const pathItem = s.paths[best.t.template]!;
  const op = pathItem[method.toLowerCase()]!;
  const pathParams: Record<string, string> = {};
  best.t.names.forEach((n, i) => (pathParams[n] = decodeURIComponent(best.m![i + 1]!)));
  const violations: string[] = [];
  const params = [...((pathItem.parameters as Json[] | undefined) ?? []), ...((op.parameters as Json[] | undefined) ?? [])]
    .map((p) => resolveRef(p))
    .filter(isObject);
  for (const p of params) {
    const name = String(p.name);
    if (p.in === 'query') {
      const raw = u.searchParams.get(name);
      if (raw === null) {
        if (p.required === true) violations.push(`query parameter "${name}" is required`);
        continue;
      }
      const schema = resolveRef(p.schema);
      const t = isObject(schema) ? schema.type : undefined;
      const value = t === 'integer' || t === 'number' ? (/^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw) : t === 'boolean' ? (raw === 'true' ? true : raw === 'false' ? false : raw) : raw;
      violations.push(...validate(p.schema, value, `query.${name}`));
    } else if (p.in === 'path') {
      const v = pathParams[name];
      if (v === undefined || v === '') violations.push(`path parameter "${name}" is required`);
      else {
        const schema = resolveRef(p.schema);
        const value = isObject(schema) && schema.type === 'integer' && /^\d+$/.test(v) ? Number(v) : v;
        violations.push(...validate(p.schema, value, `path.${name}`));
      }
    }
  }
  const rb = resolveRef(op.requestBody);
  if (isObject(rb)) {
    const content = isObject(rb.content) ? rb.content : {};
    const json = content['application/json'];
    if (body === undefined) {
      if (rb.required === true) violations.push('a JSON request body is required');
    } else if (isObject(json)) {
      violations.push(...validate(json.schema, body, 'body'));
    }
  } else if (body !== undefined && method !== 'GET') {
    violations.push('this operation takes no request body');
  }
  return { operationId: String(op.operationId), template: best.t.template, pathParams, violations };
}

// ---------------------------------------------------------------- the server

export interface ServerRequest {
  method: string;
  path: string;
  operationId: string;
  body?: unknown;
  status: number;
  /** The raw Authorization header, kept so a test can assert the token was sent (and nowhere else). */
  authorization?: string;
}

export interface FakeLabel {
  id: number;
  name: string;
  color: string;
}

export interface FakePull {
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  head: string;
  base: string;
  labels: FakeLabel[];
  comments: string[];
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

export interface ScriptedFailure {
  status: 502 | 403 | 500 | 503;
  /** How many matching requests fail. */
  times: number;
  /** 403 as a primary rate limit: x-ratelimit-remaining 0 and a reset time. */
  rateLimit?: boolean;
  /** Seconds until the advertised reset (default 0: reset now). */
  resetInSeconds?: number;
  method?: string;
  /** Only requests whose path contains this. */
  pathIncludes?: string;
}

export interface GitHubServerOptions {
  token: string;
  owner: string;
  repo: string;
  defaultBranch?: string;
  /** A bare repository standing for the GitHub repo: PR heads must exist there and head.sha is read from it. */
  bareRepo?: string;
}

export interface GitHubServer {
  url: string;
  requests: ServerRequest[];
  violations: string[];
  pulls: FakePull[];
  fail(f: ScriptedFailure): void;
  close(): Promise<void>;
}

export async function startGitHubServer(opts: GitHubServerOptions): Promise<GitHubServer> {
  loadSpec();
  const { owner, repo } = opts;
  const defaultBranch = opts.defaultBranch ?? 'main';
  const requests: ServerRequest[] = [];
  const violations: string[] = [];
  const pulls: FakePull[] = [];
  const failures: ScriptedFailure[] = [];
  let nextId = 1000;
  let origin = '';

  async function branchSha(branch: string): Promise<string | null> {
    if (!opts.bareRepo) return '0'.repeat(40);
    const r = await gitResult(opts.bareRepo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`]);
    return r.exitCode === 0 ? r.stdout.trim() : null;
  }

  async function pullJson(p: FakePull) {
    return {
      id: p.number + 5000,
      node_id: `PR_${p.number}`,
      number: p.number,
      state: p.state,
      locked: false,
      title: p.title,
      body: p.body,
      user: { login: 'evogit-bot', id: 1, type: 'User' },
      labels: p.labels,
      html_url: `${origin}/${owner}/${repo}/pull/${p.number}`,
      url: `${origin}/repos/${owner}/${repo}/pulls/${p.number}`,
      head: { label: `${owner}:${p.head}`, ref: p.head, sha: (await branchSha(p.head)) ?? '0'.repeat(40), repo: { full_name: `${owner}/${repo}` } },
      base: { label: `${owner}:${p.base}`, ref: p.base, sha: (await branchSha(p.base)) ?? '0'.repeat(40), repo: { full_name: `${owner}/${repo}` } },
      draft: false,
      merged: false,
      created_at: p.created_at,
      updated_at: p.updated_at,
      closed_at: p.closed_at,
    };
  }

  function send(res: ServerResponse, status: number, data: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(data === undefined ? '' : JSON.stringify(data));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const record: ServerRequest = { method, path, operationId: '', status: 0, authorization: req.headers.authorization };
    requests.push(record);
    const reply = (status: number, data: unknown, headers?: Record<string, string>) => {
      record.status = status;
      send(res, status, data, headers);
    };

    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        violations.push(`${method} ${path}: body is not JSON`);
        return reply(400, { message: 'Problems parsing JSON' });
      }
      record.body = body;
    }
    const auth = req.headers.authorization ?? '';
    if (auth !== `token ${opts.token}` && auth !== `bearer ${opts.token}` && auth !== `Bearer ${opts.token}`) {
      return reply(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    }
    const check = checkRequest(method, path, body);
    record.operationId = check.operationId;
    if (check.violations.length > 0) {
      violations.push(...check.violations.map((v) => `${method} ${path}: ${v}`));
      return reply(422, { message: 'Invalid request.', errors: check.violations, documentation_url: 'https://docs.github.com/rest' });
    }
    const f = failures.find((x) => x.times > 0 && (!x.method || x.method === method) && (!x.pathIncludes || path.includes(x.pathIncludes)));
    if (f) {
      f.times--;
      if (f.rateLimit) {
        const reset = Math.floor(Date.now() / 1000) + (f.resetInSeconds ?? 0);
        return reply(
          403,
          { message: 'API rate limit exceeded for user ID 1.', documentation_url: 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting' },
          { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-used': '5000', 'x-ratelimit-reset': String(reset), 'x-ratelimit-resource': 'core' },
        );
      }
      return reply(f.status, { message: 'Server Error' });
    }
    if (check.pathParams.owner !== owner || check.pathParams.repo !== repo) return reply(404, { message: 'Not Found' });
    const q = new URL(path, 'http://x').searchParams;
    const pull = (n: string | undefined) => pulls.find((p) => p.number === Number(n));
    const now = () => new Date().toISOString();
    const b = (body ?? {}) as Record<string, unknown>;

    switch (check.operationId) {
      case 'repos/get':
        return reply(200, { id: 1, name: repo, full_name: `${owner}/${repo}`, owner: { login: owner }, private: false, default_branch: defaultBranch, html_url: `${origin}/${owner}/${repo}` });
      case 'pulls/list': {
        const state = q.get('state') ?? 'open';
        const head = q.get('head');
        const base = q.get('base');
        const all = pulls.filter((p) => (state === 'all' || p.state === state) && (!head || `${owner}:${p.head}` === head) && (!base || p.base === base));
        const perPage = Number(q.get('per_page') ?? 30);
        const page = Number(q.get('page') ?? 1);
        const slice = all.slice((page - 1) * perPage, page * perPage);
        const headers: Record<string, string> = {};
        if (page * perPage < all.length) {
          const next = new URL(path, origin);
          next.searchParams.set('page', String(page + 1));
          headers.link = `<${next.href}>; rel="next"`;
        }
        return reply(200, await Promise.all(slice.map(pullJson)), headers);
      }
      case 'pulls/get': {
        const p = pull(check.pathParams.pull_number);
        return p ? reply(200, await pullJson(p)) : reply(404, { message: 'Not Found' });
      }
      case 'pulls/create': {
        const head = String(b.head);
        const base = String(b.base);
        if ((await branchSha(head)) === null) return reply(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] });
        if ((await branchSha(base)) === null) return reply(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'base', code: 'invalid' }] });
        if (pulls.some((p) => p.state === 'open' && p.head === head && p.base === base)) {
          return reply(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${head}.` }] });
        }
        const p: FakePull = { number: pulls.length + 1, title: String(b.title), body: typeof b.body === 'string' ? b.body : null, state: 'open', head, base, labels: [], comments: [], created_at: now(), updated_at: now(), closed_at: null };
        pulls.push(p);
        return reply(201, await pullJson(p), { location: `${origin}/repos/${owner}/${repo}/pulls/${p.number}` });
      }
      case 'pulls/update': {
        const p = pull(check.pathParams.pull_number);
        if (!p) return reply(404, { message: 'Not Found' });
        if (typeof b.title === 'string') p.title = b.title;
        if (typeof b.body === 'string') p.body = b.body;
        if (b.state === 'closed' || b.state === 'open') {
          p.state = b.state;
          p.closed_at = b.state === 'closed' ? now() : null;
        }
        if (typeof b.base === 'string') p.base = b.base;
        p.updated_at = now();
        return reply(200, await pullJson(p));
      }
      case 'issues/add-labels': {
        const p = pull(check.pathParams.issue_number);
        if (!p) return reply(404, { message: 'Not Found' });
        const names = (Array.isArray(body) ? body : ((b.labels as unknown[]) ?? [])).map((l) => (typeof l === 'string' ? l : String((l as { name: string }).name)));
        for (const name of names) if (!p.labels.some((l) => l.name === name)) p.labels.push({ id: nextId++, name, color: 'ededed' });
        return reply(200, p.labels);
      }
      case 'issues/create-comment': {
        const p = pull(check.pathParams.issue_number);
        if (!p) return reply(404, { message: 'Not Found' });
        p.comments.push(String(b.body));
        const id = nextId++;
        return reply(201, { id, body: b.body, html_url: `${origin}/${owner}/${repo}/pull/${p.number}#issuecomment-${id}`, user: { login: 'evogit-bot' } });
      }
      default:
        violations.push(`${method} ${path}: documented as ${check.operationId} but not implemented by the test server`);
        return reply(501, { message: `not implemented: ${check.operationId}` });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      violations.push(`server error: ${e instanceof Error ? e.stack : String(e)}`);
      if (!res.headersSent) send(res, 500, { message: 'test server crashed' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    requests,
    violations,
    pulls,
    fail: (f) => failures.push({ ...f }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

/**
 * The host-side LLM proxy. Agents that run inside a sandbox get only this proxy's URL and a
 * per-node token, never a key: the proxy authenticates the token, meters tokens and cost per
 * node against the node's budget (refusing past it with HTTP 402), adds the real credentials
 * and forwards to the upstream. It speaks OpenAI `/v1/chat/completions` and Anthropic
 * `/v1/messages` (non-streaming).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { costOf, estimatePromptTokens, planCall, type Budget, type Price } from '../llm/budget.js';
import { scrubSecrets } from '../llm/chat.js';

export type ProxyProtocol = 'openai' | 'anthropic';

export interface ProxyUpstream {
  protocol: ProxyProtocol;
  /** OpenAI: the base including /v1 (https://api.openai.com/v1); Anthropic: without it. */
  baseUrl: string;
  apiKey: string;
}

export interface LlmProxyOptions {
  upstreams: ProxyUpstream[];
  /** USD per million tokens by model name. */
  prices?: Record<string, Price>;
  /** Upstream request timeout. Default 10 minutes. */
  timeoutMs?: number;
  /** Largest request body accepted. Default 8 MiB. */
  maxBodyBytes?: number;
  port?: number;
}

export interface NodeUsage {
  nodeId: string;
  budget: Budget;
  input: number;
  output: number;
  cost: number;
  requests: number;
  refused: number;
}

export interface LlmProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  /** What an OpenAI-compatible client inside the sandbox uses as its base URL. */
  openaiBaseUrl: string;
  /** What the Anthropic SDK uses as its base URL. */
  anthropicBaseUrl: string;
  /** A new token for the node; calls with it are metered against `budget`. */
  issueToken(nodeId: string, budget?: Budget): string;
  revoke(token: string): void;
  usage(nodeId: string): NodeUsage | undefined;
  close(): Promise<void>;
}

const DEFAULT_BASE: Record<ProxyProtocol, string> = { openai: 'https://api.openai.com/v1', anthropic: 'https://api.anthropic.com' };

/** The upstream from the `agents.llm` config; the key comes from the environment only. */
export function upstreamFromConfig(
  llm: { provider: ProxyProtocol; baseUrl?: string | undefined; apiKeyEnv: string },
  env: NodeJS.ProcessEnv = process.env,
): ProxyUpstream {
  return { protocol: llm.provider, baseUrl: llm.baseUrl ?? DEFAULT_BASE[llm.provider], apiKey: env[llm.apiKeyEnv] ?? '' };
}

function errorJson(protocol: ProxyProtocol | null, type: string, message: string): string {
  const body = protocol === 'anthropic' ? { type: 'error', error: { type, message } } : { error: { message, type, code: type } };
  return JSON.stringify(body);
}

function callerToken(req: http.IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim();
  const key = req.headers['x-api-key'];
  return typeof key === 'string' ? key.trim() : null;
}

function promptTexts(protocol: ProxyProtocol, body: Record<string, unknown>): string[] {
  const texts: string[] = [];
  if (protocol === 'anthropic' && body.system !== undefined) texts.push(typeof body.system === 'string' ? body.system : JSON.stringify(body.system));
  for (const m of Array.isArray(body.messages) ? (body.messages as { content?: unknown }[]) : []) {
    texts.push(typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? ''));
  }
  return texts;
}

function usageOf(protocol: ProxyProtocol, body: unknown): { input: number; output: number } | null {
  if (typeof body !== 'object' || body === null) return null;
  const u = (body as { usage?: Record<string, unknown> }).usage;
  if (!u) return null;
  const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return protocol === 'openai' ? { input: num(u.prompt_tokens), output: num(u.completion_tokens) } : { input: num(u.input_tokens), output: num(u.output_tokens) };
}

export async function startLlmProxy(options: LlmProxyOptions): Promise<LlmProxy> {
  const upstreams = new Map(options.upstreams.map((u) => [u.protocol, u]));
  const secrets = options.upstreams.map((u) => u.apiKey);
  const scrub = (s: string): string => scrubSecrets(s, secrets);
  const tokens = new Map<string, string>();
  const accounts = new Map<string, NodeUsage & { reserved: { tokens: number; cost: number } }>();
  const maxBody = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 600_000;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
    const protocol: ProxyProtocol | null = path === '/v1/chat/completions' ? 'openai' : path === '/v1/messages' ? 'anthropic' : null;
    const reply = (status: number, body: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
    };
    if (req.method !== 'POST' || !protocol) return reply(404, errorJson(protocol, 'not_found', `the evogit proxy serves POST /v1/chat/completions and POST /v1/messages, not ${req.method} ${path}`));
    const token = callerToken(req);
    const nodeId = token ? tokens.get(token) : undefined;
    const account = nodeId ? accounts.get(nodeId) : undefined;
    if (!account) return reply(401, errorJson(protocol, 'authentication_error', 'missing or invalid evogit proxy token'));
    const upstream = upstreams.get(protocol);
    if (!upstream) return reply(404, errorJson(protocol, 'not_found', `the evogit proxy has no ${protocol} upstream configured`));

    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBody) return reply(413, errorJson(protocol, 'request_too_large', `request body over ${maxBody} bytes`));
      chunks.push(chunk as Buffer);
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return reply(400, errorJson(protocol, 'invalid_request_error', 'request body is not a JSON object'));
    }
    if (body.stream === true) return reply(400, errorJson(protocol, 'invalid_request_error', 'streaming is not supported by the evogit proxy: send stream: false'));

    const model = typeof body.model === 'string' ? body.model : '';
    const price = options.prices?.[model];
    const promptTokens = estimatePromptTokens(promptTexts(protocol, body));
    const capField = protocol === 'openai' && body.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens';
    const asked = typeof body[capField] === 'number' ? (body[capField] as number) : Number.POSITIVE_INFINITY;
    const spent = {
      input: account.input + account.reserved.tokens,
      output: account.output,
      cost: account.cost + account.reserved.cost,
    };
    const plan = planCall({ spent, promptTokens, maxTokens: Number.isFinite(asked) ? asked : 1_000_000, budget: account.budget, price, minOutput: 1 });
    if (!plan.ok) {
      account.refused++;
      return reply(402, errorJson(protocol, 'budget_exceeded', `node ${account.nodeId} is over its budget: ${plan.reason}`));
    }
    // Cap the reply so that it cannot take the node past its budget.
    if (plan.maxTokens < asked && (account.budget.maxTokens !== undefined || (account.budget.maxCostUsd !== undefined && price))) body[capField] = plan.maxTokens;
    const reservation = { tokens: promptTokens + (typeof body[capField] === 'number' ? (body[capField] as number) : 0), cost: 0 };
    reservation.cost = costOf({ input: promptTokens, output: reservation.tokens - promptTokens }, price);
    account.reserved.tokens += reservation.tokens;
    account.reserved.cost += reservation.cost;
    account.requests++;

    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    let target: string;
    if (protocol === 'openai') {
      target = `${upstream.baseUrl.replace(/\/+$/, '')}/chat/completions`;
      if (upstream.apiKey) headers.authorization = `Bearer ${upstream.apiKey}`;
    } else {
      target = `${upstream.baseUrl.replace(/\/+$/, '')}/v1/messages`;
      if (upstream.apiKey) headers['x-api-key'] = upstream.apiKey;
      headers['anthropic-version'] = typeof req.headers['anthropic-version'] === 'string' ? req.headers['anthropic-version'] : '2023-06-01';
      if (typeof req.headers['anthropic-beta'] === 'string') headers['anthropic-beta'] = req.headers['anthropic-beta'];
    }
    try {
      const upstreamRes = await fetch(target, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
      const text = await upstreamRes.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        // Not JSON: passed back as it is (scrubbed); nothing to meter.
        json = null;
      }
      const usage = upstreamRes.ok ? usageOf(protocol, json) : null;
      if (usage) {
        account.input += usage.input;
        account.output += usage.output;
        account.cost += costOf(usage, price);
      }
      const pass: Record<string, string> = { 'content-type': upstreamRes.headers.get('content-type') ?? 'application/json' };
      for (const h of ['retry-after', 'retry-after-ms']) {
        const v = upstreamRes.headers.get(h);
        if (v) pass[h] = v;
      }
      reply(upstreamRes.status, scrub(text), pass);
    } catch (e) {
      const why = e instanceof Error && e.name === 'TimeoutError' ? `no reply within ${timeoutMs} ms` : scrub(e instanceof Error ? e.message : String(e));
      reply(502, errorJson(protocol, 'upstream_error', `the evogit proxy could not reach the upstream: ${why}`));
    } finally {
      account.reserved.tokens -= reservation.tokens;
      account.reserved.cost -= reservation.cost;
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      // A bug in the handler must not leave the caller hanging nor echo a key.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(errorJson(null, 'proxy_error', scrub(e instanceof Error ? e.message : String(e))));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    issueToken(nodeId, budget = {}) {
      const token = `evp-${randomBytes(24).toString('base64url')}`;
      tokens.set(token, nodeId);
      const existing = accounts.get(nodeId);
      if (existing) existing.budget = budget;
      else accounts.set(nodeId, { nodeId, budget, input: 0, output: 0, cost: 0, requests: 0, refused: 0, reserved: { tokens: 0, cost: 0 } });
      return token;
    },
    revoke(token) {
      tokens.delete(token);
    },
    usage(nodeId) {
      const a = accounts.get(nodeId);
      if (!a) return undefined;
      const { reserved: _reserved, ...usage } = a;
      return { ...usage, budget: { ...usage.budget } };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

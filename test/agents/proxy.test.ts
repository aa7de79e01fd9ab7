/**
 * The LLM proxy between a real client (the official SDKs, raw fetch, the llm agent) and a
 * real upstream (the loopback llm-server): tokens, metering, budgets, and the key.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LlmAgent } from '../../src/agents/llm/index.js';
import { startLlmProxy, upstreamFromConfig, type LlmProxy } from '../../src/agents/proxy/index.js';
import { startLlmServer, type LlmServer } from '../helpers/llm-server.js';
import { agentInput, config, readAllFiles, tempRepo } from './llm-fixtures.js';

const REAL_KEY = 'sk-test-SECRET123';

describe('llm proxy', () => {
  let upstream: LlmServer;
  let proxy: LlmProxy;

  afterEach(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  async function setup(): Promise<void> {
    upstream = await startLlmServer();
    proxy = await startLlmProxy({
      upstreams: [
        { protocol: 'openai', baseUrl: upstream.openaiBaseUrl, apiKey: REAL_KEY },
        { protocol: 'anthropic', baseUrl: upstream.anthropicBaseUrl, apiKey: REAL_KEY },
      ],
      prices: { gpt: { input: 1, output: 4 } },
    });
  }

  const chat = (token: string | null, body: unknown = { model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }): Promise<Response> =>
    fetch(`${proxy.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });

  it('forwards with the real key, meters tokens and cost per node, and never returns the key', async () => {
    await setup();
    upstream.enqueue({ text: 'hello', usage: { input: 1000, output: 250 } });
    const token = proxy.issueToken('node-a', { maxCostUsd: 1 });
    const client = new OpenAI({ apiKey: token, baseURL: proxy.openaiBaseUrl, maxRetries: 0 });
    const raw = await client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(raw.data.choices[0]!.message.content).toBe('hello');
    const seen = upstream.requests[0]!;
    expect(seen.headers.authorization).toBe(`Bearer ${REAL_KEY}`);
    expect(JSON.stringify(seen.headers)).not.toContain(token);
    expect(JSON.stringify(Object.fromEntries(raw.response.headers))).not.toContain(REAL_KEY);
    expect(proxy.usage('node-a')).toMatchObject({ input: 1000, output: 250, requests: 1, refused: 0 });
    expect(proxy.usage('node-a')!.cost).toBeCloseTo((1000 * 1 + 250 * 4) / 1e6, 12);
  });

  it('refuses a request without a token or with a wrong or revoked one, and never calls upstream', async () => {
    await setup();
    for (const token of [null, 'evp-not-issued', REAL_KEY]) {
      const res = await chat(token);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/invalid evogit proxy token/);
    }
    const token = proxy.issueToken('node-b');
    proxy.revoke(token);
    expect((await chat(token)).status).toBe(401);
    expect(upstream.requests).toHaveLength(0);
  });

  it('refuses past the node budget with 402 and a clear JSON error, and caps max_tokens inside it', async () => {
    await setup();
    const token = proxy.issueToken('node-c', { maxTokens: 1500 });
    upstream.enqueue({ text: 'one', usage: { input: 1000, output: 495 } });
    const first = await chat(token, { model: 'gpt', max_tokens: 4000, messages: [{ role: 'user', content: 'hi' }] });
    expect(first.status).toBe(200);
    // The proxy lowered max_tokens to what the budget could still pay for.
    expect((upstream.requests[0]!.body as { max_tokens: number }).max_tokens).toBeLessThan(1500);
    const second = await chat(token);
    expect(second.status).toBe(402);
    const err = (await second.json()) as { error: { type: string; message: string } };
    expect(err.error.type).toBe('budget_exceeded');
    expect(err.error.message).toMatch(/node-c is over its budget: token budget: 1495 of 1500 used/);
    expect(upstream.requests).toHaveLength(1);
    expect(proxy.usage('node-c')).toMatchObject({ input: 1000, output: 495, requests: 1, refused: 1 });
    // Another node's budget is its own.
    upstream.enqueue({ text: 'fine' });
    expect((await chat(proxy.issueToken('node-d', { maxTokens: 1500 }))).status).toBe(200);
  });

  it('refuses past a cost budget', async () => {
    await setup();
    const token = proxy.issueToken('node-e', { maxCostUsd: 0.001 });
    upstream.enqueue({ text: 'pricey', usage: { input: 600, output: 100 } });
    expect((await chat(token)).status).toBe(200);
    expect(proxy.usage('node-e')!.cost).toBeCloseTo(0.001, 9);
    expect((await chat(token)).status).toBe(402);
  });

  it('scrubs the key from an upstream error that echoes it, and passes Retry-After', async () => {
    await setup();
    upstream.enqueue({ status: 429, headers: { 'retry-after': '3' }, body: { error: { message: `rate limited for key ${REAL_KEY}` } } });
    const res = await chat(proxy.issueToken('node-f'));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    const text = await res.text();
    expect(text).not.toContain(REAL_KEY);
    expect(text).toContain('[redacted]');
  });

  it('passes Anthropic /v1/messages with x-api-key added', async () => {
    await setup();
    upstream.enqueue({ text: 'bonjour', usage: { input: 50, output: 7 } });
    const token = proxy.issueToken('node-g');
    const client = new Anthropic({ apiKey: token, baseURL: proxy.anthropicBaseUrl, maxRetries: 0 });
    const msg = await client.messages.create({ model: 'claude-x', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'bonjour' });
    const seen = upstream.requests[0]!;
    expect(seen.path).toBe('/v1/messages');
    expect(seen.headers['x-api-key']).toBe(REAL_KEY);
    expect(seen.headers['anthropic-version']).toBeTruthy();
    expect(proxy.usage('node-g')).toMatchObject({ input: 50, output: 7 });
  });

  it('serves the llm agent, which holds only the proxy URL and the node token', async () => {
    upstream = await startLlmServer();
    process.env.EVOGIT_TEST_REAL_KEY = REAL_KEY;
    const repo = await tempRepo({ 'src/calc.js': 'export const add = (a, b) => a - b;\n' });
    try {
      const llm = { provider: 'openai' as const, baseUrl: upstream.openaiBaseUrl, apiKeyEnv: 'EVOGIT_TEST_REAL_KEY' };
      proxy = await startLlmProxy({ upstreams: [upstreamFromConfig(llm)] });
      const token = proxy.issueToken('node-h', { maxTokens: 50_000 });
      upstream.enqueue({ text: 'src/calc.js\n<<<<<<< SEARCH\nexport const add = (a, b) => a - b;\n=======\nexport const add = (a, b) => a + b;\n>>>>>>> REPLACE\n' });
      const cfg = config({ agents: { llm: { baseUrl: proxy.openaiBaseUrl, model: 'gpt', apiKeyEnv: 'EVOGIT_NODE_TOKEN' } } });
      const input = await agentInput(repo.dir, { config: cfg, budget: { maxTokens: 50_000 } });
      const out = await new LlmAgent({ env: { EVOGIT_NODE_TOKEN: token } }).propose(input);
      expect(out.outcome).toBe('edited');
      expect(await readFile(path.join(repo.dir, 'src/calc.js'), 'utf8')).toContain('a + b');
      expect(upstream.requests[0]!.headers.authorization).toBe(`Bearer ${REAL_KEY}`);
      expect(await readAllFiles(input.transcriptDir)).not.toContain(REAL_KEY);
      expect(proxy.usage('node-h')!.requests).toBe(1);
    } finally {
      delete process.env.EVOGIT_TEST_REAL_KEY;
      await repo.cleanup();
    }
  });
});

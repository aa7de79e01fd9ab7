/**
 * The llm agent against real loopback servers speaking the OpenAI and Anthropic protocols,
 * through the official SDKs, editing a real temp git repository.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LlmAgent, type LlmTranscript } from '../../src/agents/llm/index.js';
import type { AgentInput, AgentOutput } from '../../src/agents/types.js';
import { startLlmServer, type LlmServer, type Protocol } from '../helpers/llm-server.js';
import { agentInput, config, readAllFiles, tempRepo, type TempRepo } from './llm-fixtures.js';

const KEY = 'sk-test-SECRET123';
const KEY_ENV = 'EVOGIT_TEST_LLM_KEY';

const CALC = 'export function add(a, b) {\n  return a - b;\n}\n\nexport function mul(a, b) {\n  return a * b;\n}\n';
const TEST = "import { add } from '../src/calc.js';\nif (add(1, 2) !== 3) throw new Error('expected 3');\n";
const LOG = "Error: expected 3\n    at file:///app/test/calc.test.js:2:27\n    at add (/app/src/calc.js:2:12)\n";

const FIX = ['SUMMARY: add adds instead of subtracting', 'The sign is wrong.', 'src/calc.js', '<<<<<<< SEARCH', '  return a - b;', '=======', '  return a + b;', '>>>>>>> REPLACE'].join('\n');
const WRONG = ['SUMMARY: fix add', 'src/calc.js', '<<<<<<< SEARCH', 'function add(x, y) {', '  return x - y;', '=======', 'function add(x, y) {', '  return x + y;', '>>>>>>> REPLACE'].join('\n');

beforeAll(() => {
  process.env[KEY_ENV] = KEY;
});
afterAll(() => {
  delete process.env[KEY_ENV];
});

for (const protocol of ['openai', 'anthropic'] as Protocol[]) {
  describe(`llm agent over the ${protocol} protocol`, () => {
    let server: LlmServer;
    let repo: TempRepo;

    afterEach(async () => {
      await server?.close();
      await repo?.cleanup();
    });

    async function setup(llm: Record<string, unknown> = {}, extra: Partial<AgentInput> = {}): Promise<AgentInput> {
      server = await startLlmServer();
      repo = await tempRepo({ 'src/calc.js': CALC, 'test/calc.test.js': TEST, 'README.md': '# calc\n' });
      const cfg = config({
        agents: {
          kind: 'llm',
          llm: {
            provider: protocol,
            baseUrl: protocol === 'openai' ? server.openaiBaseUrl : server.anthropicBaseUrl,
            model: 'test-model',
            apiKeyEnv: KEY_ENV,
            maxRounds: 2,
            retries: 2,
            timeout: '5s',
            ...llm,
          },
        },
      });
      return agentInput(repo.dir, { config: cfg, failingLogs: [{ task: 'test/calc.test.js', log: LOG }], ...extra });
    }

    const agent = new LlmAgent({ retry: { baseDelayMs: 20, maxDelayMs: 200 } });

    async function propose(input: AgentInput): Promise<{ out: AgentOutput; transcript: LlmTranscript }> {
      const out = await agent.propose(input);
      // The key never appears in the output, the transcript or any other file beside it.
      expect(JSON.stringify(out)).not.toContain(KEY);
      expect(await readAllFiles(input.transcriptDir)).not.toContain(KEY);
      const transcript = JSON.parse(await readFile(out.transcript!, 'utf8')) as LlmTranscript;
      expect(transcript.outcome).toBe(out.outcome);
      return { out, transcript };
    }

    const calc = (): Promise<string> => readFile(path.join(repo.dir, 'src/calc.js'), 'utf8');

    it('lands a correct edit, sends the key only in the auth header, shows the model the failing file', async () => {
      const input = await setup();
      server.enqueue({ text: FIX, usage: { input: 1200, output: 80 } });
      const { out, transcript } = await propose(input);
      expect(out).toMatchObject({ outcome: 'edited', operator: 'llm', model: 'test-model', tokens: { input: 1200, output: 80 } });
      expect(out.message.split('\n')[0]).toBe('add adds instead of subtracting');
      expect(await calc()).toBe(CALC.replace('a - b', 'a + b'));
      expect(server.requests).toHaveLength(1);
      const req = server.requests[0]!;
      if (protocol === 'openai') expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
      // The Anthropic SDK sends an apiKey as x-api-key (older) or as a bearer token (1.x).
      else expect([KEY, `Bearer ${KEY}`]).toContain(req.headers['x-api-key'] ?? req.headers.authorization);
      expect(req.rawBody).not.toContain(KEY);
      expect(req.rawBody).toContain('return a - b;');
      expect(req.rawBody).toContain('expected 3');
      expect(req.rawBody).toContain('src/calc.js (');
      expect(transcript.rounds[0]!.blocks).toEqual([{ path: 'src/calc.js', status: 'applied', how: 'exact' }]);
      expect(transcript.changedFiles).toEqual(['src/calc.js']);
    });

    it('a garbled reply (no blocks) ends as no-edit after the rounds, with nothing changed', async () => {
      const input = await setup({ maxRounds: 1 });
      server.enqueue({ text: 'I believe the problem is in add, you should fix it.' }, { text: 'Sure! The function add is wrong.' });
      const { out, transcript } = await propose(input);
      expect(out.outcome).toBe('no-edit');
      expect(out.reason).toMatch(/no SEARCH\/REPLACE edit blocks after 2 round/);
      expect(server.requests).toHaveLength(2);
      expect(JSON.stringify(server.requests[1]!.body)).toContain('contained no SEARCH/REPLACE blocks');
      expect(transcript.changedFiles).toEqual([]);
      expect(await calc()).toBe(CALC);
    });

    it('sends a mismatched edit back with the nearest text and lands the corrected one', async () => {
      const input = await setup();
      server.enqueue({ text: WRONG }, { text: FIX });
      const { out, transcript } = await propose(input);
      expect(out.outcome).toBe('edited');
      expect(await calc()).toBe(CALC.replace('a - b', 'a + b'));
      const feedback = JSON.stringify(server.requests[1]!.body);
      expect(feedback).toContain('does not match');
      expect(feedback).toContain('lines 1-2');
      expect(feedback).toContain('export function add(a, b) {');
      expect(transcript.rounds.map((r) => r.blocks.map((b) => b.status))).toEqual([['failed'], ['applied']]);
    });

    it('mismatched edits after all rounds end as no-edit', async () => {
      const input = await setup({ maxRounds: 1 });
      server.enqueue({ text: WRONG }, { text: WRONG });
      const { out } = await propose(input);
      expect(out.outcome).toBe('no-edit');
      expect(out.reason).toMatch(/1 edit block\(s\) could not be applied after 2 round/);
      expect(await calc()).toBe(CALC);
    });

    it('refuses an edit to a protected test file and tells the model', async () => {
      const input = await setup();
      const cheat = ['test/calc.test.js', '<<<<<<< SEARCH', "if (add(1, 2) !== 3) throw new Error('expected 3');", '=======', '', '>>>>>>> REPLACE'].join('\n');
      server.enqueue({ text: cheat }, { text: FIX });
      const { out, transcript } = await propose(input);
      expect(out.outcome).toBe('edited');
      expect(transcript.rounds[0]!.blocks[0]).toMatchObject({ path: 'test/calc.test.js', status: 'refused' });
      expect(JSON.stringify(server.requests[1]!.body)).toContain('is protected');
      expect(await readFile(path.join(repo.dir, 'test/calc.test.js'), 'utf8')).toBe(TEST);
    });

    it('retries a 429 after the Retry-After it was given, then succeeds', async () => {
      const input = await setup();
      server.enqueue({ status: 429, headers: { 'retry-after': '1' } }, { text: FIX });
      const started = Date.now();
      const { out, transcript } = await propose(input);
      expect(out.outcome).toBe('edited');
      expect(server.requests).toHaveLength(2);
      expect(server.requests[1]!.time - server.requests[0]!.time).toBeGreaterThanOrEqual(950);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(transcript.events.filter((e) => e.type === 'retry')).toHaveLength(1);
      expect(transcript.events[0]!.message).toMatch(/429/);
    });

    it('a 500 forever fails after retries+1 attempts with the reason recorded', async () => {
      const input = await setup();
      server.enqueue({ status: 500 }, { status: 500 }, { status: 502 });
      const { out } = await propose(input);
      expect(out.outcome).toBe('failed');
      expect(out.reason).toMatch(/HTTP 50[02].*after 3 attempts/);
      expect(server.requests).toHaveLength(3);
      expect(await calc()).toBe(CALC);
    });

    it('a reply slower than the timeout fails as a timeout', async () => {
      const input = await setup({ timeout: '300ms', retries: 1 });
      server.enqueue({ text: FIX, delayMs: 3000 }, { text: FIX, delayMs: 3000 });
      const started = Date.now();
      const { out } = await propose(input);
      expect(out.outcome).toBe('failed');
      expect(out.reason).toMatch(/no reply within 300 ms after 2 attempts/);
      expect(Date.now() - started).toBeLessThan(2500);
      expect(await calc()).toBe(CALC);
    });

    it('stops before exceeding the token budget', async () => {
      const input = await setup({}, { budget: { maxTokens: 20_000 } });
      server.enqueue({ text: WRONG, usage: { input: 19_000, output: 900 } }, { text: FIX });
      const { out, transcript } = await propose(input);
      expect(out.outcome).toBe('failed');
      expect(out.reason).toMatch(/budget/);
      expect(server.requests).toHaveLength(1);
      expect(out.tokens).toEqual({ input: 19_000, output: 900 });
      expect(transcript.events.some((e) => e.type === 'budget')).toBe(true);
      // The first call's output was capped to what the budget had left.
      const sent = server.requests[0]!.body as { max_tokens: number };
      expect(sent.max_tokens).toBeLessThanOrEqual(4096);
    });

    it('scrubs the key from an error body that echoes it', async () => {
      const input = await setup();
      const message = `Incorrect API key provided: ${KEY}`;
      server.enqueue({ status: 401, body: protocol === 'openai' ? { error: { message, type: 'invalid_request_error' } } : { type: 'error', error: { type: 'authentication_error', message } } });
      const { out } = await propose(input);
      expect(out.outcome).toBe('failed');
      expect(out.reason).toMatch(/HTTP 401/);
      expect(out.reason).toContain('[redacted]');
      expect(server.requests).toHaveLength(1);
    });
  });
}

describe('llm agent cost accounting', () => {
  it('prices tokens from the table and stops before the cost budget is exceeded', async () => {
    const server = await startLlmServer();
    const repo = await tempRepo({ 'src/calc.js': CALC });
    try {
      const cfg = config({
        agents: { llm: { baseUrl: server.openaiBaseUrl, model: 'priced', apiKeyEnv: KEY_ENV, prices: { priced: { input: 2, output: 10 } } } },
      });
      const input = await agentInput(repo.dir, { config: cfg, budget: { maxCostUsd: 0.05 } });
      server.enqueue({ text: WRONG, usage: { input: 22_000, output: 500 } }, { text: FIX });
      const out = await new LlmAgent().propose(input);
      expect(out.outcome).toBe('failed');
      expect(out.reason).toMatch(/cost budget/);
      expect(out.cost).toBeCloseTo(0.049, 6);
      expect(server.requests).toHaveLength(1);
      const sent = server.requests[0]!.body as { max_tokens: number };
      expect(sent.max_tokens).toBe(4096);
    } finally {
      await server.close();
      await repo.cleanup();
    }
  });

  it('fails clearly when the key variable is not set and no local endpoint is configured', async () => {
    const repo = await tempRepo({ 'src/calc.js': CALC });
    try {
      const input = await agentInput(repo.dir, { config: config({ agents: { llm: { apiKeyEnv: 'EVOGIT_TEST_UNSET_KEY' } } }) });
      const out = await new LlmAgent().propose(input);
      expect(out).toMatchObject({ outcome: 'failed', cost: 0 });
      expect(out.reason).toMatch(/EVOGIT_TEST_UNSET_KEY .*not set/);
    } finally {
      await repo.cleanup();
    }
  });
});

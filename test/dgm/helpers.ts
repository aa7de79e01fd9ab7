/** An evolving repository that is the seed agent, with the example suites imported; a scripted LLM behind the real proxy. */
import { agentTemplateFiles } from '../../src/agents/self/index.js';
import { startLlmProxy, type LlmProxy } from '../../src/agents/proxy/index.js';
import { Archive } from '../../src/archive/index.js';
import { parseConfigText, type Config } from '../../src/config/index.js';
import { importSuite, type SplitFractions } from '../../src/suites/index.js';
import { git, makeRepo, tempDir, writeFiles } from '../helpers/repo.js';
import { startLlmServer, type LlmServer, type ReplySource } from '../helpers/llm-server.js';
import { polyglotCopy, sweSuite } from '../suites/fixtures.js';

/** The provider key: only the proxy may hold it. Tests search for it everywhere else. */
export const SECRET_KEY = 'sk-evogit-test-SECRET-4f9c2a7d1e';

export interface DgmRepo {
  repo: string;
  dirs: string[];
}

export async function agentRepo(opts: { sandbox: 'local' | 'docker'; fractions?: SplitFractions; seed?: number; swe?: boolean }): Promise<DgmRepo & { gold: Record<string, string> }> {
  const repo = await tempDir('evogit-agent-');
  await writeFiles(repo, Object.fromEntries((await agentTemplateFiles(repo)).map((f) => [f.path, f.content.toString()])));
  await writeFiles(repo, {
    'evogit.yml': [
      'version: 1',
      'language: javascript',
      'test:',
      '  command: node --test',
      '  timeout: 60s',
      '  protected:',
      '    - evogit.yml',
      'sandbox:',
      `  kind: ${opts.sandbox}`,
      '  image: evogit/node:20',
      'scorer:',
      '  seed: 11',
      'dgm:',
      '  mode: agent',
      '  suite:',
      '    name: poly',
      '  agentTimeout: 60s',
      '',
    ].join('\n'),
  });
  await makeRepo({}, repo);
  const archive = await Archive.open({ repoDir: repo });
  await archive.createRoot('HEAD');
  const dirs = [repo];
  const poly = await polyglotCopy();
  dirs.push(poly);
  await importSuite({ repoDir: repo, source: poly, name: 'poly', seed: opts.seed ?? 0, ...(opts.fractions ? { fractions: opts.fractions } : {}) });
  let gold: Record<string, string> = {};
  if (opts.swe) {
    const swe = await sweSuite();
    dirs.push(swe.dir);
    gold = swe.gold;
    await importSuite({ repoDir: repo, source: swe.jsonl, name: 'swe' });
  }
  return { repo, dirs, gold };
}

export async function configOf(repo: string): Promise<Config> {
  const text = await git(repo, ['show', 'HEAD:evogit.yml']);
  return parseConfigText(text);
}

export interface ScriptedLlm {
  server: LlmServer;
  proxy: LlmProxy;
  close(): Promise<void>;
}

/** The scripted upstream behind the real proxy, which alone holds SECRET_KEY. */
export async function scriptedLlm(fallback: ReplySource): Promise<ScriptedLlm> {
  const server = await startLlmServer({ fallback });
  const proxy = await startLlmProxy({ upstreams: [{ protocol: 'openai', baseUrl: server.openaiBaseUrl, apiKey: SECRET_KEY }] });
  return {
    server,
    proxy,
    close: async () => {
      await proxy.close();
      await server.close();
    },
  };
}

/** The text of the last user message of a recorded OpenAI request. */
export function lastUser(body: unknown): string {
  const messages = (body as { messages?: { role: string; content: string }[] }).messages ?? [];
  return [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
}

export function firstUser(body: unknown): string {
  const messages = (body as { messages?: { role: string; content: string }[] }).messages ?? [];
  return messages.find((m) => m.role === 'user')?.content ?? '';
}

export function action(a: Record<string, unknown>): string {
  return `I will do this.\n\`\`\`json\n${JSON.stringify(a)}\n\`\`\`\n`;
}

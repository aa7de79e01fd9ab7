/** The host side of DGM mode from the config: the proxy that holds the key, and the diagnosis model. */
import { parseDuration, type Config } from '../../config/index.js';
import { EvogitError } from '../../errors/index.js';
import { createChatModel, resolveApiKey, type ChatModel } from '../llm/index.js';
import { startLlmProxy, upstreamFromConfig } from '../proxy/index.js';
import type { AgentLlm } from './program.js';

export interface DgmHost {
  llm: AgentLlm;
  chat: ChatModel;
  close(): Promise<void>;
}

export async function startDgmHost(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<DgmHost> {
  const llmConfig = config.agents.llm;
  const key = resolveApiKey(llmConfig, env);
  if (key.missing && !llmConfig.baseUrl) {
    throw new EvogitError('E_NO_API_KEY', `agent mode needs an LLM: ${llmConfig.apiKeyEnv} is not set`, `Export ${llmConfig.apiKeyEnv}, or set agents.llm.baseUrl to a local endpoint.`);
  }
  const proxy = await startLlmProxy({ upstreams: [upstreamFromConfig(llmConfig, env)], prices: llmConfig.prices });
  const chat = createChatModel({ provider: llmConfig.provider, model: llmConfig.model, ...(llmConfig.baseUrl ? { baseUrl: llmConfig.baseUrl } : {}), apiKey: key.key, timeoutMs: parseDuration(llmConfig.timeout) });
  return { llm: { proxy, model: llmConfig.model }, chat, close: () => proxy.close() };
}

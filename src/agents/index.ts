/** The agents that propose edits, behind one factory. */
import type { Config } from '../config/index.js';
import { EvogitError } from '../errors/index.js';
import { createCommandAgent } from './command/index.js';
import { createCrossoverAgent } from './crossover/index.js';
import { createLlmAgent } from './llm/index.js';
import { createMutateAgent } from './mutate/index.js';
import type { Agent } from './types.js';

export type { Agent, AgentInput, AgentOutput, AgentOutcome } from './types.js';
export { createMutateAgent } from './mutate/index.js';
export { createLlmAgent, createChatModel } from './llm/index.js';
export { createCommandAgent } from './command/index.js';
export { createCrossoverAgent } from './crossover/index.js';
export { startLlmProxy, upstreamFromConfig, type LlmProxy } from './proxy/index.js';

export type AgentKind = Config['agents']['kind'];

export function createAgent(kind: AgentKind, _config: Config): Agent {
  switch (kind) {
    case 'mutate':
      return createMutateAgent();
    case 'llm':
      return createLlmAgent();
    case 'command':
      return createCommandAgent();
    case 'crossover':
      return createCrossoverAgent();
    case 'self':
      throw new EvogitError(
        'E_AGENT_UNAVAILABLE',
        'the `self` agent needs DGM mode: the repository is a coding agent, scored on a task suite',
        'Set `dgm: {mode: agent, suite: {name: …}}` in evogit.yml and use `evogit dgm run`; or use agents.kind mutate, llm or command.',
      );
  }
}

/** The llm agent and the pieces other agents reuse (the chat models, edit blocks, budget). */
export { LlmAgent, createLlmAgent, resolveApiKey, TRANSCRIPT_FILE, type LlmAgentOptions, type LlmTranscript, type RoundRecord, type BlockRecord } from './coder.js';
export {
  ChatError,
  createChatModel,
  scrubSecrets,
  withRetries,
  parseRetryAfter,
  backoffDelay,
  type ChatModel,
  type ChatMessage,
  type ChatRequest,
  type ChatReply,
  type ChatModelOptions,
  type ChatErrorKind,
  type RetryPolicy,
} from './chat.js';
export { parseEditBlocks, applyEdit, nearestText, lineSimilarity, type EditBlock, type ParsedReply, type ApplyResult } from './edits.js';
export { costOf, planCall, estimatePromptTokens, type Price, type Spent, type Budget, type CallPlan } from './budget.js';
export { protectedMatcher, safeRelativePath, globToRegExp } from './paths.js';
export { loadPrompts, fillTemplate, packageRoot, type Prompts } from './prompts.js';
export { parsePorcelainZ, parseNulList, type StatusEntry } from '../../git/index.js';
export { worktreeStatus } from '../../git/reads.js';

/**
 * A small provider-free chat interface, its two implementations over the official SDKs
 * (OpenAI-compatible and Anthropic), and the retry policy. The coder only sees `ChatModel`.
 *
 * The SDKs' own retries are off: ours are bounded by `retries`, honour Retry-After, and every
 * attempt is visible in the transcript. Every error leaving this file has its key scrubbed.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  system: string;
  messages: ChatMessage[];
  maxTokens: number;
  signal?: AbortSignal;
}

export interface ChatReply {
  text: string;
  usage: { input: number; output: number };
  model: string;
  finishReason: string | null;
}

export interface ChatModel {
  readonly provider: 'openai' | 'anthropic';
  readonly model: string;
  complete(request: ChatRequest): Promise<ChatReply>;
}

export type ChatErrorKind = 'rate-limit' | 'server' | 'timeout' | 'connection' | 'bad-response' | 'auth' | 'client' | 'aborted';

export class ChatError extends Error {
  constructor(
    readonly kind: ChatErrorKind,
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ChatError';
  }

  get retryable(): boolean {
    return this.kind === 'rate-limit' || this.kind === 'server' || this.kind === 'timeout' || this.kind === 'connection' || this.kind === 'bad-response';
  }
}

const REDACTED = '[redacted]';

/** Remove every secret (and anything shaped like a bearer credential) from a text. */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join(REDACTED);
  return out.replace(/(authorization|x-api-key|api[-_]?key)(["']?\s*[:=]\s*["']?)(bearer\s+)?[^\s"',}]+/gi, `$1$2$3${REDACTED}`);
}

/** Retry-After is seconds or an HTTP date; retry-after-ms is the OpenAI/Anthropic extension. */
export function parseRetryAfter(headers: { get(name: string): string | null } | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after');
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

interface SdkApiError {
  status?: number;
  headers?: { get(name: string): string | null };
  message: string;
}

/** Map an SDK (or fetch) error onto a ChatError with the secrets scrubbed from its message. */
function toChatError(e: unknown, secrets: string[], timeoutMs: number): ChatError {
  if (e instanceof ChatError) return e;
  const scrub = (m: string): string => scrubSecrets(m, secrets);
  if (e instanceof OpenAI.APIConnectionTimeoutError || e instanceof Anthropic.APIConnectionTimeoutError) {
    return new ChatError('timeout', `no reply within ${timeoutMs} ms`);
  }
  if (e instanceof OpenAI.APIUserAbortError || e instanceof Anthropic.APIUserAbortError) return new ChatError('aborted', 'aborted');
  if (e instanceof OpenAI.APIConnectionError || e instanceof Anthropic.APIConnectionError) {
    return new ChatError('connection', scrub(`connection failed: ${e.message}`));
  }
  if (e instanceof OpenAI.APIError || e instanceof Anthropic.APIError) {
    const err = e as SdkApiError;
    const status = err.status;
    const message = scrub(err.message);
    if (status === 429) return new ChatError('rate-limit', `rate limited (HTTP 429): ${message}`, status, parseRetryAfter(err.headers));
    if (status === 401 || status === 403) return new ChatError('auth', `not authorized (HTTP ${status}): ${message}`, status);
    if (status !== undefined && (status >= 500 || status === 408 || status === 409)) {
      return new ChatError('server', `server error (HTTP ${status}): ${message}`, status, parseRetryAfter(err.headers));
    }
    return new ChatError('client', `request refused (HTTP ${status ?? '?'}): ${message}`, status);
  }
  if (e instanceof SyntaxError) return new ChatError('bad-response', scrub(`reply is not valid JSON: ${e.message}`));
  if (e instanceof Error && e.name === 'AbortError') return new ChatError('aborted', 'aborted');
  return new ChatError('bad-response', scrub(e instanceof Error ? e.message : String(e)));
}

export interface ChatModelOptions {
  provider: 'openai' | 'anthropic';
  model: string;
  baseUrl?: string;
  /** The key itself; taken from the environment by the caller, never from config. */
  apiKey: string;
  timeoutMs: number;
}

class OpenAiChatModel implements ChatModel {
  readonly provider = 'openai' as const;
  private readonly client: OpenAI;
  constructor(private readonly options: ChatModelOptions) {
    this.client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseUrl ?? null, timeout: options.timeoutMs, maxRetries: 0 });
  }
  get model(): string {
    return this.options.model;
  }
  async complete(request: ChatRequest): Promise<ChatReply> {
    try {
      const res = await this.client.chat.completions.create(
        {
          model: this.options.model,
          max_tokens: request.maxTokens,
          messages: [{ role: 'system', content: request.system }, ...request.messages],
        },
        { signal: request.signal },
      );
      const choice = res.choices?.[0];
      if (!choice || typeof choice.message?.content !== 'string') throw new ChatError('bad-response', 'reply has no message content');
      return {
        text: choice.message.content,
        usage: { input: res.usage?.prompt_tokens ?? 0, output: res.usage?.completion_tokens ?? 0 },
        model: res.model ?? this.options.model,
        finishReason: choice.finish_reason ?? null,
      };
    } catch (e) {
      throw toChatError(e, [this.options.apiKey], this.options.timeoutMs);
    }
  }
}

class AnthropicChatModel implements ChatModel {
  readonly provider = 'anthropic' as const;
  private readonly client: Anthropic;
  constructor(private readonly options: ChatModelOptions) {
    this.client = new Anthropic({ apiKey: options.apiKey, baseURL: options.baseUrl ?? null, timeout: options.timeoutMs, maxRetries: 0 });
  }
  get model(): string {
    return this.options.model;
  }
  async complete(request: ChatRequest): Promise<ChatReply> {
    try {
      const res = await this.client.messages.create(
        { model: this.options.model, max_tokens: request.maxTokens, system: request.system, messages: request.messages },
        { signal: request.signal },
      );
      if (!Array.isArray(res.content)) throw new ChatError('bad-response', 'reply has no content');
      const text = res.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
      return {
        text,
        usage: { input: res.usage?.input_tokens ?? 0, output: res.usage?.output_tokens ?? 0 },
        model: res.model ?? this.options.model,
        finishReason: res.stop_reason ?? null,
      };
    } catch (e) {
      throw toChatError(e, [this.options.apiKey], this.options.timeoutMs);
    }
  }
}

export function createChatModel(options: ChatModelOptions): ChatModel {
  return options.provider === 'anthropic' ? new AnthropicChatModel(options) : new OpenAiChatModel(options);
}

export interface RetryPolicy {
  retries: number;
  /** First backoff; doubles each attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the call fails at once. */
  maxRetryAfterMs: number;
  random?: () => number;
  onRetry?: (event: { attempt: number; error: ChatError; delayMs: number }) => void;
  signal?: AbortSignal;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ChatError('aborted', 'aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ChatError('aborted', 'aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Exponential backoff with jitter, at least the server's Retry-After. */
export function backoffDelay(attempt: number, error: ChatError, policy: RetryPolicy): number {
  const random = policy.random ?? Math.random;
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = exp / 2 + random() * (exp / 2);
  return Math.round(Math.max(jittered, error.retryAfterMs ?? 0));
}

/** Run `call`, retrying retryable ChatErrors at most `policy.retries` times. */
export async function withRetries<T>(call: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const error = e instanceof ChatError ? e : new ChatError('bad-response', e instanceof Error ? e.message : String(e));
      if (!error.retryable || attempt >= policy.retries || policy.signal?.aborted) throw error;
      if (error.retryAfterMs !== undefined && error.retryAfterMs > policy.maxRetryAfterMs) {
        throw new ChatError(error.kind, `${error.message} (server asks to wait ${Math.round(error.retryAfterMs / 1000)} s; giving up)`, error.status, error.retryAfterMs);
      }
      const delayMs = backoffDelay(attempt, error, policy);
      policy.onRetry?.({ attempt: attempt + 1, error, delayMs });
      await sleep(delayMs, policy.signal);
    }
  }
}

/**
 * A real loopback HTTP server that speaks the OpenAI chat-completions protocol
 * (`POST /v1/chat/completions`) and the Anthropic messages protocol (`POST /v1/messages`),
 * answering from a queue of scripted replies and recording every request it received.
 *
 * Tests point the official SDKs (or the evogit proxy) at it, so the whole HTTP path is real.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Protocol = 'openai' | 'anthropic';

export interface RecordedRequest {
  protocol: Protocol | 'other';
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  rawBody: string;
  time: number;
}

/** One scripted answer. `delayMs` holds the answer back (to provoke client timeouts). */
export type ScriptedReply =
  /** A normal completion whose assistant text is `text`. */
  | { text: string; usage?: { input: number; output: number }; delayMs?: number }
  /** An HTTP error (or any status) with a JSON or text body and headers, e.g. 429 with Retry-After. */
  | { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  /** A 200 whose body is not the protocol's JSON. */
  | { garbled: string; delayMs?: number };

export type ReplySource = ScriptedReply | ((request: RecordedRequest) => ScriptedReply);

export interface LlmServer {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Base URL for OpenAI-compatible clients: `${url}/v1`. */
  openaiBaseUrl: string;
  /** Base URL for the Anthropic SDK (it appends /v1/messages itself). */
  anthropicBaseUrl: string;
  requests: RecordedRequest[];
  enqueue(...replies: ReplySource[]): void;
  /** Scripted replies not consumed yet. */
  pending(): number;
  close(): Promise<void>;
}

export interface LlmServerOptions {
  replies?: ReplySource[];
  /** Used when the queue is empty; default: a 500 that names the problem, so a test sees it. */
  fallback?: ReplySource;
}

export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function promptText(protocol: Protocol, body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const b = body as { system?: unknown; messages?: { content?: unknown }[] };
  const parts: string[] = [];
  if (protocol === 'anthropic' && b.system !== undefined) parts.push(typeof b.system === 'string' ? b.system : JSON.stringify(b.system));
  for (const m of b.messages ?? []) parts.push(typeof m.content === 'string' ? m.content : JSON.stringify(m.content));
  return parts.join('\n');
}

function modelOf(body: unknown): string {
  return typeof body === 'object' && body !== null && typeof (body as { model?: unknown }).model === 'string'
    ? (body as { model: string }).model
    : 'scripted-model';
}

function completionBody(protocol: Protocol, request: RecordedRequest, reply: { text: string; usage?: { input: number; output: number } }): unknown {
  const usage = reply.usage ?? { input: estimateTokens(promptText(protocol, request.body)), output: estimateTokens(reply.text) };
  const model = modelOf(request.body);
  if (protocol === 'openai') {
    return {
      id: `chatcmpl-${request.time}`,
      object: 'chat.completion',
      created: Math.floor(request.time / 1000),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: reply.text, refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output },
    };
  }
  return {
    id: `msg_${request.time}`,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: reply.text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: usage.input, output_tokens: usage.output },
  };
}

function errorBody(protocol: Protocol | 'other', status: number, message: string): unknown {
  if (protocol === 'anthropic') return { type: 'error', error: { type: status === 429 ? 'rate_limit_error' : 'api_error', message } };
  return { error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'server_error', code: null } };
}

export async function startLlmServer(options: LlmServerOptions = {}): Promise<LlmServer> {
  const queue: ReplySource[] = [...(options.replies ?? [])];
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown = rawBody;
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        // Keep the raw text: a test may want to assert on a malformed request.
        body = rawBody;
      }
      const path = (req.url ?? '/').split('?')[0]!;
      const protocol: RecordedRequest['protocol'] =
        req.method === 'POST' && path.endsWith('/chat/completions') ? 'openai' : req.method === 'POST' && path.endsWith('/messages') ? 'anthropic' : 'other';
      const recorded: RecordedRequest = { protocol, method: req.method ?? 'GET', path, headers: req.headers, body, rawBody, time: Date.now() };
      requests.push(recorded);
      const source = queue.shift() ?? options.fallback ?? { status: 500, body: errorBody(protocol, 500, 'llm-server: no scripted reply left') };
      const reply = typeof source === 'function' ? source(recorded) : source;
      const send = (): void => {
        if (res.destroyed || res.writableEnded) return;
        if ('text' in reply) {
          if (protocol === 'other') {
            res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(errorBody(protocol, 404, `no route ${path}`)));
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completionBody(protocol, recorded, reply)));
        } else if ('garbled' in reply) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(reply.garbled);
        } else {
          const bodyValue = reply.body ?? errorBody(protocol, reply.status, `scripted status ${reply.status}`);
          const text = typeof bodyValue === 'string' ? bodyValue : JSON.stringify(bodyValue);
          res.writeHead(reply.status, { 'content-type': typeof bodyValue === 'string' ? 'text/plain' : 'application/json', ...(reply.headers ?? {}) }).end(text);
        }
      };
      if (reply.delayMs) {
        const timer = setTimeout(send, reply.delayMs);
        res.on('close', () => clearTimeout(timer));
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    requests,
    enqueue: (...replies) => void queue.push(...replies),
    pending: () => queue.length,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

/**
 * The GitHub client: @octokit/rest with retries (5xx) and throttling (rate limits), every
 * HTTP attempt recorded without its headers, and every error turned into a typed evogit
 * error whose text never contains the token.
 */
import { Octokit } from '@octokit/rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { EvogitError, InfraError } from '../errors/index.js';

const GitHub = Octokit.plugin(retry, throttling);
type Throttle = NonNullable<NonNullable<ConstructorParameters<typeof GitHub>[0]>['throttle']>;
export type GitHubClient = InstanceType<typeof GitHub>;

/** One HTTP request as sent (or, for a plan, as it would be sent): never its headers. */
export interface RecordedRequest {
  method: string;
  /** Path and query relative to the API base URL, e.g. `/repos/o/r/pulls?state=open`. */
  path: string;
  body?: unknown;
}

export interface ClientTuning {
  /** Retries of a 5xx answer (plugin-retry). Default 3. */
  retries?: number;
  /** Milliseconds per unit of back-off: a retry waits (attempt²)·base for a 5xx, (seconds to reset + 1)·base for a rate limit. Default 1000. */
  retryBaseMs?: number;
  /** Retries of a rate-limited request. Default 2. */
  rateLimitRetries?: number;
  /** A rate limit that resets later than this is reported at once instead of waited out. Default 60 s. */
  maxRateLimitWaitSeconds?: number;
  /** Keep GitHub's recommended one second between writes. Default true; tests turn it off. */
  spaceWrites?: boolean;
}

export interface ClientOptions extends ClientTuning {
  token: string;
  baseUrl?: string;
  /** Receives every HTTP attempt, in order. */
  onRequest?: (r: RecordedRequest) => void;
}

/** A limiter group that does not limit: used when writes need no spacing (tests, a private server). */
const unlimited = {
  key: () => ({
    schedule: <A extends unknown[], R>(first: unknown, ...rest: unknown[]): Promise<R> => {
      // Bottleneck's schedule([options], fn, ...args): the options object is optional.
      const [fn, ...args] = typeof first === 'function' ? [first, ...rest] : rest;
      return Promise.resolve((fn as (...a: A) => R)(...(args as A)));
    },
  }),
};

export function createClient(opts: ClientOptions): GitHubClient {
  const baseUrl = (opts.baseUrl ?? 'https://api.github.com').replace(/\/+$/, '');
  const base = opts.retryBaseMs ?? 1000;
  const rateLimitRetries = opts.rateLimitRetries ?? 2;
  const maxWait = opts.maxRateLimitWaitSeconds ?? 60;
  const onRateLimit = (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number): boolean =>
    retryCount < rateLimitRetries && retryAfter <= maxWait;
  const recordingFetch: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    let body: unknown;
    if (typeof init?.body === 'string') {
      try {
        body = JSON.parse(init.body);
      } catch {
        body = init.body; // not JSON: record the text as sent
      }
    }
    opts.onRequest?.({
      method: (init?.method ?? 'GET').toUpperCase(),
      path: url.startsWith(baseUrl) ? url.slice(baseUrl.length) : url,
      ...(body !== undefined ? { body } : {}),
    });
    return fetch(input, init);
  };
  return new GitHub({
    auth: opts.token,
    baseUrl,
    userAgent: 'evogit',
    request: { fetch: recordingFetch },
    // octokit logs request details on warnings; keep its voice out of the terminal.
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    retry: { retries: opts.retries ?? 3, retryAfterBaseValue: base },
    throttle: {
      retryAfterBaseValue: base,
      onRateLimit,
      onSecondaryRateLimit: onRateLimit,
      // Duck-typed Bottleneck groups (only key().schedule() is called): bottleneck is not our dependency.
      ...((opts.spaceWrites === false ? { write: unlimited, notifications: unlimited } : {}) as unknown as Partial<Throttle>),
    },
  });
}

/** Replace the token (and anything shaped like a GitHub token) with `***`. */
export function scrub(text: string, token?: string): string {
  let out = text;
  if (token) out = out.split(token).join('***');
  return out.replace(/\b(gh[pousr]_[A-Za-z0-9_]{8,}|github_pat_[A-Za-z0-9_]{8,})/g, '***');
}

interface HttpErrorLike {
  status: number;
  message: string;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
  request?: { method?: string; url?: string };
}

function isHttpError(e: unknown): e is HttpErrorLike {
  return e instanceof Error && typeof (e as { status?: unknown }).status === 'number';
}

/**
 * Turn whatever octokit threw into an evogit error. The octokit error itself is not kept as
 * the cause: it carries the request (headers included), and the token must not travel.
 */
export function toForgeError(e: unknown, token: string | undefined, doing: string): EvogitError {
  if (e instanceof EvogitError) return e;
  if (!isHttpError(e)) {
    const msg = scrub(e instanceof Error ? e.message : String(e), token);
    return new InfraError('E_GITHUB_UNAVAILABLE', `GitHub request failed while ${doing}: ${msg}`, 'Check the network and forge.baseUrl; the node stays in the archive and `evogit pr` can retry.');
  }
  const headers = e.response?.headers ?? {};
  const where = e.request ? `${e.request.method ?? ''} ${scrub(String(e.request.url ?? ''), token)}`.trim() : doing;
  const apiMessage = scrub(messageOf(e.response?.data) ?? e.message, token);
  const limited = (e.status === 403 || e.status === 429) && (headers['x-ratelimit-remaining'] === '0' || /rate limit/i.test(apiMessage));
  if (limited) {
    const reset = Number(headers['x-ratelimit-reset']);
    const when = Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000).toISOString() : 'an unknown time';
    return new InfraError(
      'E_GITHUB_RATE_LIMITED',
      `GitHub rate limit exhausted while ${doing} (${e.status} on ${where}); it resets at ${when}`,
      'The node stays in the archive; `evogit pr <node>` (or the next run) opens it after the reset.',
    );
  }
  if (e.status >= 500 || e.status === 0) {
    return new InfraError(
      'E_GITHUB_UNAVAILABLE',
      `GitHub answered ${e.status} while ${doing} (${where}), still after retries: ${apiMessage}`,
      'The node stays in the archive; `evogit pr <node>` (or the next run) retries.',
    );
  }
  if (e.status === 401) {
    return new EvogitError('E_GITHUB_AUTH', `GitHub refused the token while ${doing} (401)`, 'Set GITHUB_TOKEN to a token with the repo (or pull_requests: write) scope.');
  }
  if (e.status === 403 || e.status === 404) {
    return new EvogitError(
      'E_GITHUB_FORBIDDEN',
      `GitHub answered ${e.status} while ${doing} (${where}): ${apiMessage}`,
      'Check forge.repo and that the token can write pull requests there.',
    );
  }
  return new EvogitError('E_GITHUB_REJECTED', `GitHub rejected the request while ${doing} (${e.status} on ${where}): ${apiMessage}`, 'See the message; the request evogit sent is listed by `evogit pr <node> --dry-run`.');
}

function messageOf(data: unknown): string | undefined {
  if (data && typeof data === 'object' && 'message' in data && typeof data.message === 'string') {
    const errors = 'errors' in data && Array.isArray(data.errors) ? ` ${JSON.stringify(data.errors)}` : '';
    return data.message + errors;
  }
  return undefined;
}

import { ProtocolConnectionError, ProtocolError } from './errors.js';

export interface ClientOptions {
  /** The API root including `/v1`. Default `http://127.0.0.1:8080/v1`. */
  baseUrl?: string;
  /** Per request, including retries' waits not counted. Default 30 s. */
  timeoutMs?: number;
  /** Retries on network errors, 429 and 5xx (POSTs too: they carry an Idempotency-Key). Default 2. */
  maxRetries?: number;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  query?: object;
  /** A JSON body, or FormData for uploads. */
  body?: unknown;
  /** For a POST: the Idempotency-Key to send; a random one by default, the same on every retry. */
  idempotencyKey?: string;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE']);
const USER_AGENT = 'protocol-sdk-js/0.1.0';

/** Exponential backoff with full jitter, and a Retry-After that asks for more (capped at a minute). */
export function backoffMs(retry: number, retryAfter: string | null, random: () => number = Math.random): number {
  const exponential = Math.min(8_000, 500 * 2 ** retry) * (0.5 + random() / 2);
  const asked = retryAfter && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) * 1000 : 0;
  return Math.min(Math.max(exponential, asked), 60_000);
}

function queryString(query: object | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null) params.append(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The transport: auth, JSON, timeouts, retries (POSTs with an Idempotency-Key), errors as ProtocolError. */
export class HttpClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly fetch: typeof fetch;

  /** `token` null: a browser on the dashboard's origin, authenticated by its session cookie. */
  constructor(
    private readonly token: string | null,
    options: ClientOptions = {},
  ) {
    if (token !== null && !token) throw new TypeError('ApiClient needs an API key');
    this.baseUrl = (options.baseUrl ?? 'http://127.0.0.1:8080/v1').replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxRetries = options.maxRetries ?? 2;
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = `${this.baseUrl}${path}${queryString(options.query)}`;
    const isForm = typeof FormData !== 'undefined' && options.body instanceof FormData;
    const headers: Record<string, string> = { accept: 'application/json', ...(this.token !== null && { authorization: `Bearer ${this.token}`, 'user-agent': USER_AGENT }) };
    if (options.body !== undefined && !isForm) headers['content-type'] = 'application/json';
    const body = options.body === undefined ? undefined : isForm ? (options.body as FormData) : JSON.stringify(options.body);
    // Like Stripe's SDK: every POST carries an Idempotency-Key, so a retry after a lost answer
    // replays the first result instead of making the change twice.
    if (method === 'POST') headers['idempotency-key'] = options.idempotencyKey ?? globalThis.crypto.randomUUID();
    const retries = IDEMPOTENT.has(method) || method === 'POST' ? this.maxRetries : 0;

    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (error) {
        if (attempt < retries) {
          await sleep(backoffMs(attempt, null));
          continue;
        }
        const timedOut = (error as Error).name === 'TimeoutError';
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const reason = cause?.code ?? cause?.message ?? (error as Error).message;
        throw new ProtocolConnectionError(timedOut ? `No answer from ${this.baseUrl} within ${this.timeoutMs} ms` : `Could not reach ${this.baseUrl} (${reason})`, error);
      }
      if ((response.status === 429 || response.status >= 500) && attempt < retries) {
        await response.body?.cancel();
        await sleep(backoffMs(attempt, response.headers.get('retry-after')));
        continue;
      }
      if (response.status === 204) return undefined as T;
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        throw new ProtocolError(response.status, { message: `Expected JSON from ${method} ${path}, got: ${text.slice(0, 200)}` });
      }
      if (!response.ok) throw new ProtocolError(response.status, (parsed ?? {}) as object);
      return parsed as T;
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

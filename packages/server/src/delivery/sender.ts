import { Agent } from 'undici';
import { signWebhook, type AttemptErrorStage } from '@protocol/sdk';
import type { AttemptRecord, ClaimedDelivery } from '../store/index.js';
import { parseRetryAfter } from './policy.js';
import { BlockedDestinationError, guardedLookup, isPublicAddress, literalAddress, type Lookup } from './ssrf.js';

/** What is kept of a response body (SPEC §6). */
export const KEPT_BODY_BYTES = 4096;
/** What is read at most: small answers are drained so the connection is reused; bigger ones are cut off. */
export const READ_LIMIT_BYTES = 64 * 1024;
export const USER_AGENT = 'Protocol-Webhooks/0.1.0';

export interface SenderOptions {
  timeoutMs: number;
  allowPrivateUrls: boolean;
  /** Connections per origin: undici keeps one keep-alive pool per origin. */
  connectionsPerOrigin: number;
  /** DNS for the connect-time check; tests inject a fake one. */
  lookup?: Lookup;
}

export type SentAttempt = Omit<AttemptRecord, 'outcome'> & { retryAfterMs?: number };

const TIMED_OUT = Symbol('attempt timed out');
const ABORTED = Symbol('sender stopping');

/** Where a failed request broke, from the error undici or Node gave us. */
export function errorStage(error: unknown, timedOut: boolean): AttemptErrorStage {
  if (timedOut) return 'timeout';
  const codes = [(error as { code?: string })?.code, (error as { cause?: { code?: string } })?.cause?.code].filter(Boolean) as string[];
  const name = (error as { name?: string })?.name;
  if (name === 'TimeoutError' || codes.some((c) => /TIMEOUT/.test(c))) return 'timeout';
  if (codes.some((c) => ['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA'].includes(c))) return 'dns';
  if (codes.some((c) => /^(ERR_TLS|ERR_SSL|ERR_OSSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/.test(c))) return 'tls';
  return 'connect';
}

function message(error: unknown): string {
  const e = error as { message?: string; cause?: { message?: string } };
  return e.cause?.message && e.cause.message !== e.message ? `${e.message}: ${e.cause.message}` : (e.message ?? String(error));
}

/**
 * Signed HTTP: one POST per attempt through keep-alive pools (undici keeps one per origin),
 * under one deadline for connect + response, never following redirects, reading at most
 * READ_LIMIT_BYTES of the answer.
 */
export function createSender(options: SenderOptions): Sender {
  const agent = new Agent({
    connections: options.connectionsPerOrigin,
    keepAliveTimeout: 30_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: { timeout: options.timeoutMs, ...(options.allowPrivateUrls ? {} : { lookup: guardedLookup(options.lookup) }) },
  });

  // One sweeper for every attempt's deadline: AbortSignal.timeout and AbortSignal.any per
  // request showed up at ~7% of the worker's CPU profile.
  const inFlight = new Map<AbortController, number>();
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [controller, deadline] of inFlight) if (deadline <= now) controller.abort(TIMED_OUT);
  }, 25);
  sweeper.unref();

  /** Parsed destinations, by URL: parsing one per attempt showed in the worker's profile. */
  const destinations = new Map<string, { origin: string; path: string; blocked?: string }>();
  const destination = (raw: string) => {
    let known = destinations.get(raw);
    if (!known) {
      const url = new URL(raw);
      const literal = literalAddress(url.hostname);
      // A literal address is dialled without a lookup, so it is checked here instead.
      const blocked = !options.allowPrivateUrls && literal && !isPublicAddress(literal) ? `refused to connect: ${literal} is not a public address` : undefined;
      known = { origin: url.origin, path: `${url.pathname}${url.search}`, blocked };
      if (destinations.size >= 10_000) destinations.clear();
      destinations.set(raw, known);
    }
    return known;
  };

  /** One attempt. Its deadline aborts it with TIMED_OUT; `abortAll` (shutdown) with ABORTED. */
  async function send(delivery: ClaimedDelivery): Promise<SentAttempt> {
    const controller = new AbortController();
    const startedAt = Date.now();
    const requestHeaders: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      ...signWebhook({ id: delivery.eventId, timestamp: Math.floor(startedAt / 1000), body: delivery.body, secrets: delivery.secrets, protocolSecret: delivery.protocolSecret }),
      'x-protocol-event': delivery.eventType,
      'x-protocol-delivery': delivery.id,
      'x-protocol-attempt': String(delivery.attempt),
    };
    const base = { delivery, startedAt, requestHeaders };
    const failed = (error: unknown, stage: AttemptErrorStage, extra: Partial<SentAttempt> = {}): SentAttempt => ({
      ...base,
      durationMs: Date.now() - startedAt,
      statusCode: null,
      responseHeaders: null,
      responseBody: null,
      error: message(error),
      errorStage: stage,
      ...extra,
    });

    const target = destination(delivery.url);
    if (target.blocked) return failed(new BlockedDestinationError(target.blocked), 'connect');
    inFlight.set(controller, startedAt + options.timeoutMs);
    let statusCode: number | null = null;
    try {
      const response = await agent.request({ origin: target.origin, path: target.path, method: 'POST', headers: requestHeaders, body: delivery.body, signal: controller.signal });
      statusCode = response.statusCode;
      const responseHeaders: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
      const chunks: Buffer[] = [];
      let read = 0;
      for await (const chunk of response.body) {
        chunks.push(chunk as Buffer);
        read += (chunk as Buffer).length;
        if (read >= READ_LIMIT_BYTES) {
          response.body.destroy();
          break;
        }
      }
      const isHttpFailure = statusCode < 200 || statusCode >= 300;
      return {
        ...base,
        durationMs: Date.now() - startedAt,
        statusCode,
        responseHeaders,
        responseBody: Buffer.concat(chunks).subarray(0, KEPT_BODY_BYTES).toString('utf8'),
        error: isHttpFailure ? `HTTP ${statusCode}` : null,
        errorStage: isHttpFailure ? 'http' : null,
        retryAfterMs: parseRetryAfter(responseHeaders['retry-after'], Date.now()),
      };
    } catch (error) {
      const timedOut = controller.signal.reason === TIMED_OUT;
      if (statusCode !== null) {
        // The status line arrived; only reading the rest failed. The answer stands.
        const ok = statusCode >= 200 && statusCode < 300;
        return failed(error, timedOut ? 'timeout' : 'http', { statusCode, error: ok ? null : `HTTP ${statusCode}`, errorStage: ok ? null : 'http' });
      }
      if (controller.signal.reason === ABORTED) return failed(new Error('aborted: the worker is stopping'), 'connect');
      return failed(timedOut ? new Error(`no response within ${options.timeoutMs} ms`) : error, errorStage(error, timedOut));
    } finally {
      inFlight.delete(controller);
    }
  }

  // By the time the worker closes, every attempt has finished or been aborted: nothing is waited for.
  return {
    send,
    /** Cuts every attempt in flight short (shutdown); each still resolves, as a failure. */
    abortAll: () => {
      for (const controller of inFlight.keys()) controller.abort(ABORTED);
    },
    close: () => {
      clearInterval(sweeper);
      return agent.destroy();
    },
  };
}

export interface Sender {
  send(delivery: ClaimedDelivery): Promise<SentAttempt>;
  abortAll(): void;
  close(): Promise<void>;
}

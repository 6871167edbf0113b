import { Agent, type Dispatcher } from 'undici';
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

/** What sending needs of a delivery: all the sender thread is given of one. */
export const SENDABLE = ['id', 'eventId', 'eventType', 'url', 'body', 'attempt', 'secrets', 'protocolSecret'] as const satisfies ReadonlyArray<keyof ClaimedDelivery>;
export type Sendable = Pick<ClaimedDelivery, (typeof SENDABLE)[number]>;
/** An attempt's outcome, with the delivery it was given back. */
export type SentAttempt<D extends Sendable = ClaimedDelivery> = Omit<AttemptRecord, 'outcome' | 'delivery'> & { delivery: D; retryAfterMs?: number };

/** Why an attempt was cut short: its deadline, shutdown, or an answer too long to read whole. */
class Cut extends Error {}
const TIMED_OUT = new Cut('attempt timed out');
const ABORTED = new Cut('sender stopping');
/** The answer was longer than READ_LIMIT_BYTES: what was read stands, the rest is not read. */
const READ_ENOUGH = new Cut('read limit reached');
/** How often deadlines are checked: an attempt is cut at most this long after its deadline. */
const SWEEP_MS = 25;

/** Where a failed request broke, from the error undici or Node gave us. */
export function errorStage(error: unknown): AttemptErrorStage {
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
export function createSender<D extends Sendable = ClaimedDelivery>(options: SenderOptions): Sender<D> {
  const agent = new Agent({
    connections: options.connectionsPerOrigin,
    keepAliveTimeout: 30_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: { timeout: options.timeoutMs, ...(options.allowPrivateUrls ? {} : { lookup: guardedLookup(options.lookup) }) },
  });

  // One sweeper for every attempt's deadline: AbortSignal.timeout and AbortSignal.any per
  // request showed up at ~7% of the worker's CPU profile.
  const inFlight = new Map<Attempt, number>();
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [attempt, deadline] of inFlight) if (deadline <= now) attempt.cut(TIMED_OUT);
  }, SWEEP_MS);
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

  /**
   * One attempt, as an undici dispatch handler: the answer's chunks are collected as they come,
   * with no response stream, async iterator or AbortSignal per request (without them an attempt
   * costs a quarter less CPU). Settles exactly once; whatever undici reports after that is moot.
   *
   * Once settled it lets go of everything it held (`release`). An attempt that lived through two
   * young-generation collections is promoted, and an old object's pointers are roots for every
   * young collection until a full one finds it dead: what a settled attempt still pointed to
   * (its result through `resolve`, undici's controller and what that reaches) survived and was
   * promoted in turn. Sending alone at 128 in flight, runs fell at random into a state where ~45%
   * of each young generation survived, and spent ~40 µs of CPU per attempt instead of ~30; with
   * the release, none did (16 runs; 7 of 11 without). `npm run bench` measures it beside undici
   * alone (bench/sending.ts).
   */
  class Attempt implements Dispatcher.DispatchHandler {
    private controller: Dispatcher.DispatchController | null = null;
    private statusCode: number | null = null;
    private responseHeaders: Record<string, string> | null = null;
    private chunks: Buffer[] | null = [];
    private read = 0;
    private settled = false;

    constructor(
      private delivery: D | null,
      private readonly startedAt: number,
      private requestHeaders: Record<string, string> | null,
      private resolve: ((sent: SentAttempt<D>) => void) | null,
    ) {}

    /** Ends the attempt now (deadline, shutdown, enough read); a request still queued for a socket is cut when it gets one. */
    cut(reason: Cut) {
      const controller = this.controller; // settling releases it
      if (this.statusCode !== null) this.answered(); // the status line arrived: the answer stands, however much of it was read
      else if (reason === ABORTED) this.failed(new Error('aborted: the worker is stopping'), 'connect');
      else this.failed(new Error(`no response within ${options.timeoutMs} ms`), 'timeout');
      controller?.abort(reason);
    }

    /** The request is about to be written on a connection (it may have waited for one). */
    onRequestStart(controller: Dispatcher.DispatchController) {
      if (this.settled) return controller.abort(ABORTED);
      this.controller = controller;
      // Less time left than the sweeper's interval: it would be cut only after its deadline, and
      // an answer arriving meanwhile would stand. An attempt that waited this long for a
      // connection is not sent at all.
      if (this.startedAt + options.timeoutMs - Date.now() < SWEEP_MS) this.cut(TIMED_OUT);
    }

    onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>) {
      if (this.settled) return;
      this.statusCode = statusCode;
      const kept: Record<string, string> = {};
      for (const name in headers) {
        const value = headers[name];
        if (value !== undefined) kept[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      this.responseHeaders = kept;
    }

    onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer) {
      if (this.settled) return;
      this.chunks!.push(chunk);
      this.read += chunk.length;
      if (this.read >= READ_LIMIT_BYTES) this.cut(READ_ENOUGH);
    }

    onResponseEnd() {
      this.answered();
    }

    onResponseError(_controller: Dispatcher.DispatchController, error: Error) {
      if (this.statusCode !== null) this.answered(); // only reading the rest failed: the answer stands
      else this.failed(error, errorStage(error));
    }

    /** An answer arrived: its status decides, even when reading its body broke off. */
    private answered() {
      if (this.settled) return;
      const statusCode = this.statusCode!;
      const ok = statusCode >= 200 && statusCode < 300;
      const headers = this.responseHeaders ?? {};
      this.settle({
        statusCode,
        responseHeadersJson: JSON.stringify(headers),
        responseBody: Buffer.concat(this.chunks!).subarray(0, KEPT_BODY_BYTES).toString('utf8'),
        error: ok ? null : `HTTP ${statusCode}`,
        errorStage: ok ? null : 'http',
        retryAfterMs: parseRetryAfter(headers['retry-after'], Date.now()),
      });
    }

    /** No answer: the attempt failed at `stage` (also for a destination refused before dialling). */
    failed(error: unknown, stage: AttemptErrorStage) {
      this.settle({ statusCode: null, responseHeadersJson: null, responseBody: null, error: message(error), errorStage: stage });
    }

    private settle(outcome: Pick<SentAttempt, 'statusCode' | 'responseHeadersJson' | 'responseBody' | 'error' | 'errorStage' | 'retryAfterMs'>) {
      if (this.settled) return;
      this.settled = true;
      inFlight.delete(this);
      const requestHeadersJson = JSON.stringify(this.requestHeaders);
      const resolve = this.resolve!;
      const delivery = this.delivery!;
      this.release();
      resolve({ delivery, startedAt: this.startedAt, requestHeadersJson, durationMs: Date.now() - this.startedAt, ...outcome });
    }

    private release() {
      this.delivery = null;
      this.requestHeaders = null;
      this.resolve = null;
      this.controller = null;
      this.responseHeaders = null;
      this.chunks = null;
    }
  }

  /** One attempt. Its deadline cuts it with TIMED_OUT; `abortAll` (shutdown) with ABORTED. */
  function send(delivery: D): Promise<SentAttempt<D>> {
    const startedAt = Date.now();
    const requestHeaders: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      ...signWebhook({ id: delivery.eventId, timestamp: Math.floor(startedAt / 1000), body: delivery.body, secrets: delivery.secrets, protocolSecret: delivery.protocolSecret }),
      'x-protocol-event': delivery.eventType,
      'x-protocol-delivery': delivery.id,
      'x-protocol-attempt': String(delivery.attempt),
    };
    return new Promise((resolve) => {
      const attempt = new Attempt(delivery, startedAt, requestHeaders, resolve);
      const target = destination(delivery.url);
      if (target.blocked) return attempt.failed(new BlockedDestinationError(target.blocked), 'connect');
      inFlight.set(attempt, startedAt + options.timeoutMs);
      agent.dispatch({ origin: target.origin, path: target.path, method: 'POST', headers: requestHeaders, body: delivery.body }, attempt);
    });
  }

  // By the time the worker closes, every attempt has finished or been aborted: nothing is waited for.
  return {
    send,
    /** Cuts every attempt in flight short (shutdown); each still resolves, as a failure. */
    abortAll: () => {
      for (const attempt of inFlight.keys()) attempt.cut(ABORTED);
    },
    close: () => {
      clearInterval(sweeper);
      return agent.destroy();
    },
  };
}

export interface Sender<D extends Sendable = ClaimedDelivery> {
  send(delivery: D): Promise<SentAttempt<D>>;
  abortAll(): void;
  close(): Promise<void>;
}

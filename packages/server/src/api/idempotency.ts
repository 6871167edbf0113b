import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProtocolError, invalid } from '../errors.js';
import type { Store } from '../store/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set while this request is the first with its Idempotency-Key: its response is kept. */
    idempotencyKey?: string;
  }
}

const HEADER = 'idempotency-key';
/** How long a duplicate waits for the first request to finish before it is told to retry. */
const WAIT_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `Idempotency-Key` on any POST, as at Stripe: the first request runs and its status and body
 * are kept for 24 hours; a retry with the same key and the same request gets them back (with
 * `Idempotent-Replayed: true`) and changes nothing; the same key with a different request is a
 * 409. Keys are per account. A duplicate that arrives while the first is still running waits
 * for its answer. Requests that fail validation never reach this hook and keep no key; a 5xx
 * (nothing was changed) releases the key so the retry runs for real.
 *
 * Registered after authentication, inside the /v1 scope.
 */
export function installIdempotency(app: FastifyInstance, store: Store): void {
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers[HEADER];
    if (request.method !== 'POST' || key === undefined) return;
    if (typeof key !== 'string' || key.length === 0 || key.length > 255) throw invalid('The Idempotency-Key header must be 1 to 255 characters', HEADER);
    const fingerprint = fingerprintOf(request);
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const claim = await store.idempotency.claim(request.account, key, fingerprint);
      if (claim.kind === 'new') {
        request.idempotencyKey = key;
        return;
      }
      if (claim.kind === 'mismatch') {
        throw new ProtocolError('conflict', 'This Idempotency-Key was already used with a different request; use a new key for a new request', HEADER);
      }
      if (claim.kind === 'replay') {
        reply.status(claim.status).header('idempotent-replayed', 'true');
        if (claim.response) reply.header('content-type', 'application/json; charset=utf-8');
        return reply.send(claim.response || undefined);
      }
      if (Date.now() > deadline) throw new ProtocolError('conflict', 'A request with this Idempotency-Key is still being processed; retry shortly', HEADER);
      await sleep(25);
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const key = request.idempotencyKey;
    if (!key) return payload;
    request.idempotencyKey = undefined;
    if (reply.statusCode >= 500) await store.idempotency.release(request.account, key);
    else await store.idempotency.complete(request.account, key, reply.statusCode, typeof payload === 'string' ? payload : payload == null ? '' : String(payload));
    return payload;
  });
}

/**
 * What "the same request" means: method, path and parsed body (so key order and whitespace in
 * JSON, or JSON versus form, do not matter). An upload's body is a stream the handler reads, so
 * its length and type stand in for it.
 */
function fingerprintOf(request: FastifyRequest): string {
  const body = request.body === undefined ? `${request.headers['content-type']}:${request.headers['content-length']}` : canonical(request.body);
  return createHash('sha256').update(`${request.method} ${request.url}\n${body}`).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

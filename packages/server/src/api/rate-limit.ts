import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { ProtocolError } from '../errors.js';
import type { Store } from '../store/index.js';

/**
 * `PROTOCOL_RATE_LIMIT` requests per second per API key, with @fastify/rate-limit: a one-second
 * window per key, so a key may spend its whole second's allowance in one burst. Over it: 429,
 * `Retry-After` and the SPEC error body; every answer carries `x-ratelimit-limit`, `-remaining`
 * and `-reset`.
 *
 * Where the count lives: in this process on SQLite (one process serves the API there); in
 * PostgreSQL otherwise, so every API process shares one limit per key (one upsert per request
 * on an unlogged table).
 *
 * Returns the hook to run after authentication (it counts by key id), or undefined when off.
 */
export async function installRateLimit(app: FastifyInstance, store: Store, perSecond: number): Promise<preHandlerAsyncHookHandler | undefined> {
  if (perSecond <= 0) return undefined;
  await app.register(rateLimit, {
    global: false,
    max: perSecond,
    timeWindow: 1000,
    hook: 'preHandler',
    keyGenerator: (request: FastifyRequest) => request.keyId,
    ...(store.database.dialect === 'postgres' && { store: sharedStore(store) }),
    errorResponseBuilder: (_request, context) =>
      new ProtocolError('rate_limited', `Rate limit exceeded: at most ${context.max} requests per second per API key; retry in ${context.after}`),
  });
  return app.rateLimit() as preHandlerAsyncHookHandler;
}

/** @fastify/rate-limit's store interface over the `rate_limits` table: one window per wall-clock second. */
function sharedStore(store: Store) {
  return class SharedStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void): void {
      const now = Date.now();
      const second = Math.floor(now / 1000);
      store.rateLimits.hit(key, second).then(
        (current) => callback(null, { current, ttl: (second + 1) * 1000 - now }),
        (error: Error) => callback(error),
      );
    }
    child() {
      return this;
    }
  };
}

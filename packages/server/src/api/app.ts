import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import type { Logger } from 'pino';
import type { Lookup } from '../delivery/ssrf.js';
import type { FileStore } from '../files/file-store.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/index.js';
import { authenticate } from './auth.js';
import { installErrorHandler } from './error-handler.js';
import { installFormParser } from './forms.js';
import { installIdempotency } from './idempotency.js';
import { installOpenApi } from './openapi.js';
import { installRateLimit } from './rate-limit.js';
import { attachmentRoutes, fileRoutes } from './routes/attachments.js';
import { contactRoutes } from './routes/contacts.js';
import { conversationRoutes } from './routes/conversations.js';
import { eventRoutes } from './routes/events.js';
import { groupRoutes } from './routes/groups.js';
import { messageRoutes } from './routes/messages.js';
import { webhookRoutes } from './routes/webhooks.js';
import { probeRoutes } from './routes/probes.js';
import { accountRoutes, sessionRoutes } from './routes/session.js';
import { dashboardRoutes, type PageFallback } from './routes/dashboard.js';
import { refuseUnstorable, validatorCompiler } from './validation.js';

export const JSON_BODY_LIMIT = 1024 * 1024;
export const UPLOAD_LIMIT = 50 * 1024 * 1024;

export interface AppOptions {
  store: Store;
  files: FileStore;
  logger: Logger;
  metrics: Metrics;
  allowPrivateUrls: boolean;
  /** Requests per second per API key; 0 = off. */
  rateLimit: number;
  /** How long events, deliveries and attempts are kept. */
  retentionMs: number;
  /** DNS for webhook URL checks; tests inject a fake one. */
  lookup?: Lookup;
  /** Told about every route as it is added (the OpenAPI test lists them this way). */
  onRoute?: (route: { method: string | string[]; url: string }) => void;
}

const VERSION: string = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/**
 * The HTTP API. Request path: parse (JSON, form, multipart) → validate against the route's
 * schema → authenticate the key → rate limit → idempotency → the store, scoped to the key's
 * account → JSON. Every failure
 * on the way leaves through the one error handler.
 */
export async function buildApp({ store, files, logger, metrics, allowPrivateUrls, rateLimit, retentionMs, lookup, onRoute }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: JSON_BODY_LIMIT,
    // One access-log line per request (onResponse below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Answer a client that stops mid-body instead of waiting forever.
    requestTimeout: 60_000,
    return503OnClosing: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  if (onRoute) app.addHook('onRoute', onRoute);
  let pageFallback: PageFallback | undefined;
  installErrorHandler(app, { fallback: () => pageFallback });
  installFormParser(app, JSON_BODY_LIMIT);
  refuseUnstorable(app);
  await app.register(cookie);
  await app.register(multipart, { limits: { fileSize: UPLOAD_LIMIT, files: 1, fields: 10, parts: 12, fieldSize: 1024 } });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  await installOpenApi(app, VERSION);
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
  });

  probeRoutes(app, store, metrics);
  fileRoutes(app, store, files);

  await app.register(async (v1) => sessionRoutes(v1, store), { prefix: '/v1' });
  await app.register(
    async (v1) => {
      // In this order: who is calling, whether they may (rate limit), whether it already ran (idempotency).
      v1.addHook('preHandler', authenticate(store));
      const limit = await installRateLimit(v1, store, rateLimit);
      if (limit) v1.addHook('preHandler', limit);
      installIdempotency(v1, store);
      accountRoutes(v1, store, { rateLimit, retentionMs });
      contactRoutes(v1, store);
      conversationRoutes(v1, store);
      messageRoutes(v1, store);
      groupRoutes(v1, store);
      attachmentRoutes(v1, store, files);
      eventRoutes(v1, store);
      webhookRoutes(v1, store, { allowPrivateUrls, lookup });
    },
    { prefix: '/v1' },
  );
  pageFallback = await dashboardRoutes(app);
  return app;
}

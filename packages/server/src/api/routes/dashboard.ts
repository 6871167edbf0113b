import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The built single-page app (`npm install` builds it; `npm run build` rebuilds it). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../../dashboard/dist/', import.meta.url));

/** The dashboard talks only to its own origin; nothing may frame it. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
};

export type PageFallback = (request: FastifyRequest, reply: FastifyReply) => FastifyReply;

/**
 * Serves the dashboard at `/`. Returns the fallback the not-found handler uses for the app's own
 * client-side routes (a GET for a page, not an API path), which all answer with index.html.
 */
export async function dashboardRoutes(app: FastifyInstance): Promise<PageFallback> {
  if (!fs.existsSync(`${DASHBOARD_DIR}index.html`)) {
    return (_request, reply) => reply.status(503).type('text/plain').send('The dashboard is not built yet: run `npm run build`.');
  }
  await app.register(fastifyStatic, {
    root: DASHBOARD_DIR,
    prefix: '/',
    index: 'index.html',
    // Hashed asset names never change content; index.html must always be fresh.
    setHeaders: (res, file) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
      res.setHeader('cache-control', file.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
    },
  });
  return (_request, reply) => reply.headers({ ...SECURITY_HEADERS, 'cache-control': 'no-cache' }).sendFile('index.html');
}

/** A page of the app (not the API, files or probes) that the browser asked for as HTML. */
export function isPageRequest(request: FastifyRequest): boolean {
  const path = request.url.split('?')[0]!;
  return request.method === 'GET' && !/^\/(v1|files)(\/|$)/.test(path) && (request.headers.accept ?? '').includes('text/html');
}

import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics/metrics.js';
import type { Store } from '../../store/index.js';
import { Health } from '../responses.js';

/** `/healthz` (the process is up), `/readyz` (the database answers), `/metrics` (Prometheus). Served by every process. */
export function probeRoutes(app: FastifyInstance, store: Store, metrics: Metrics): void {
  app.get('/healthz', { schema: { summary: 'The process is up', response: { 200: Health } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { summary: 'The database answers', response: { 200: Health, 503: Health } } }, async (_request, reply) => {
    try {
      await store.ping();
      return { status: 'ready' };
    } catch {
      return reply.status(503).send({ status: 'unavailable', reason: 'database unreachable' });
    }
  });
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', produces: ['text/plain'] } }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

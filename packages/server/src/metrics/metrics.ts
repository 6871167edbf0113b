import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../store/index.js';

/**
 * Prometheus metrics of one process (SPEC §9): deliveries by outcome, attempt latency, and the
 * queue's depth and the age of its oldest due delivery (read from the database at scrape time,
 * so every process reports the shared queue).
 */
export function createMetrics(store: Store) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'protocol_process_' });
  const attempts = new Counter({
    name: 'protocol_delivery_attempts_total',
    help: 'Delivery attempts by outcome: succeeded, retrying (failed, another attempt scheduled) or failed (no attempt left).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'protocol_deliveries_total',
    help: 'Deliveries that reached a final state, by outcome (succeeded or failed).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const attemptDuration = new Histogram({
    name: 'protocol_delivery_attempt_duration_seconds',
    help: 'Duration of delivery attempts, from connect to the end of the response.',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const purged = new Counter({
    name: 'protocol_retention_purged_rows_total',
    help: 'History rows deleted by retention (PROTOCOL_RETENTION), by table.',
    labelNames: ['table'] as const,
    registers: [registry],
  });
  let stats: Promise<{ due: number; oldestDueAgeSeconds: number }> | undefined;
  // One query serves both gauges of a scrape.
  const queueStats = () => (stats ??= store.claims.queueStats().finally(() => setTimeout(() => (stats = undefined), 100)));
  new Gauge({
    name: 'protocol_delivery_queue_depth',
    help: 'Pending deliveries that are due now.',
    registers: [registry],
    async collect() {
      this.set((await queueStats()).due);
    },
  });
  new Gauge({
    name: 'protocol_delivery_queue_oldest_age_seconds',
    help: 'How long the oldest due pending delivery has been waiting.',
    registers: [registry],
    async collect() {
      this.set((await queueStats()).oldestDueAgeSeconds);
    },
  });
  return { registry, attempts, deliveries, attemptDuration, purged };
}

export type Metrics = ReturnType<typeof createMetrics>;

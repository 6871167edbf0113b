import type { Kysely } from 'kysely';
import { countFinishedSince } from '../webhook-stats.js';

/** Per-webhook, per-hour counters of finished deliveries, for the webhooks' 24 h health (webhook-stats.ts). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhook_stats')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('webhook_id', 'text', (c) => c.notNull())
    .addColumn('hour', 'bigint', (c) => c.notNull())
    .addColumn('succeeded', 'integer', (c) => c.notNull())
    .addColumn('failed', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('webhook_stats_pk', ['account_id', 'webhook_id', 'hour'])
    .execute();
  // An installation that already has deliveries keeps its last day's health (one scan of the
  // deliveries table, at upgrade only).
  await countFinishedSince(db, Math.floor(Date.now() / 1000) - 86_400);
}

import { sql, type Kysely } from 'kysely';

/**
 * The per-webhook status index becomes an index of failed deliveries only.
 *
 * `(account_id, webhook_id, status, seq)` moved an entry on every status change: each batch of
 * results rewrote a page of it per webhook, two thirds of the pages a batch of 64 successes
 * wrote (34 WAL frames → 10), and PostgreSQL added an entry to it on every lease and result.
 * Failed deliveries are the ones looked up by status (the dashboard's "failed" filter,
 * `recover`), and an entry is written only when a delivery fails for good. A webhook's pending
 * deliveries are read newest first through `deliveries_webhook`, back to the oldest pending
 * delivery only (`oldestPending`, status.ts); succeeded ones, most of any history, the same way.
 */
// Runs in the migrator's transaction: on PostgreSQL, writes to deliveries wait while the new
// index is built (one scan of the table, at upgrade only).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('deliveries_webhook_status').execute();
  await db.schema
    .createIndex('deliveries_failed')
    .on('deliveries')
    .columns(['account_id', 'webhook_id', 'seq'])
    .where(sql<boolean>`status = 'failed'`)
    .execute();
}

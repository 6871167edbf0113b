import { sql, type Kysely } from 'kysely';

/**
 * A webhook's deliveries are indexed by its key (`webhook_seq`, migration 008) instead of by
 * `(account_id, webhook_id)`: the two indexes every new delivery enters by webhook hold two
 * integers instead of two text ids and an integer.
 *
 * Measured alone on SQLite (session 20: the schema and the per-delivery statements, 20 webhooks):
 * the per-webhook index was ~5 µs of SQLite's 22–25 µs per delivery, as every transaction dirties
 * one leaf page of it per webhook, written whole to the WAL and copied again by the checkpoint;
 * keyed by integers its leaves hold more entries, and it cost about half. Queries still name the
 * account; they find the webhook's key first (its row, which they read anyway).
 */
// Runs in the migrator's transaction: on PostgreSQL, writes to deliveries wait while the indexes
// are built (one scan of the table each, at upgrade only).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('deliveries_webhook').execute();
  await db.schema.createIndex('deliveries_webhook').on('deliveries').columns(['webhook_seq', 'seq']).execute();
  await db.schema.dropIndex('deliveries_failed').execute();
  await db.schema
    .createIndex('deliveries_failed')
    .on('deliveries')
    .columns(['webhook_seq', 'seq'])
    .where(sql<boolean>`status = 'failed'`)
    .execute();
}

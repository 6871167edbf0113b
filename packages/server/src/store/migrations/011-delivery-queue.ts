import { sql, type Kysely } from 'kysely';
import type { Ddl } from './ddl.js';

/**
 * PostgreSQL: pending deliveries wait in a narrow queue of their own (`delivery_queue`: when each
 * is claimable and who leases it), so that a delivery's own row is written when it is created and
 * when an attempt ends, and that second write is a HOT update (a new version on the same page,
 * no index entry):
 *
 * - Before, the lease moved `due_at`, the due index's key, and the result changed `status`, in
 *   the predicates of the due and failed indexes: each wrote a new entry into every index of
 *   `deliveries`, ~14 index entries and ~6 WAL records per delivery. Now the lease writes the
 *   queue's two small ones, and a finished delivery's queue row is deleted.
 * - `deliveries` keeps half of each page free (`fillfactor`), room for the result's new version
 *   beside the old one, which HOT needs; without it the queue saved nothing (session 21).
 *
 * Measured alone (the insert, lease and result of 30,000 deliveries, one backend's CPU, session
 * 23): 60–61 µs per delivery before, 47–48 after; in the system, +8.5% saturated (session 21).
 * SQLite keeps its queue in `deliveries` (the due index and the lease columns): it has no HOT
 * update to win, rewrites only the indexes whose columns change, and paid 4–7% for the queue's
 * own row (session 21).
 *
 * Both: failed deliveries are indexed by `failed_at` instead of `status`, so that no index names
 * a column a success or a retry changes, and the queries stay one text for both databases.
 */
// Runs in the migrator's transaction: on PostgreSQL, writes to deliveries wait while the index
// is built and the queue filled (one scan of the table each, at upgrade only). Workers of the
// version before must be stopped first: they would keep leasing from `deliveries`, which no
// longer holds the queue. Leases already held move to the queue and run out as they would have.
export async function up(db: Kysely<any>, ddl: Ddl): Promise<void> {
  await db.schema.alterTable('deliveries').addColumn('failed_at', 'bigint').execute();
  await sql`update deliveries set failed_at = updated_at where status = 'failed'`.execute(db);
  await db.schema.dropIndex('deliveries_failed').execute();
  await db.schema
    .createIndex('deliveries_failed')
    .on('deliveries')
    .columns(['webhook_seq', 'seq'])
    .where(sql<boolean>`failed_at is not null`)
    .execute();
  if (ddl.dialect !== 'postgres') return;

  await db.schema
    .createTable('delivery_queue')
    // The delivery's own `seq`: the queue row names its delivery by key.
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    // For the claim's per-webhook exclusions, without a look at the delivery.
    .addColumn('webhook_id', 'text', (c) => c.notNull())
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .execute();
  await db.schema.createIndex('delivery_queue_due').on('delivery_queue').column('due_at').execute();
  // A leased delivery's `due_at` is its lease's end, as the queue's is; the lease moves to the queue.
  await sql`insert into delivery_queue (seq, webhook_id, due_at, lease_owner)
    select seq, webhook_id, coalesce(due_at, 0), lease_owner from deliveries where status = 'pending'`.execute(db);
  await sql`update deliveries set lease_owner = null, lease_expires_at = null where lease_owner is not null`.execute(db);
  await db.schema.dropIndex('deliveries_due').execute();
  // New pages only: rows written before the upgrade keep their pages as they are.
  await sql`alter table deliveries set (fillfactor = 50)`.execute(db);
}

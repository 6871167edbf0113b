import { sql, type Kysely } from 'kysely';
import type { Ddl } from './ddl.js';

/**
 * Deliveries name their event's and webhook's primary keys (`seq`), so the claim finds a body and
 * an endpoint by a unique key whatever the planner knows about the tables. Joined on
 * `(account_id, id)`, PostgreSQL without fresh statistics (a new installation, or autovacuum off)
 * sometimes read every event of the account per claimed delivery through `(account_id, seq)`:
 * ~280 rows for each one, 10–14 ms per claim of 64, and five times the database's CPU per
 * delivery in the benchmark. A primary key leaves no such choice.
 */
export async function up(db: Kysely<any>, ddl: Ddl): Promise<void> {
  await db.schema.alterTable('deliveries').addColumn('event_seq', ddl.seqType).execute();
  await db.schema.alterTable('deliveries').addColumn('webhook_seq', ddl.seqType).execute();
  // Existing deliveries, once, at upgrade (one pass over the table).
  await sql`update deliveries set
      event_seq = (select events.seq from events where events.account_id = deliveries.account_id and events.id = deliveries.event_id),
      webhook_seq = (select webhooks.seq from webhooks where webhooks.account_id = deliveries.account_id and webhooks.id = deliveries.webhook_id)`.execute(db);
}

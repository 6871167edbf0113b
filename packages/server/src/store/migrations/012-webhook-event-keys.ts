import { sql, type Kysely } from 'kysely';
import type { Ddl } from './ddl.js';

/**
 * A subscription names its webhook by key (`webhook_seq`) instead of by `(account_id, id)`, so
 * that fan-out finds each subscribed webhook by its primary key whatever the planner knows about
 * the tables, as migration 008 did for the claim.
 *
 * Joined on `(account_id, id)`, PostgreSQL without statistics (a new installation, or autovacuum
 * off) took an account's subscriptions for one row, and planned the lookup as a nested loop
 * reading every webhook of the account once per subscription: 87 ms a change for an account of
 * 1,000 webhooks against 1.5 by key (session 34), growing with the square of its webhooks. Joined
 * on `seq` alone, with scans priced out as in the worker's transactions (pinned.ts), the only
 * plan left reads each webhook by its primary key (fanout.test.ts: either change alone still
 * read ~150 webhooks per subscription). The key follows the account and the type in the primary
 * key, so the lookup's index holds all it reads of this table.
 */
// Runs in the migrator's transaction: on PostgreSQL, changes wait while the table is copied (its
// rows are a few per webhook, at upgrade only).
export async function up(db: Kysely<any>, ddl: Ddl): Promise<void> {
  await db.schema
    .createTable('webhook_events_next')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('webhook_seq', ddl.seqType, (c) => c.notNull())
    // Named apart from the old table's `webhook_events_pk`, which PostgreSQL holds until the drop.
    .addPrimaryKeyConstraint('webhook_events_key', ['account_id', 'type', 'webhook_seq'])
    .execute();
  await sql`insert into webhook_events_next (account_id, type, webhook_seq)
    select webhook_events.account_id, webhook_events.type, webhooks.seq from webhook_events
    join webhooks on webhooks.account_id = webhook_events.account_id and webhooks.id = webhook_events.webhook_id`.execute(db);
  await db.schema.dropTable('webhook_events').execute();
  await db.schema.alterTable('webhook_events_next').renameTo('webhook_events').execute();
}

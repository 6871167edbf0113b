import { sql, type Kysely } from 'kysely';
import type { Ddl } from './ddl.js';

/** Webhooks, their subscriptions, deliveries and attempts; test events stay out of the log. */
export async function up(db: Kysely<any>, ddl: Ddl): Promise<void> {
  await db.schema.alterTable('events').addColumn('test', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  await ddl
    .owned(db, 'webhooks')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('disabled_reason', 'text')
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('previous_secret', 'text')
    .addColumn('previous_secret_expires_at', 'bigint')
    .addColumn('failing_since', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhooks_account_seq').on('webhooks').columns(['account_id', 'seq']).execute();

  // One row per subscribed type: fan-out finds an event's webhooks with one indexed lookup on
  // both dialects, without JSON operators.
  await db.schema
    .createTable('webhook_events')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('webhook_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('webhook_events_pk', ['account_id', 'type', 'webhook_id'])
    .execute();

  await ddl
    .owned(db, 'deliveries')
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('webhook_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempt_count', 'integer', (c) => c.notNull())
    .addColumn('final_attempt', 'integer', (c) => c.notNull())
    .addColumn('due_at', 'bigint')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('last_attempt_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('deliveries_webhook').on('deliveries').columns(['account_id', 'webhook_id', 'seq']).execute();
  await db.schema.createIndex('deliveries_webhook_status').on('deliveries').columns(['account_id', 'webhook_id', 'status', 'seq']).execute();
  // The worker's claim: due pending deliveries, oldest first.
  await db.schema.createIndex('deliveries_due').on('deliveries').columns(['due_at']).where(sql<boolean>`status = 'pending'`).execute();

  await ddl
    .owned(db, 'attempts')
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('webhook_id', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('request_headers', 'text', (c) => c.notNull())
    .addColumn('response_headers', 'text')
    .addColumn('response_body', 'text')
    .addColumn('error', 'text')
    .addColumn('error_stage', 'text')
    .execute();
  await db.schema.createIndex('attempts_delivery').on('attempts').columns(['account_id', 'delivery_id', 'seq']).execute();
}

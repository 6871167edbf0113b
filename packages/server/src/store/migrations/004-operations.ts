import { sql, type Kysely } from 'kysely';
import type { Ddl } from './ddl.js';

/** Idempotency keys (replayed responses, 24 h) and the shared rate-limit counters. */
export async function up(db: Kysely<any>, ddl: Ddl): Promise<void> {
  await db.schema
    .createTable('idempotency_keys')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    // Null while the first request is still running; then its status and body.
    .addColumn('status_code', 'integer')
    .addColumn('response', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['account_id', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_keys_created').on('idempotency_keys').column('created_at').execute();

  // One counter per API key per second. Only PostgreSQL deployments use it (several API
  // processes share the limit); losing it in a crash only forgets the current second, so on
  // PostgreSQL it skips the WAL.
  await db.schema
    .createTable('rate_limits')
    .$call((t) => (ddl.seqType === 'bigint' ? t.modifyFront(sql`unlogged`) : t))
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('second', 'bigint', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_limits_pk', ['key_id', 'second'])
    .execute();
}

import { Migrator, sql, type Migration } from 'kysely';
import type { Database } from '../database.js';
import { ddlFor } from './ddl.js';
import * as initial from './001-initial.js';
import * as webhooks from './002-webhooks.js';
import * as sessions from './003-sessions.js';
import * as operations from './004-operations.js';
import * as failedIndex from './005-failed-deliveries-index.js';
import * as webhookStats from './006-webhook-stats.js';
import * as notifyTrigger from './007-notify-trigger.js';
import * as deliveryKeys from './008-delivery-keys.js';
import * as notifyAfterCommit from './009-notify-after-commit.js';
import * as webhookDeliveryKeys from './010-webhook-delivery-keys.js';
import * as deliveryQueue from './011-delivery-queue.js';
import * as webhookEventKeys from './012-webhook-event-keys.js';

/**
 * Versioned, forward-only migrations, applied at start-up and by `protocol migrate`.
 * Kysely's migrator holds a lock while it runs (a session advisory lock on PostgreSQL, the write
 * lock on SQLite), so several processes starting together apply each migration once
 * (`migrations.test.ts` starts three on a fresh database).
 */
const MIGRATIONS = [
  ['001-initial', initial],
  ['002-webhooks', webhooks],
  ['003-sessions', sessions],
  ['004-operations', operations],
  ['005-failed-deliveries-index', failedIndex],
  ['006-webhook-stats', webhookStats],
  ['007-notify-trigger', notifyTrigger],
  ['008-delivery-keys', deliveryKeys],
  ['009-notify-after-commit', notifyAfterCommit],
  ['010-webhook-delivery-keys', webhookDeliveryKeys],
  ['011-delivery-queue', deliveryQueue],
  ['012-webhook-event-keys', webhookEventKeys],
] as const;

/** Applies every migration not yet applied, or (`to`, for upgrade tests) those up to and including `to`. */
export async function migrate(database: Database, to?: (typeof MIGRATIONS)[number][0]): Promise<string[]> {
  const ddl = ddlFor(database.dialect);
  const migrations: Record<string, Migration> = {};
  for (const [name, module] of MIGRATIONS) migrations[name] = { up: (db) => module.up(db, ddl) };
  // Kysely looks for its bookkeeping tables in every schema unless told which one; two databases
  // in one PostgreSQL (say, a schema per test file) would then see each other's and race.
  const migrationTableSchema =
    database.dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(database.db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({ db: database.db, provider: { getMigrations: async () => migrations }, ...(migrationTableSchema && { migrationTableSchema }) });
  const { error, results } = await (to ? migrator.migrateTo(to) : migrator.migrateToLatest());
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
